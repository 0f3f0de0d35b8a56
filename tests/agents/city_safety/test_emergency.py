"""The emergency guidance (`demo/data/assistant/emergency.yaml`): which hazard a detected emergency is about, and
which departments' duties its answer names."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.agents.city_safety.emergency import guidance
from aicity.hub.events.classify import categories
from aicity.identity import service as identity


@pytest.mark.parametrize(("text", "hazard"), [
    ("工地塔吊在大风里晃得厉害，下面还有工人", "construction_site"),
    ("脚手架歪了，眼看要倒在人行道上", "construction_site"),
    ("台风把一棵大树刮倒了，横在马路中间", "tree_fall"),
    ("a fallen tree is blocking the whole road", "tree_fall"),
    ("地铁口人挤人，有人摔倒被踩了", "crowd_crush"),
    ("加油站旁边一股很浓的汽油味，有人头晕", "chemical"),
    ("楼下饭店着火了，浓烟往楼上冒", "fire"),
    ("地下室进水已经淹到配电房门口了", "dangerous_water"),  # a power room in a flood is not a shock
])
def test_the_hazard_of_an_emergency(text: str, hazard: str) -> None:
    assert guidance().hazard(None, text).id == hazard


@pytest.mark.parametrize(("text", "department"), [
    ("商场里有人喊着火了，大家往外跑，好多人被挤倒", "public_security"),  # a crush inside a fire: the police too
    ("大树倒下来砸到公交站，有人被压在下面", "fire"),  # someone under it: fire and rescue
    ("两车追尾，车头在冒烟，司机卡在驾驶室里", "traffic_police"),  # a fire first, and a traffic accident
])
def test_a_situation_inside_a_hazard_names_its_department(text: str, department: str) -> None:
    g = guidance()
    assert department in dict(g.duties(g.hazard(None, text), text))


def test_a_hazard_names_no_department_the_text_does_not_describe() -> None:
    g = guidance()
    text = "楼道里全是烟，消防员还没到 waiting for the firefighters"
    assert g.duties(g.hazard(None, text), text) == []


def test_every_hazard_files_a_known_category_and_names_known_departments(city: Path) -> None:
    known = {d.id for d in identity.list_departments()}
    g = guidance()
    for hazard in g.hazards:
        assert hazard.category is None or hazard.category in categories()
        assert set(hazard.departments) <= known
    assert {a.department for a in g.also} <= known
