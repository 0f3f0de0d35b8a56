"""The department whose duty a report names (`agents/governance` duty_department): a whole duty, or a specific duty
word of three or more characters, that only one department's duties use decides; everyday two-character pieces of a
longer duty, a tie or no such phrase decide nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.agents.governance.agent import _by_duty, duty_department


@pytest.mark.parametrize(("text", "department"), [
    ("健身广场边上的公共厕所一直锁着门", "sanitation"),  # the whole duty 公共厕所 outweighs 公园-like short duties
    ("对面那家餐馆的餐饮油烟呛得人开不了窗", "ecology"),  # the whole duty 餐饮油烟
    ("我们整栋楼从早上起就停电了", "power"),  # the whole duty 停电
    ("年终奖的个人所得税该怎么算", "tax"),  # the whole duty 个人所得税
    ("街口自来水管破裂，水漫了一地", "water"),
])
def test_a_duty_phrase_names_its_department(city: Path, text: str, department: str) -> None:
    found = duty_department(text)
    assert found is not None and found[0] == department


@pytest.mark.parametrize("text", [
    "我想投诉楼上深夜还在敲墙装修",  # 投诉 is only a piece of 消费投诉
    "我个人认为这个路口的红灯太长",  # 个人 of 个人所得税
    "商场门口的共享电动车乱成一团",  # 共享 of 政务数据共享
    "小区花园里有人放大型犬不拴绳",  # 小区 of 老旧小区改造
    "门前的积雪一直没人管，麻烦尽快处理",  # 处理 of 污水处理
    "路边饭馆的油烟和烧烤摊的烟一起飘过来",  # bare 油烟 / 烧烤 are pieces of longer duties
    "想问一下许可证去哪里办",  # 许可证 ends many unrelated compounds
    "隔壁天天半夜唱歌",
    "",
])
def test_everyday_words_name_nothing(city: Path, text: str) -> None:
    assert duty_department(text) is None


def test_the_answer_promises_no_transfer(city: Path) -> None:
    also, why = _by_duty("这条街的公共厕所坏了好几天", "urban")
    assert also == ["sanitation"]
    assert "12345" in why and "会转办" not in why
    assert _by_duty("这条街的公共厕所坏了好几天", "sanitation") == ([], "")
