"""The department whose duty a report names (`agents/governance` duty_department): a word that only one department's
duties use decides; a tie or no such word decides nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.agents.governance.agent import duty_department


@pytest.mark.parametrize(("text", "department"), [
    ("公园旁边那个公共厕所脏得没法进", "sanitation"),  # 公共厕所 (sanitation) is longer than 公园 (greening)
    ("楼下饭馆的油烟直接冲我家窗户", "ecology"),  # 油烟 of 餐饮油烟
    ("俺家这片儿又停电咧，一天停三回", "power"),
    ("公交车到站不停，直接开走了好几次", "transport"),
])
def test_a_duty_word_names_its_department(city: Path, text: str, department: str) -> None:
    found = duty_department(text)
    assert found is not None and found[0] == department


@pytest.mark.parametrize("text", [
    "楼下烧烤店油烟直接往我家窗户里灌",  # 烧烤 (urban) and 油烟 (ecology) tie: nothing is decided
    "隔壁天天半夜唱歌",
    "",
])
def test_no_word_or_a_tie_names_nothing(city: Path, text: str) -> None:
    assert duty_department(text) is None
