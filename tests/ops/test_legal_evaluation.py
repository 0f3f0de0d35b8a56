"""How the legal evaluation decides that an answer states a rule phrase."""

from __future__ import annotations

import pytest

from aicity.ops.evaluation import rule_stated


@pytest.mark.parametrize(("rule", "answer"), [
    ("30日内", "应当自收到申请之日起三十日内作出决定。"),  # digits or Chinese numerals alike
    ("三十日内", "应当自收到申请之日起30日内作出决定。"),
    ("5万元以上20万元以下", "处五万元以上二十万元以下罚款"),
    ("百分之五", "不得低于职工上一年度月平均工资的5%"),
    ("提前三日通知", "提前 三 日通知用人单位"),  # spacing
])
def test_a_rule_is_stated_whichever_way_its_numbers_are_written(rule: str, answer: str) -> None:
    assert rule_stated(rule, answer)


@pytest.mark.parametrize(("rule", "answer"), [
    ("五日内", "应当在十五日内提出"),  # a number only as a whole
    ("1年内", "自事故发生之日起11年内"),
    ("十日内", "三十日内作出决定"),
    ("三十日内", "六十日内作出决定"),  # an unrelated number
    ("试用期不得超过二个月", "试用期不得超过六个月"),
    ("", "任何回答"),
])
def test_another_number_does_not_state_the_rule(rule: str, answer: str) -> None:
    assert not rule_stated(rule, answer)
