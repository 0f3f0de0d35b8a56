"""Overrides found by auditing pairs of bundled texts on the same matters (`law_relations.yaml`): one per
principle — a special rule for its own subject, a higher law over an older regulation, a later regulation of the
same organ over an earlier one — and the answerer citing the governing provision first."""

from __future__ import annotations

from pathlib import Path

from aicity.hub.knowledge.extractive import extractive_answer
from aicity.hub.knowledge.relations import HIGHER, NEWER, SPECIAL, relations
from aicity.identity.models import Role
from aicity.identity.service import Principal

CITIZEN = Principal(Role.citizen)


def _governing(doc: str, article: str, question: str) -> tuple[str, str, list[str]] | None:
    found = relations().override_for(doc, article, question)
    return (found.governed_by.doc, found.governed_by.article, found.principles) if found else None


def test_a_food_seizure_may_be_extended_by_45_days_not_the_general_30() -> None:
    # 行政强制法第二十五条 defers to 行政法规; the food-safety regulation's own period governs food only
    got = _governing("行政强制法", "第二十五条", "食品被市场监管局扣押了，最长能扣多久")
    assert got is not None and got[:2] == ("食品安全法实施条例", "第六十一条") and SPECIAL in got[2]
    assert _governing("行政强制法", "第二十五条", "城管扣押我的三轮车能扣多久") is None


def test_the_social_insurance_law_governs_medical_cover_for_the_unemployed() -> None:
    got = _governing("失业保险条例", "第十九条", "领失业金期间生病了医药费怎么办")
    assert got is not None and got[:2] == ("社会保险法", "第四十八条") and HIGHER in got[2]


def test_the_later_social_assistance_measures_say_who_sets_the_subsistence_line() -> None:
    got = _governing("城市居民最低生活保障条例", "第六条", "低保标准由谁定")
    assert got is not None and got[:2] == ("社会救助暂行办法", "第十条") and got[2] == [NEWER]


def test_an_answer_on_medical_cover_while_unemployed_cites_the_law_not_the_regulation(city: Path) -> None:
    found = extractive_answer("领取失业保险金期间生病就医，医疗费用怎么解决", CITIZEN)
    assert not any(c.doc_key == "失业保险条例" and c.locator.startswith("第十九条") and c.status == "in_force"
                   for c in found.citations)
    assert any(c.doc_key == "社会保险法" and c.locator.startswith("第四十八条") for c in found.citations)
    assert "医疗补助金" not in (found.rule or "")
