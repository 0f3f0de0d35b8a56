"""The provision-level overrides of `law_relations.yaml`: each names provisions of the corpus, a special
rule holds only for its own matters, and the answerer never presents an overridden provision as the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.hub.knowledge.demo import check_overrides
from aicity.hub.knowledge.extractive import extractive_answer
from aicity.hub.knowledge.relations import HIGHER, SPECIAL, relations
from aicity.identity.models import Role
from aicity.identity.service import Principal

CITIZEN = Principal(Role.citizen)


def test_every_override_names_provisions_of_the_knowledge_base(city: Path) -> None:
    check_overrides(relations())  # raises naming any provision the corpus lacks


def test_a_subject_limited_override_comes_before_the_general_one_for_its_provision() -> None:
    # override_for takes the first entry that applies: a general entry listed first would hide the special one
    seen_general: set[tuple[str, str]] = set()
    for o in relations().overrides:
        key = (o.provision.doc, o.provision.article)
        assert not (o.when and key in seen_general), f"{o.provision.label()}: `when` entry after the general one"
        if not o.when:
            seen_general.add(key)


@pytest.mark.parametrize(("doc", "article", "question", "governing"), [
    ("行政处罚法", "第三十六条", "偷税的事五年前的，现在发现了还罚吗", ("税收征收管理法", "第八十六条")),
    ("行政处罚法", "第三十六条", "被人殴打当时没报警，过了几个月还能处罚吗", ("治安管理处罚法", "第二十二条")),
    ("行政处罚法", "第五十一条", "交警当场能罚多少", ("道路交通安全法", "第一百零七条")),
    ("行政处罚法", "第五十一条", "治安案件民警当场能罚多少", ("治安管理处罚法", "第一百条")),
    ("消费者权益保护法", "第五十五条", "买到不合格的奶粉能要几倍赔偿", ("食品安全法", "第一百四十八条")),
    ("特种设备安全监察条例", "第八十三条", "电梯检验不合格继续使用罚多少", ("特种设备安全法", "第八十四条")),
    ("特种设备安全监察条例", "第八十三条", "电梯没有办使用登记罚多少", ("特种设备安全法", "第八十三条")),
])
def test_a_special_rule_governs_the_questions_that_name_its_matter(doc: str, article: str, question: str,
                                                                    governing: tuple[str, str]) -> None:
    found = relations().override_for(doc, article, question)
    assert found is not None and (found.governed_by.doc, found.governed_by.article) == governing


def test_the_general_rule_stands_where_no_special_matter_is_named() -> None:
    rel = relations()
    assert rel.override_for("行政处罚法", "第三十六条", "行政违法行为多久没被发现就不再处罚") is None
    assert rel.override_for("消费者权益保护法", "第五十五条", "买到假冒手机能要几倍赔偿") is None


def test_a_marriage_under_duress_is_annulled_by_the_court_not_the_registry(city: Path) -> None:
    found = extractive_answer("被逼结婚的，可以去民政局撤销婚姻吗", CITIZEN)
    first = found.citations[0]
    assert (first.doc_key, first.locator.split()[0]) == ("民法典·婚姻家庭编", "第一千零五十二条")
    assert "人民法院" in (found.rule or "")
    why = "\n".join(found.notes)
    assert "婚姻登记条例》第九条" in why and HIGHER in why and "一年内" in why
    assert all(c.status != "in_force" for c in found.citations
               if c.doc_key == "婚姻登记条例" and c.locator.startswith("第九条"))


def test_the_tax_law_limitation_period_governs_tax_penalties_and_says_why(city: Path) -> None:
    found = extractive_answer("五年前少报了税，现在被查到还会罚款吗", CITIZEN)
    first = found.citations[0]
    assert (first.doc_key, first.locator.split()[0]) == ("税收征收管理法", "第八十六条")
    why = "\n".join(found.notes)
    assert SPECIAL in why and "行政处罚法》第三十六条" in why
    assert not any(c.doc_key == "行政处罚法" and c.locator.startswith("第三十六条") and c.status == "in_force"
                   for c in found.citations)


def test_the_law_fines_a_hotel_that_hides_a_wanted_guest_not_the_older_measures(city: Path) -> None:
    found = extractive_answer("旅馆前台明知住客是通缉犯不报告，怎么处罚", CITIZEN)
    first = found.citations[0]
    assert (first.doc_key, first.locator.split()[0]) == ("治安管理处罚法", "第五十六条")
    assert "二百元以上五百元以下" in (found.rule or "")
    assert all(c.status != "in_force" for c in found.citations
               if c.doc_key == "旅馆业治安管理办法" and c.locator.startswith("第十六条"))


def test_special_equipment_fines_follow_the_law_not_the_older_regulation(city: Path) -> None:
    found = extractive_answer("电梯检验不合格还继续用，罚多少", CITIZEN)
    first = found.citations[0]
    assert (first.doc_key, first.locator.split()[0]) == ("特种设备安全法", "第八十四条")
    assert "三万元以上三十万元以下" in (found.rule or "")
    assert "2000元以上2万元以下" not in (found.rule or "")
    assert any("特种设备安全监察条例》第八十三条" in n for n in found.notes)
