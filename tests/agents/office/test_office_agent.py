"""The office agent serves the assistant's office mode for officials: drafting (with the number,
the citations and a DOCX link), polishing, summarising, registering and searching; citizens get the
staff-only statement."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aicity.assistant.service import AskResult, assistant
from aicity.identity import service as identity
from aicity.identity.models import Role
from aicity.identity.service import Principal

OFFICIAL = Principal(Role.official, department="gov_office")
CITIZEN = Principal(Role.citizen)
DEV = Path(__file__).parent / "registration_dev"


def ask(text: str, principal: Principal = OFFICIAL) -> AskResult:
    return assistant().ask(text, principal, None)


def skills(result: AskResult) -> list[str]:
    return [f"{s.agent}.{s.skill}" for s in result.skills]


def test_a_draft_request_is_answered_with_text_number_citations_and_download(city: Path) -> None:
    result = ask("起草一份关于开展燃气安全隐患排查整治的通知")
    assert result.mode == "office" and skills(result) == ["office.draft"], result.answer
    draft = next(s for s in result.sections if s["kind"] == "draft")
    assert "通知" in draft["body"] and "〔20" in draft["body"]
    assert any(a["kind"] == "link" and a["value"].endswith("/docx") for a in result.next_actions)


@pytest.mark.parametrize(("text", "skill", "expect"), [
    ("帮我把这段话改得正式一点：希望大家赶紧把材料报上来，一定要搞好。", "office.polish", "请各单位尽快"),
    ("给这份文件写个摘要：\n" + (DEV / "d03.txt").read_text(encoding="utf-8"), "office.summarize", "关键词"),
])
def test_polish_and_summary_requests_reach_the_office_agent(city: Path, text: str, skill: str, expect: str) -> None:
    result = ask(text)
    assert result.mode == "office" and skills(result) == [skill], (result.mode, skills(result), result.answer)
    assert expect in result.answer


def test_a_polish_request_without_text_asks_for_it(city: Path) -> None:
    result = ask("帮我润色一下这段话")
    assert skills(result) == ["office.polish"] and "请把要润色的文字" in result.answer


def test_a_register_request_that_only_describes_the_letter_asks_for_it(city: Path) -> None:
    # one line naming the issuer and 文号 is not the document: the register skill asks for it instead of refusing
    result = ask("收文登记：市发改委来函一件，文号江发改〔2026〕88号")
    assert skills(result) == ["office.register"] and "请把要登记的文字" in result.answer, result.answer


def test_a_citizen_gets_the_staff_only_statement(city: Path) -> None:
    result = ask("帮我起草一份关于小区停车管理的通知", CITIZEN)
    assert not result.skills and "工作人员" in result.answer


def test_the_assistant_api_answers_with_the_office_agent(client: TestClient, city: Path) -> None:
    key = identity.create_api_key("office-agent-official", "official", department="gov_office")[1]
    body = client.post("/api/v1/assistant/ask", headers={"X-API-Key": key},
                       json={"text": "给这份文件写个摘要：" + (DEV / "d06.txt").read_text(encoding="utf-8")}).json()
    assert body["mode"] == "office" and [s["skill"] for s in body["skills"]] == ["summarize"], body


def test_registering_pasted_text_and_finding_it_in_the_register(city: Path) -> None:
    text = (DEV / "d14.txt").read_text(encoding="utf-8")
    registered = ask("帮我做个收文登记：\n" + text)
    assert skills(registered) == ["office.register"] and "已登记收文" in registered.answer
    found = ask("查一下关于光谷大道的来文")
    assert skills(found) == ["office.search"] and "江公交管〔2026〕2号" in found.answer
