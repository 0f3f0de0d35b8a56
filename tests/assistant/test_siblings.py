"""The catalog item among its siblings (`assistant/siblings`) and the departments an emergency's answer names
(`agents/city_safety/emergency`): the request's own words and the duties decide, not a word in passing."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.agents.city_safety.emergency import guidance
from aicity.assistant.siblings import Siblings, asked_act
from aicity.hub.catalog import service as catalog


@pytest.fixture(scope="module")
def siblings(city: Path) -> Siblings:
    return Siblings(catalog.catalog().items)


@pytest.mark.parametrize(("text", "act"), [
    ("社保卡丢了，补一张要钱吗", "replace"),
    ("公司不做了，营业执照要注销", "cancel"),
    ("驾驶证快到期了", "renew"),
    ("网吧想换地址，许可证要重新办吗", "change"),
    ("房产证上名字打错了一个字", "correct"),
    ("老爸去世了，他那套房子要过到我名下", "inherit"),
    ("第一次办营业执照", None),
])
def test_the_act_asked_is_read_from_the_request(text: str, act: str | None) -> None:
    assert asked_act(text) == act


def test_the_item_whose_name_the_request_says_wins_a_close_call(siblings: Siblings) -> None:
    # the city's synonyms add 转移登记 to 过户: the vehicle transfer's routes score higher, but 燃气过户 is said whole
    scored = {"traffic_police.vehicle_transfer": 8.3, "gas.account_transfer": 6.2,
              "natural_resources.real_estate_transfer_registration": 6.5}
    assert siblings.rank("燃气过户咋办", scored) == "gas.account_transfer"


def test_a_request_that_names_no_act_is_for_the_first_time_item(siblings: Siblings) -> None:
    scored = {"culture_tourism.entertainment_venue_change": 10.0, "culture_tourism.entertainment_venue_license": 9.5}
    assert siblings.rank("开个酒吧，娱乐场所经营许可证怎么办", scored) == "culture_tourism.entertainment_venue_license"
    assert siblings.rank("娱乐场所改扩建，许可证要重新核发吗", scored) == "culture_tourism.entertainment_venue_change"


def test_a_slip_in_a_record_asks_its_correction_and_a_death_its_inheritance(siblings: Siblings) -> None:
    scored = {"natural_resources.registration_info_query": 10.0, "natural_resources.correction_registration": 8.0,
              "natural_resources.inheritance_registration": 7.5, "natural_resources.change_registration": 8.0}
    assert siblings.rank("房产证上我的名字写错了一个字，怎么改过来", scored) == \
        "natural_resources.correction_registration"
    assert siblings.rank("我爸去世了，他名下那套房子要转到我名下", scored) == \
        "natural_resources.inheritance_registration"
    # an item's name may be for two acts: 户口登记项目变更更正 corrects as it changes
    assert siblings.act_factor("correct", "public_security.hukou_info_change") == \
        siblings.act_factor("change", "public_security.hukou_info_change") > 1.0


def test_a_slip_of_pinyin_input_still_says_the_name(siblings: Siblings) -> None:
    slip = "户口签出要办什么手续"  # 签出 for 迁出
    assert siblings.said(slip, "public_security.hukou_emigration") > siblings.said(
        slip, "public_security.birth_registration")
    assert siblings.said("营业执照怎么办", "no.such_item") == 0.0


def test_an_item_far_below_the_best_is_not_taken(siblings: Siblings) -> None:
    scored = {"traffic_police.vehicle_transfer": 20.0, "gas.account_transfer": 2.0}
    assert siblings.rank("燃气过户咋办", scored) == "traffic_police.vehicle_transfer"
    assert siblings.rank("燃气过户咋办", {}) is None


@pytest.mark.parametrize(("text", "hazard", "departments"), [
    ("电梯卡在两层中间，里面关着个老人出不来", "lift", {"fire"}),  # the lift's owner, and fire and rescue for the person
    ("高压线被风吹断掉在马路上，还在冒火花", "electric_shock", set()),  # sparks from a line are the grid's, not a fire
    ("危化品仓库冒白烟，味道呛人", "chemical", {"fire"}),
    ("车祸！两车相撞，有人受伤躺在路上", "traffic_accident", {"traffic_police"}),
    ("后山滑坡了，泥石流冲到房子边上", "landslide", {"natural_resources"}),
    ("南湖区汉西一路房顶塌了一块", "collapse", set()),  # the road in the address did not cave in
    ("厨房里煤气味好重，我头都有点晕了", "gas_leak", set()),
    # a fire is a fire wherever it burns: at a socket, a switchboard or a line, in a lift, with people inside
    ("插座冒烟着火了", "fire", {"fire"}),
    ("电箱着火了", "fire", {"fire"}),
    ("配电房起火了", "fire", {"fire"}),
    ("家里电线短路起火了", "fire", {"fire"}),
    ("楼里着火了，有人困在里面出不来", "fire", {"fire"}),  # fire's escape steps, and its rescue duty
    ("厂房着火了，有人被困", "fire", {"fire"}),
    ("电梯里冒烟了", "fire", {"fire"}),
    ("火车站人太多，挤得走不动了", "crowd_crush", set()),  # 火车, 火锅, 火柴 are no fire
    ("火锅店门口人太多挤成一团", "crowd_crush", {"public_security"}),  # the police: 人群聚集 (also the dispatched one)
    ("楼道里一股刺鼻的化学品味道，有人在抽烟", "chemical", {"fire"}),  # smoking is no fire
])
def test_an_emergency_names_the_departments_whose_duties_it_touches(text: str, hazard: str,
                                                                     departments: set[str]) -> None:
    found = guidance().hazard(None, text)
    assert found.id == hazard
    assert {d for d, _ in guidance().duties(found, text)} == departments
