"""Drafting official documents (issue #15, Office A): every kind passes every GB/T 9704 rule the
checker reads; numbers come from the issuer's register and never repeat; the drafter quotes the
knowledge center exactly; bad requests are refused before anything is numbered or stored."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aicity.agents.office import checker, documents, drafting
from aicity.agents.office.docx_writer import OfficialDoc, title_lines, write_docx
from aicity.agents.office.kinds import KINDS, OfficeInputError, UnknownKind, get_kind, kind_of
from aicity.hub.events import service as events_service
from aicity.hub.knowledge import service as kb
from aicity.identity.models import Role
from aicity.identity.service import Principal
from tests.support.concurrency import run_together

OFFICIAL = Principal(Role.official, department="gov_office")


def test_kinds_are_the_fifteen_of_the_regulation() -> None:
    assert len(KINDS) == 15
    assert [k for k in KINDS if KINDS[k].has_signer] == ["报告", "请示"]
    assert KINDS["函"].layout == "letter" and KINDS["纪要"].layout == "minutes" and KINDS["通知"].layout == "file"
    assert kind_of("关于转发省政府关于防汛工作的报告的通知") == "通知"
    assert kind_of("江城市人民政府令") == "命令（令）"
    assert kind_of("专题会议纪要") == "纪要"
    assert kind_of("关于法令宣传") is None
    with pytest.raises(UnknownKind):
        get_kind("公函")


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_drafts_to_a_document_that_passes_every_rule(city: Path, kind: str) -> None:
    made = drafting.draft("起草一份关于开展燃气安全隐患排查整治的公文", kind=kind, principal=OFFICIAL)
    assert made.kind == kind
    assert made.title.endswith("会议纪要" if kind == "纪要" else ("命令" if kind == "命令（令）" else kind))
    findings = checker.check_docx(made.docx)
    assert not checker.failed(findings), [f for f in findings if not f.ok]
    if KINDS[kind].has_signer:
        assert any(f.rule == "signer.upward" and f.ok for f in findings)
    assert made.doc_number and "〔" in made.doc_number


def test_a_notice_cites_the_law_exactly_and_names_the_departments(city: Path) -> None:
    made = drafting.draft("起草一份关于开展燃气安全隐患排查整治的通知", principal=OFFICIAL)
    assert made.title == "关于开展燃气安全隐患排查整治的通知"
    assert made.recipients == ["各区人民政府", "市政府各部门"]
    assert made.citations and made.citations[0]["doc"] == "城镇燃气管理条例"
    quotes = re.findall(r"《([^》]+)》(第[^条]+条)规定：“([^”]+)”", made.text)
    assert len(quotes) == len(made.citations)
    for law, locator, quote in quotes:  # every quotation is in the provision the knowledge center holds
        cited = next(c for c in made.citations if c["doc"] == law and c["locator"] == locator)
        article = kb.get_article(cited["doc_key"], locator)
        assert article is not None and quote in article.text.replace("\n", "")
    assert drafting.check_quotes(made.text.split("\n"), made.citations) is None
    assert "gas" in made.departments and "市燃气管理处" in made.text
    assert made.doc_number.startswith("江政办发〔")  # type: ignore[union-attr]
    stored = documents.get_document(made.document_id, OFFICIAL)
    assert stored.direction == "out" and stored.status == "draft" and stored.file == made.docx


def test_a_quotation_that_is_not_in_the_citations_is_caught() -> None:
    cited = [{"doc": "城镇燃气管理条例", "locator": "第四十一条", "text": "第四十一条 燃气经营者应当建立健全燃气安全评估和风险管理体系。"}]
    assert drafting.check_quotes(["《城镇燃气管理条例》第四十一条规定：“燃气经营者应当建立健全燃气安全评估和风险管理体系。”"],
                                 cited) is None
    assert "不符" in drafting.check_quotes(["《城镇燃气管理条例》第四十一条规定：“燃气经营者可以不管。”"], cited)  # type: ignore[operator]
    assert "未检索到" in drafting.check_quotes(["《城镇燃气管理条例》第九十九条规定：“……”"], cited)  # type: ignore[operator]
    assert "未引用" in drafting.check_quotes(["依据《某某条例》办理。"], cited)  # type: ignore[operator]


def test_a_request_for_instructions_goes_up_with_a_signer_and_a_letter_goes_across(city: Path) -> None:
    up = drafting.draft("向市政府请示增加城区防汛排涝应急经费", issuer="water", principal=OFFICIAL)
    assert up.kind == "请示" and up.title == "关于增加城区防汛排涝应急经费的请示"
    assert up.recipients == ["江城市人民政府"] and up.doc_number.startswith("江水发〔")  # type: ignore[union-attr]
    letter = drafting.draft("给市水务局发函商请协助做好汛期道路积水监测", principal=OFFICIAL)
    assert letter.kind == "函" and letter.layout == "letter" and letter.recipients == ["江城市水务局"]
    assert letter.doc_number.startswith("江政办函〔")  # type: ignore[union-attr]


def test_numbers_follow_each_other_and_never_repeat_under_concurrent_drafts(city: Path) -> None:
    numbers, errors = run_together(
        lambda: drafting.draft("起草关于做好冬季供水保障的通知", issuer="hrss", principal=OFFICIAL).doc_number or "", 4)
    assert not errors, errors
    assert len(numbers) == 4 and len(set(numbers)) == 4, numbers
    seqs = sorted(int(n.split("〕")[1].rstrip("号")) for n in numbers)
    assert seqs == list(range(seqs[0], seqs[0] + 4))


@pytest.mark.parametrize(("request_text", "kwargs", "message"), [
    ("", {}, "请说明"),
    ("起草一份通知", {}, "事由"),
    ("起草一份关于燃气安全的通知", {"kind": "公函"}, "未知文种"),
    ("起草一份关于燃气安全的通知", {"issuer": "火星局"}, "未知发文机关"),
    ("起" * 2001, {}, "过长"),
    ("帮我写一篇在全市安全生产大会上的讲话稿", {}, "不是党政机关公文的文种"),
    ("写个防汛工作的PPT提纲", {}, "不是党政机关公文的文种"),
])
def test_bad_requests_are_refused_and_nothing_is_numbered(city: Path, request_text: str, kwargs: dict,
                                                          message: str) -> None:
    before = len(documents.list_documents("out", principal=Principal(Role.admin), limit=500))
    with pytest.raises(OfficeInputError, match=message):
        drafting.draft(request_text, principal=OFFICIAL, **kwargs)
    assert len(documents.list_documents("out", principal=Principal(Role.admin), limit=500)) == before


def test_drafting_is_for_staff_only(city: Path) -> None:
    with pytest.raises(Exception, match="工作人员"):
        drafting.draft("起草一份关于燃气安全的通知", principal=Principal(Role.citizen))


def test_documents_are_read_by_their_department_and_by_admins(city: Path) -> None:
    made = drafting.draft("起草关于加强校园食品安全的通知", issuer="education",
                          principal=Principal(Role.official, department="education", key_id="k-edu"))
    other = Principal(Role.official, department="water", key_id="k-water")
    with pytest.raises(Exception, match="不存在"):
        documents.get_document(made.document_id, other)
    assert all(d.id != made.document_id for d in documents.list_documents(principal=other, limit=500))
    assert documents.get_document(made.document_id, Principal(Role.admin)).title == made.title
    moved = documents.set_status(made.document_id, "issued", Principal(Role.admin))
    assert moved.status == "issued"
    with pytest.raises(OfficeInputError):
        documents.set_status(made.document_id, "shredded", Principal(Role.admin))


def test_the_layout_refuses_a_document_without_title_or_issuer() -> None:
    with pytest.raises(OfficeInputError):
        write_docx(OfficialDoc(kind="通知", title=" ", issuers=["江城市水务局"], body=["正文。"]))
    with pytest.raises(OfficeInputError):
        write_docx(OfficialDoc(kind="通知", title="关于某事的通知", issuers=[], body=["正文。"]))
    with pytest.raises(ValueError):
        write_docx(OfficialDoc(kind="通知", title="关于某事的通知", issuers=["江城市水务局"], body=["正文。"],
                               date="2026-13-40"))


def test_a_joint_issuance_stacks_the_issuers_beside_wenjian() -> None:
    data = write_docx(OfficialDoc(kind="通知", title="关于联合开展燃气安全检查的通知", issuers=[
        "江城市住房和城乡建设局", "江城市应急管理局", "江城市消防救援支队"], body=["一、工作安排", "各单位要认真落实。"],
        doc_number="江建发〔2026〕3号", recipients=["各区人民政府"], date="2026-12-06", cc=["市政府办公室"],
        printer="江城市住房和城乡建设局"))
    assert not checker.failed(checker.check_docx(data))


def _body_lines(text: str) -> list[str]:
    lines = text.split("\n")
    start = 3  # title, blank line, 主送机关
    return lines[start:lines.index("", start)]


def test_a_model_rewrite_is_used_only_when_its_quotations_and_headings_hold(city: Path, llm) -> None:  # type: ignore[no-untyped-def]
    request = "起草一份关于开展燃气安全隐患排查整治的通知"
    assert drafting.model_enabled()  # the scripted model serves chat-large now
    llm.set(script=[{"content": "not json"}])
    plain = drafting.draft(request, principal=OFFICIAL)
    assert plain.writer == "embedded" and plain.fallback
    body = _body_lines(plain.text)
    better = [p.replace("坚持问题导向和底线思维", "始终坚持问题导向和底线思维") for p in body]
    llm.set(script=[{"content": json.dumps({"paragraphs": better}, ensure_ascii=False)}])
    rewritten = drafting.draft(request, principal=OFFICIAL)
    assert rewritten.writer == "llm:chat-large" and rewritten.fallback is None
    assert "始终坚持问题导向" in rewritten.text
    assert not checker.failed(checker.check_docx(rewritten.docx))
    forged = [*better, "《城镇燃气管理条例》第九十九条规定：“燃气用户可以自行改装燃气管道。”"]
    llm.set(script=[{"content": json.dumps({"paragraphs": forged}, ensure_ascii=False)}])
    refused = drafting.draft(request, principal=OFFICIAL)
    assert refused.writer == "embedded" and "第九十九条" in (refused.fallback or "")
    assert "自行改装" not in refused.text
    headless = [p for p in better if not p.startswith("二、")]
    llm.set(script=[{"content": json.dumps({"paragraphs": headless}, ensure_ascii=False)}])
    assert "层次标题" in (drafting.draft(request, principal=OFFICIAL).fallback or "")


def test_a_draft_states_the_citys_own_figures_and_follows_points_and_a_model_text(city: Path) -> None:
    for address in ("幸福路12号", "光谷大道100号"):
        events_service.report(f"{address}小区电梯困人了", "citizen", events_service.Reporter("r_office_test"),
                              location=address, category="elevator_fault")
    made = drafting.draft("起草关于开展电梯安全隐患排查的通知", principal=OFFICIAL,
                          outline=["全面排查住宅电梯维保记录"], keywords=["老旧电梯"],
                          model_text="一、总体要求\n……\n二、排查内容\n……\n三、保障措施\n……")
    assert made.facts and made.facts[0]["source"] == "events" and made.facts[0]["count"] >= 2
    assert "电梯故障" in made.text and "market" in made.departments
    assert "一、总体要求" in made.text and "二、排查内容" in made.text
    assert "（一）全面排查住宅电梯维保记录。" in made.text and "突出老旧电梯" in made.text
    assert not checker.failed(checker.check_docx(made.docx))


def test_a_long_title_breaks_between_words_into_even_lines() -> None:
    lines = title_lines("关于进一步加强全市城镇燃气安全隐患排查整治和老旧管网更新改造工作的实施意见")
    assert len(lines) == 2 and "".join(lines).endswith("实施意见")
    assert all(len(x) <= 20 for x in lines) and abs(len(lines[0]) - len(lines[1])) <= 2
    assert title_lines("关于开展燃气安全隐患排查整治的通知") == ["关于开展燃气安全隐患排查整治的通知"]



def test_only_passages_that_may_be_quoted_go_through_the_guard(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = kb.search("燃气安全隐患排查整治", OFFICIAL, top_k=12, mode="keyword")
    quoted = drafting._provisions("燃气安全隐患排查整治", "", OFFICIAL)
    first = next(h for h in found if (h.doc_key, h.locator) == (quoted[0]["doc_key"], quoted[0]["locator"]))
    again = first.model_copy(update={"locator": "第九十九条"})  # the same law again: one citation per law
    old = first.model_copy(update={"status": "superseded", "doc_key": "旧法"})  # never quoted
    monkeypatch.setattr(kb, "search", lambda *a, **k: [first, again, old, *found])
    whole, checked = kb.screened, []
    monkeypatch.setattr(kb, "screened", lambda hits, tracer=None: (checked.extend(hits), whole(hits, tracer))[1])
    assert drafting._provisions("燃气安全隐患排查整治", "", OFFICIAL)[0]["doc_key"] == first.doc_key
    assert first in checked and again not in checked and old not in checked
