"""Legal answers that state the rule, know which provision governs, and catalog citations that
are checked against the article text on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.demo.loader import data_dir
from aicity.hub.catalog import service as catalog
from aicity.hub.catalog.schemas import LegalRef
from aicity.hub.knowledge.extractive import (
    _BEFORE,
    QUESTION_TYPES,
    _best,
    _best_excerpt,
    _listed,
    _rule_text,
    _same_article,
    _score,
    actor,
    anchored,
    asker,
    defers_to_levels,
    extractive_answer,
    fits,
    focused,
    numbers,
    question_types,
    sentences,
)
from aicity.hub.knowledge.grounded import citation_fault
from aicity.hub.knowledge.relations import (
    HIGHER,
    NEWER,
    SPECIAL,
    LegalTerms,
    RelationsError,
    deferred_levels,
    infer_level,
    legal_terms,
    parse_relations,
    relations,
)
from aicity.hub.knowledge.service import Hit, citing_articles
from aicity.identity.models import Role
from aicity.identity.service import Principal

CITIZEN = Principal(Role.citizen)


def test_question_types() -> None:
    assert "duration" in question_types("工伤认定申请的期限是多久？")
    assert question_types("投入使用后多少天内要办理登记？") == ["duration"]  # 多少天 asks how long, not how much
    assert question_types("工地半夜施工有没有违法？") == ["whether"]  # whether it is lawful, not the penalty
    assert "penalty" in question_types("违法建设怎么处理")
    assert {"penalty", "amount"} <= set(question_types("占用消防通道罚款多少？"))
    assert "whether" in question_types("个体户换经营者必须先注销吗")
    assert question_types("食品安全") == ["general"]
    assert "duration" in question_types("申请工伤认定有没有时间限制")
    assert "amount" in question_types("试用期工资最低是转正工资的几成？")


def test_answer_patterns_name_what_answers() -> None:
    who, whether, penalty = (QUESTION_TYPES[t][1] for t in ("who", "whether", "penalty"))
    assert who.search("遗失物自发布招领公告之日起一年内无人认领的，归国家所有。")
    assert whether.search("违反治安管理行为在六个月内没有被公安机关发现的，不再处罚。")
    assert penalty.search("九十日内未申请登记的，预告登记失效。")
    assert not who.search("拾得人应当及时通知权利人领取。")


def test_sentences_carry_paragraph_and_item_locators() -> None:
    text = "第九条 具备下列条件的，可以申请：\n（一）年满十八周岁；\n（二）无犯罪记录。\n机关应当自受理之日起十日内作出决定。"
    found = sentences("第九条", text, 0)
    assert [s.locator for s in found] == ["第九条 第一款", "第九条 第一款 第一项", "第九条 第一款 第二项", "第九条 第二款"]
    assert found[1].text == "具备下列条件的，可以申请：（一）年满十八周岁；"  # a 项 keeps its 款's lead-in
    assert found[3].quote == "机关应当自受理之日起十日内作出决定。"


def test_a_continued_clause_keeps_what_it_continues() -> None:
    text = "第九条 违反本法规定，餐饮服务经营者诱导消费者超量点餐的，责令改正，给予警告；拒不改正的，处一千元以上一万元以下罚款。"
    fine = sentences("第九条", text, 0)[1]
    assert fine.text.startswith("拒不改正的") and fine.context.startswith("违反本法规定，餐饮服务经营者诱导")
    listed = "第十条 有下列行为之一的，由文化行政部门给予警告，可以并处15000元以下的罚款；情节严重的，吊销许可证：\n（一）接纳未成年人的；"
    item = sentences("第十条", listed, 0)[-1]
    assert "15000元以下的罚款" in item.text and item.text.endswith("（一）接纳未成年人的；")  # the whole lead-in


def test_a_lead_in_that_announces_its_items_is_said_with_the_best_one() -> None:
    text = "第七条 下列人员不能作为遗嘱见证人：\n（一）无民事行为能力人；\n（二）继承人、受遗赠人。\n遗嘱应当注明年、月、日。"
    found = sentences("第七条", text, 0)
    for s, score in zip(found, (3.0, 1.0, 2.0, 0.5), strict=True):
        s.score = score
    lead = _listed(found[0], found, "谁不能当遗嘱见证人？")
    assert lead.locator == "第七条 第一款 第二项" and lead.text == "下列人员不能作为遗嘱见证人：（二）继承人、受遗赠人。"
    assert _listed(found[3], found, "谁不能当遗嘱见证人？") is found[3]  # a sentence that states its rule stays the rule
    found[1].score = 2.0
    assert _listed(found[0], found, "谁不能当遗嘱见证人？") is found[0]  # no 项 stands out: the lead-in stays


def test_a_lead_in_is_said_with_every_item_that_bears_on_the_question_alike() -> None:
    text = ("第七条 下列人员不能作为遗嘱见证人：\n（一）无民事行为能力人；\n（二）继承人、受遗赠人；\n"
            "（三）与继承人、受遗赠人有利害关系的人。")
    found = sentences("第七条", text, 0)
    for s, score in zip(found, (2.0, 0.5, 3.0, 3.0), strict=True):
        s.score = score
    lead = _listed(found[0], found, "继承人能不能当见证人？")
    assert lead.text == "下列人员不能作为遗嘱见证人：（二）继承人、受遗赠人；（三）与继承人、受遗赠人有利害关系的人。"
    assert _rule_text(lead, found) == lead.text  # nothing follows a lead-in said with several 项
    found[3].score = 3.5  # one 项 stands out: it alone is said
    assert _listed(found[0], found, "继承人能不能当见证人？") is found[3]


def test_the_limit_or_remedy_in_the_next_sentence_is_said_with_the_rule() -> None:
    text = "第九条 停工留薪期一般不超过12个月。伤情严重的，可以适当延长，但延长不得超过12个月。\n其他规定。"
    found = sentences("第九条", text, 0)
    for s, score in zip(found, (5.0, 2.0, 4.0), strict=True):
        s.score = score
    assert _rule_text(found[0], found).endswith("但延长不得超过12个月。")
    found[1].score = 1.0  # a sentence that bears on the question much less stays out
    assert _rule_text(found[0], found) == "停工留薪期一般不超过12个月。"


def test_items_that_share_no_word_of_the_question_are_told_apart_by_its_characters() -> None:
    text = "第九条 七日内可以退货，但下列商品除外：\n（一）消费者定作的；\n（二）鲜活易腐的；\n（三）在线下载的数字化商品。"
    found = sentences("第九条", text, 0)
    for s in found:
        s.score = 1.0  # 海鲜 and 鲜花 are no word of any 项
    assert _listed(found[0], found, "网上买的海鲜能退吗？").text.endswith("（二）鲜活易腐的；")
    assert _listed(found[0], found, "在网上订的鲜花能退吗？").text.endswith("（二）鲜活易腐的；")  # 在 is no clue
    assert _listed(found[0], found, "网上买的衣服能退吗？") is found[0]  # nothing tells them apart
    alone = [found[0], found[1]]
    found[1].score = 0.0
    assert _listed(found[0], alone, "网上买的衣服能退吗？") is found[0]  # the only 项 retrieved, bearing on nothing
    assert _listed(found[0], alone, "我自己定作的柜子能退吗？").text.endswith("（一）消费者定作的；")  # …or on the question


def test_an_everyday_word_finds_the_item_it_falls_under(city: Path) -> None:
    found = extractive_answer("网上买的活虾能七天无理由退货吗？", CITIZEN)
    assert "（二）鲜活易腐的" in (found.rule or "")  # 活虾 is no word of the 项, its characters are


def test_the_rule_for_the_actor_the_question_is_about() -> None:
    assert actor("所在单位应当自事故伤害发生之日起30日内提出工伤认定申请。") == "organisation"
    assert actor("用人单位未按前款规定提出工伤认定申请的，工伤职工或者其近亲属在事故伤害发生之日起1年内，"
                 "可以直接提出工伤认定申请。") == "person"  # who may act, not the condition's subject
    assert actor("单位违反本法规定，有下列行为之一的，责令改正，处五千元以上五万元以下罚款：") == "organisation"
    assert actor("个人有前款第二项行为之一的，处警告或者五百元以下罚款。") == "person"
    assert actor("对单位处5万元以上10万元以下罚款，对个人处5000元以上5万元以下罚款。") is None  # both fined
    assert asker("单位不给我报工伤，我自己去申请有期限吗") == "person"
    assert asker("把自己的医保卡借给亲戚会怎样") is None and asker("在一个单位干满几年能签无固定期限合同") is None


def test_the_asked_persons_rule_is_the_answer(city: Path) -> None:
    found = extractive_answer("公司不给我申请工伤认定，我自己去申请有没有期限？", CITIZEN)
    assert found.citations[0].locator == "第十七条 第二款" and "1年内" in (found.rule or "")
    fine = extractive_answer("个人在楼道堆东西堵了消防通道，会罚多少？", CITIZEN)
    assert fine.citations[0].locator == "第六十条 第二款" and "五百元以下" in (fine.rule or "")


def test_the_word_after_the_question_cue_is_what_it_asks_about() -> None:
    asked = "业主想改变共有部分的用途，要怎样表决？"
    assert focused("业主共同决定事项，应当由三分之二以上的业主参与表决。", asked, ["procedure"])
    assert not focused("下列事项由业主共同决定：（八）改变共有部分的用途；", asked, ["procedure"])
    # a cue of another type (怎么处罚 → penalty) is weighed by its type, not again here
    assert not focused("依照有关法律规定给予处罚。", "收取押金怎么处罚？", ["penalty", "procedure"])


def test_the_number_attached_to_the_asked_action_answers() -> None:
    question = "劳动能力鉴定结论要多久内作出？"
    assert anchored("鉴定委员会应当自收到申请之日起60日内作出劳动能力鉴定结论", question)
    assert not anchored("对鉴定结论不服的，可以在收到该鉴定结论之日起15日内向省级委员会提出再次鉴定申请", question)
    assert anchored("应当提前三十日书面通知", "要提前多少天通知？")  # the word before the cue
    assert not anchored("应当提前书面通知", "要提前多少天通知？")  # no number at all
    assert anchored("经营者应当自收到退回商品之日起七日内返还价款", "商家多少天内要退款？")  # 退款 ~ 返还


def test_the_answer_quotes_the_paragraphs_that_bear_on_the_question(city: Path) -> None:
    found = extractive_answer("工伤职工劳动能力鉴定结论要多久内作出？", CITIZEN)
    first = found.citations[0]
    assert (first.doc_key, first.locator) == ("工伤保险条例", "第二十五条 第二款") and "60日内" in (found.rule or "")
    # another provision found is cited at its 款 that bears on the question, not only at its opening
    vote = extractive_answer("业主改变共有部分用途，需要怎样表决？", CITIZEN)
    assert vote.citations[0].locator.startswith("第二百七十八条")
    # the 款 that does the voting (表决, the word after the cue) states the rule, not the 项 naming the matter
    assert vote.citations[0].locator == "第二百七十八条 第二款" and "三分之二以上" in (vote.rule or "")


def test_another_provision_is_shown_by_the_sentence_that_bears_on_the_question() -> None:
    text = ("第九条 申请人应当提交下列材料：\n（一）身份证明；\n（二）住所证明。\n"
            "机关应当自受理之日起十日内作出决定。逾期未作决定的，视为准予。")
    found = sentences("第九条", text, 1)
    for s in found:
        s.score = 3.0 if "住所" in s.text else 1.0
    hit = Hit(doc="某条例", doc_key="某条例", locator="第九条 第一款", text=found[0].quote, kb="global", score=1.0)
    assert _best_excerpt(hit, 1, found) == "申请人应当提交下列材料：（二）住所证明。"  # the 项, with its lead-in
    for s in found:
        s.score = 3.0 if "视为准予" in s.text else 1.0
    assert _best_excerpt(hit, 1, found) == "……逾期未作决定的，视为准予。"  # a later sentence of its 款
    for s in found:
        s.score = 3.0 if "申请人应当提交" in s.text and not s.lead_in else 1.0
    assert _best_excerpt(hit, 1, found) == "第九条 申请人应当提交下列材料："  # the opening, as before


def test_calculation_and_english_questions_have_their_types() -> None:
    assert question_types("被辞退了，经济补偿金怎么算？") == ["amount"]  # a calculation, not a procedure
    assert question_types("干了三年，补偿几个月工资？") == ["amount"]  # months of wages are an amount, not a span
    assert question_types("How long do I have to apply?") == ["duration"]
    assert question_types("Who approves the licence?") == ["who"]
    assert "penalty" in question_types("What is the fine for selling expired food?")


def test_a_stated_age_or_span_picks_the_condition_it_meets() -> None:
    question = "签了两年的劳动合同，试用期能约定多久？"
    assert fits("劳动合同期限一年以上不满三年的，试用期不得超过二个月；", question)
    assert not fits("三年以上固定期限和无固定期限的劳动合同，试用期不得超过六个月。", question)
    assert not fits("劳动合同期限不满三个月的，不得约定试用期。", question)
    assert fits("不满十四周岁的人违反治安管理的，不予处罚", "13岁的孩子打人会被处罚吗")
    assert not fits("已满十四周岁不满十六周岁的；", "13岁的孩子打人会被处罚吗")
    assert fits("六个月以上的，不再处罚", "七个多月前打了一架")  # about so many: 七个多月 is seven months
    assert not fits("处二千元以上一万元以下罚款", "罚款5000元逾期不交怎么办")  # a sum is not a condition met
    # 超过 excludes its bound: one month is not "more than one month"
    assert not fits("自用工之日起超过一个月不满一年未订立书面劳动合同的", "一个月结一次工资合法吗")
    assert fits("自用工之日起超过一个月不满一年未订立书面劳动合同的", "入职两个月还没签合同")
    # an English question's quantities count in the statutes' units
    assert fits("不得利用不满十周岁的未成年人作为广告代言人", "Can a 9-year-old child be an endorser?")
    assert not fits("不得利用不满十周岁的未成年人作为广告代言人", "Can a 12-year-old child be an endorser?")


def test_an_english_question_asks_about_the_earlier_regime_only_when_it_names_a_text() -> None:
    assert _BEFORE.search("What did the old law say about this?")
    assert _BEFORE.search("Was it different before the regulation took effect?")
    assert not _BEFORE.search("Can a 12-year-old child open an account?")
    assert not _BEFORE.search("Can I quit before my contract ends?")


def test_a_calculation_is_answered_by_the_formula_not_a_definition(city: Path) -> None:
    found = extractive_answer("被单位辞退了，经济补偿金额怎么计算？", CITIZEN)
    assert (found.citations[0].doc_key, found.citations[0].locator) == ("劳动合同法", "第四十七条 第一款")
    assert "每满一年支付一个月工资" in (found.rule or "") and "所称" not in (found.rule or "")


def test_a_higher_text_that_only_shares_the_matter_does_not_displace_the_rule(city: Path) -> None:
    found = extractive_answer("因工死亡的一次性工亡补助金标准是多少？", CITIZEN)
    assert (found.citations[0].doc_key, found.citations[0].locator) == ("工伤保险条例", "第三十九条 第一款 第三项")
    assert "20倍" in (found.rule or "")


def test_no_time_limit_answers_a_question_about_one(city: Path) -> None:
    found = extractive_answer("税务机关对偷税追征税款有期限吗", CITIZEN)
    assert found.citations[0].locator == "第五十二条 第三款" and "不受前款规定期限的限制" in (found.rule or "")


def test_a_penalty_found_through_the_duty_it_names(city: Path) -> None:
    cited = [c.locator for c in citing_articles("劳动合同法", "第四十七条")]
    assert "第八十七条" in cited and "第四十七条" not in cited
    assert citing_articles("没有这部法", "第一条") == []
    found = extractive_answer("公司违法把我辞退了，赔偿金按几个月工资算？", CITIZEN)
    assert "第八十七条" in [c.locator for c in found.citations] and "二倍" in found.answer


def test_the_penalty_leads_when_the_question_names_the_wrong(city: Path) -> None:
    found = extractive_answer("公司违法把我辞退了，赔偿金按几个月工资算？", CITIZEN)
    assert (found.citations[0].doc_key, found.citations[0].locator) == ("劳动合同法", "第八十七条")
    assert "二倍" in (found.rule or "")


def test_numbers_are_read_in_both_scripts() -> None:
    assert numbers("投入使用后三十日内") == {30} and numbers("30日内") == {30}
    assert numbers("处5万元以上二十万元以下罚款") == {50000, 200000} and numbers("十五日") == {15}


def test_the_higher_text_governs_a_rule_both_state(city: Path) -> None:
    found = extractive_answer("特种设备投入使用后多少天内要办理使用登记？", CITIZEN)
    first = found.citations[0]
    assert (first.doc_key, first.locator.split()[0]) == ("特种设备安全法", "第三十三条")  # not the older regulation
    assert "三十日内" in (found.rule or "")
    assert any("上位法优于下位法" in n and "特种设备安全监察条例" in n for n in found.notes)
    assert relations().is_superior("特种设备安全法", "特种设备安全监察条例")
    assert not relations().is_superior("特种设备安全监察条例", "特种设备安全法")


def test_a_transitional_provision_is_not_the_rule(city: Path) -> None:
    found = extractive_answer("单位新招的职工，多少天内要办住房公积金缴存登记？", CITIZEN)
    assert "本条例施行前" not in (found.rule or "")


def test_the_deadline_in_a_later_paragraph_is_the_answer(city: Path) -> None:
    found = extractive_answer("不采用告知承诺方式申请公众聚集场所消防安全检查，消防救援机构要在多少个工作日内检查？",
                              CITIZEN)
    assert found.rule and "十个工作日内" in found.rule  # the third 款, not the first
    first = found.citations[0]
    assert (first.doc_key, first.locator) == ("消防法", "第十五条 第三款")
    assert found.answer.startswith(found.rule)
    assert "[^1]" in found.answer.split("\n")[0]


def test_the_amount_is_stated_with_the_item_that_carries_it(city: Path) -> None:
    fine = extractive_answer("单位占用、堵塞、封闭消防通道会被罚多少钱？", CITIZEN)
    assert "五千元以上五万元以下" in (fine.rule or "") and "占用、堵塞、封闭消防车通道" in (fine.rule or "")
    assert fine.citations[0].doc_key == "消防法" and fine.citations[0].locator == "第六十条 第一款 第五项"


def test_a_conflict_is_answered_by_the_governing_provision_with_the_reason(city: Path) -> None:
    found = extractive_answer("个体工商户要更换经营者，是不是得先注销再由新经营者重新登记？", CITIZEN)
    first = found.citations[0]
    assert (first.doc_key, first.locator.split()[0]) == ("促进个体工商户发展条例", "第十三条")
    assert "直接向市场主体登记机关申请办理变更登记" in (found.rule or "")
    why = "\n".join(found.notes)
    assert "上位法优于下位法" in why and "市场主体登记管理条例实施细则" in why and "行政法规" in why
    # the overridden rule is shown only as such, never first and never as the rule
    overridden = [c for c in found.citations if (c.doc_key, c.locator.split()[0]) in
                  {("市场主体登记管理条例实施细则", "第三十八条"), ("个体工商户条例", "第十条")}]
    assert overridden and all(c.status in ("overridden", "superseded") for c in overridden)
    assert "注销登记后" not in (found.rule or "")


def test_the_higher_law_governs_what_a_regulation_fines_less(city: Path) -> None:
    found = extractive_answer("网吧放未成年人进去上网，最多能罚多少？", CITIZEN)
    assert (found.citations[0].doc_key, found.citations[0].locator.split()[0]) == ("未成年人保护法", "第一百二十三条")
    assert "五万元以上五十万元以下" in found.answer and any("上位法优于下位法" in n for n in found.notes)
    assert all(c.status != "in_force" for c in found.citations if c.doc_key == "互联网上网服务营业场所管理条例"
               and c.locator.startswith("第三十一条"))


def test_a_higher_text_found_further_down_still_governs(city: Path) -> None:
    found = extractive_answer("公司换了法人，变更登记要在多长时间内去办", CITIZEN)
    assert (found.citations[0].doc_key, found.citations[0].locator.split()[0]) == ("市场主体登记管理条例", "第二十四条")
    assert "30日内" in (found.rule or "")
    # the implementing rules that repeat it, when quoted at all, come after (the article votes now find the higher
    # text first, so no note on the swap is needed; test_the_higher_text_governs_a_rule_both_state keeps one)
    assert [c.doc_key for c in found.citations].index("市场主体登记管理条例") == 0


def test_a_special_rule_governs_only_its_own_matters(city: Path) -> None:
    permit = extractive_answer("建筑工程施工许可证申请后，主管部门多久发证？", CITIZEN)
    assert permit.citations[0].doc_key == "建筑法" and "七日内" in (permit.rule or "")
    general = relations().override_for("行政许可法", "第四十二条", "行政许可决定一般多少天作出")
    assert general is None  # no special matter named: the general rule stands


def test_relations_data_is_checked() -> None:
    rel = relations()
    assert rel.level("市场主体登记管理条例实施细则") == "部门规章" and rel.level("民法典·婚姻家庭编") == "法律"
    assert rel.rank("促进个体工商户发展条例") > rel.rank("市场主体登记管理条例实施细则")
    assert infer_level("某某法") == "法律" and infer_level("某某条例") == "行政法规" and infer_level("某办法") == "部门规章"
    bad = {"overrides": [{"provision": {"doc": "甲", "article": "第一条"}, "governed_by": {"doc": "乙", "article": "第二条"},
                          "principles": ["强者优先"], "reason": "x", "source": "y"}]}
    with pytest.raises(RelationsError, match="unknown principle"):
        parse_relations({}, bad)
    with pytest.raises(RelationsError, match="unknown level"):
        parse_relations({"documents": {"甲": {"level": "通知"}}}, {})


def test_a_model_answer_must_cite_the_governing_provision() -> None:
    assert citation_fault("可以直接变更[^2]。", 3, governing=1) == "governing-not-cited"
    assert citation_fault("可以直接变更[^1]。", 3, governing=1) is None


def test_the_bundled_catalog_citations_are_verified(city: Path) -> None:
    report = catalog.check_citations(catalog.read_catalog_dir(data_dir() / "catalog"))
    assert report.problems == []
    assert report.refs > 600 and report.coverage == 1.0  # every citation checked: a quote or a key term
    assert report.quoted > 300 and report.quoted + report.key_terms == report.refs


def test_a_citation_that_names_nothing_of_its_entry_fails(city: Path) -> None:
    loaded = catalog.read_catalog_dir(data_dir() / "catalog")
    loaded.items["civil_affairs.marriage_registration"].legal_basis.append(LegalRef(doc="消防法", article="第一条"))
    report = catalog.check_citations(loaded)
    assert report.coverage < 1.0
    assert any(p.startswith("civil_affairs.marriage_registration: 《消防法》第一条 与事项无关") for p in report.problems)


def test_a_wrong_article_fails_the_catalog_load(city: Path) -> None:
    loaded = catalog.read_catalog_dir(data_dir() / "catalog")
    departments = {i.department for i in loaded.items.values()} | {p.department for p in loaded.policies.values()}
    item = loaded.items["market.food_business_license"]
    # 第十四条 exists, but it does not say that a licence is valid for 5 years
    item.legal_basis[2] = LegalRef(doc="食品安全法实施条例", article="第十四条", quote="食品生产经营许可的有效期为5年")
    with pytest.raises(catalog.CatalogError, match="第十四条 中没有“食品生产经营许可的有效期为5年”"):
        catalog.store_catalog(loaded, departments)
    # a statutory deadline that no cited article states fails too
    loaded = catalog.read_catalog_dir(data_dir() / "catalog")
    permit = loaded.items["housing.construction_permit"]
    permit.legal_basis = [r for r in permit.legal_basis if r.doc != "建筑法"]
    with pytest.raises(catalog.CatalogError, match="housing.construction_permit: 法定时限 7 日"):
        catalog.store_catalog(loaded, departments)
    assert catalog.get_item("housing.construction_permit").legal_basis[0].doc == "建筑法"  # nothing was stored


def test_everyday_and_english_words_find_the_statutes_terms() -> None:
    terms = LegalTerms({"裁减人员": ["裁员"], "工伤": ["work injury"], "有效期": ["valid for"]})
    assert terms.statute_terms("公司要一次性裁员三十人") == ["裁减人员"]
    assert terms.statute_terms("Is a work injury valid for claims?") == ["工伤", "有效期"]
    assert terms.statute_terms("裁减人员要报告吗") == []  # the question already uses the statute's word
    assert terms.statute_terms("my homework injury") == []  # Latin phrases match whole words only
    assert terms.statute_terms("is a work injury claim valid forever?") == ["工伤"]  # …at both ends
    assert terms.statute_terms("公司说这是work injury吗") == ["工伤"]  # beside Chinese text too
    with pytest.raises(RelationsError):
        LegalTerms({"裁减人员": "裁员"})  # type: ignore[dict-item]
    bundled = legal_terms()
    assert "裁减人员" in bundled.statute_terms("公司裁员要走什么程序")
    assert bundled.statute_terms("how many redundancies need a report?") == ["裁减人员"]
    # no English word found inside a longer one, no Chinese phrase inside an unrelated word
    assert bundled.statute_terms("elderly care card") == ["老年人"]  # not 机动车 (car)
    assert bundled.statute_terms("I am quite sure") == []  # not 解除劳动合同 (quit)
    assert bundled.statute_terms("a minor traffic offence") == []  # not 未成年人
    assert "收养" not in bundled.statute_terms("退休后按月领养老金")
    assert "收养" in bundled.statute_terms("领养孩子要什么条件")
    assert "经济补偿" not in bundled.statute_terms("买到过期食品能要赔偿金吗")  # civil damages, not severance


def test_a_phrase_written_with_homophones_finds_the_statutes_term() -> None:
    terms = LegalTerms({"互联网上网服务营业场所": ["网吧"], "住房公积金": ["公积金"], "工伤": ["work injury"]})
    assert terms.statute_terms("楼下新开的网巴几点关门") == ["互联网上网服务营业场所"]  # 网巴: typed by pinyin
    assert terms.statute_terms("我想查一下住房公基金余额") == ["住房公积金"]
    assert terms.homophones("个体工商户要年报吗") == []  # 工商 is a word of its own (in 工商户), not a slip for 工伤
    assert terms.homophones("网吧可以通宵营业吗") == []  # written right: the exact phrase, not a homophone
    assert terms.homophones("旺八") == []  # the same sound with no character in common is no match


def test_ordinary_words_are_not_taken_for_homophones() -> None:
    bundled = legal_terms()
    assert "补偿" in bundled.homophones("拆迁的补尝标准是多少")  # 补尝: a slip for 补偿
    # 看了 sounds like the vocabulary's 砍了, but a phrase ending in 了 says too little to be a slip
    assert bundled.homophones("有人去看了吗") == []
    assert bundled.homophones("我看了一下这条规定") == []
    # 工商 and 发钱 are words of the dictionary's own, not slips for 工伤 and 罚钱 (罚款)
    assert bundled.homophones("工商税务社保能一起变更吗") == []
    assert bundled.homophones("一次性发钱的创业补贴") == []


def test_a_higher_level_text_outranks_without_a_declared_relation() -> None:
    rel = relations()
    assert rel.outranks("特种设备安全法", "特种设备安全监察条例") == HIGHER  # declared
    assert rel.outranks("未成年人保护法", "互联网上网服务营业场所管理条例") == HIGHER  # by level alone
    assert rel.outranks("互联网上网服务营业场所管理条例", "未成年人保护法") is None
    assert rel.outranks("劳动合同法", "劳动合同法") is None
    assert rel.outranks("工伤保险条例", "失业保险条例") is None  # the same level: no principle by level
    # a text of no rank (a 规范性文件, or a level the table lacks) is not outranked by level alone
    ranked = parse_relations({"documents": {"劳动法": {"level": "法律"}, "工作指引": {"level": "规范性文件"}}}, {})
    assert ranked.outranks("劳动法", "工作指引") is None
    assert ranked.outranks("工作指引", "劳动法") is None


def test_which_text_governs_by_the_three_principles() -> None:
    npcsc, state_council = "全国人民代表大会常务委员会", "国务院"
    rel = parse_relations({"documents": {
        "甲法": {"level": "法律", "authority": npcsc, "effective": "2021-01-01"},
        "乙法": {"level": "法律", "authority": npcsc, "effective": "2013-01-01"},
        "丙条例": {"level": "行政法规", "authority": state_council, "effective": "2022-01-01"},
        "丁规定": {"level": "部门规章", "authority": "某部", "effective": "2023-01-01"},
        "戊规定": {"level": "部门规章", "authority": "另一部", "effective": "2015-01-01"},
        "己规定": {"level": "部门规章", "authority": "某部", "effective": "2020-01-01"},
        "庚规定": {"level": "部门规章", "authority": "另一部", "effective": "2024-01-01", "covers": ["己规定"]}}}, {})
    assert rel.prevails("甲法", "乙法") == NEWER and rel.prevails("乙法", "甲法") is None
    laws_only = deferred_levels("法律另有规定")
    assert rel.prevails("乙法", "甲法", defers_to=laws_only) == SPECIAL  # 法律另有规定的除外
    assert rel.prevails("丙条例", "甲法", defers_to=laws_only) is None  # …defers to laws, not regulations
    assert rel.prevails("甲法", "丙条例") == HIGHER and rel.prevails("甲法", "甲法") is None
    # 新法优于旧法 only between texts of the same organ (立法法第一百零三条), or one that covers the other
    assert rel.prevails("丁规定", "戊规定") is None and rel.prevails("丁规定", "己规定") == NEWER
    assert rel.prevails("庚规定", "己规定") == NEWER


def test_a_deferral_names_the_levels_it_leaves_the_matter_to() -> None:
    text = "第十条 经营者应当遵守本法规定，法律、行政法规另有规定的除外。"
    assert defers_to_levels(text) == {"法律", "行政法规"}
    assert defers_to_levels("法律、法规另有规定的，依照其规定。") == {"法律", "行政法规", "地方性法规"}
    assert defers_to_levels("法律、法规、规章另有规定的，从其规定。") >= {"部门规章", "地方政府规章"}
    assert defers_to_levels("本法自公布之日起施行。") is None
    rel = parse_relations({"documents": {"甲法": {"level": "法律", "effective": "2013-01-01"},
                                         "丙条例": {"level": "行政法规", "effective": "2022-01-01"},
                                         "丁规定": {"level": "部门规章", "effective": "2023-01-01"}}}, {})
    assert rel.prevails("丙条例", "甲法", defers_to=defers_to_levels(text)) == SPECIAL
    assert rel.prevails("丁规定", "甲法", defers_to=defers_to_levels(text)) is None  # a 规章 is not deferred to


def test_a_doubted_text_yields_to_the_one_that_governs_and_the_answer_says_why(city: Path) -> None:
    special = extractive_answer("打架三个月后才被发现，行政处罚法说两年内都能罚，对吗？", CITIZEN)
    first = special.citations[0]
    assert (first.doc_key, first.locator.split()[0]) == ("治安管理处罚法", "第二十二条")
    assert "不再处罚" in (special.rule or "")
    assert any("特别法优于一般法" in n and "《行政处罚法》第三十六条" in n for n in special.notes)
    # the corpus holds the 2017 text of 网络安全法, older than 个人信息保护法 (2021, the same organ's law);
    # its 2025 amendment (in force 2026) is not in the corpus, and the answer says so
    newer = extractive_answer("违法处理个人信息情节严重的，网络安全法规定最高罚一百万元，是这样吗？", CITIZEN)
    assert newer.citations[0].doc_key == "个人信息保护法" and "五千万元以下" in (newer.rule or "")
    assert any("新法优于旧法" in n and "网络安全法" in n for n in newer.notes)
    assert any(n.startswith("提示：《网络安全法》2025年10月28日修正") for n in newer.notes)


def test_how_many_people_is_answered_by_a_number_of_persons(city: Path) -> None:
    assert "count" in question_types("代书遗嘱得有几个人在场见证？")
    found = extractive_answer("找人代笔立遗嘱，要几个人在场？", CITIZEN)
    assert found.citations[0].locator == "第一千一百三十五条" and "两个以上见证人" in (found.rule or "")


def test_a_calendar_date_is_no_span_of_time() -> None:
    text = "第四十二条 本法自2020年1月1日起施行。\n本法施行前依法设立的外商投资企业，在本法施行后五年内可以继续保留原企业组织形式。"
    took_effect, kept_for = sentences("第四十二条", text, 0)
    # the day a text takes effect does not answer how long: the span its next 款 sets does
    assert _score(took_effect, {}, ["duration"], "多久") == 0.0
    assert _score(kept_for, {}, ["duration"], "多久") > 0.0


def test_another_paragraph_of_the_governing_article_that_bears_on_the_question_is_quoted() -> None:
    text = "第十三条 经营者应当明码标价。\n经营者不得收取任何未予标明的费用。\n本条自公布之日起施行。"
    lead, other, last = sentences("第十三条", text, 0)
    lead.score, other.score, last.score = 1.0, 0.4, 0.1
    # a later 款 scoring well below the lead still states the rule asked about; one scoring next to nothing does not
    assert _same_article(lead, [lead, other, last]) == [("第十三条 第二款", "经营者不得收取任何未予标明的费用。")]


def test_a_definition_does_not_lead_where_a_rule_scores_as_well() -> None:
    terms = sentences("第七十八条", "第七十八条 本法中下列用语的含义:\n（一）疫点:指病原体从传染源向周围播散的范围较小的地区。", 0)
    kinds = sentences("第三条", "第三条 本法规定的传染病分为甲类、乙类和丙类。", 1)
    found = terms + kinds
    # nothing bears on an English question: the provision that states a rule leads, not the definitions found first
    assert _best(found, "Which diseases are in Class A?").locator == "第三条"
    # …unless the question asks what a term means
    assert _best(found, "疫点是什么意思？").locator == "第七十八条"
    assert _best(found, "What counts as an epidemic spot?").locator == "第七十八条"
