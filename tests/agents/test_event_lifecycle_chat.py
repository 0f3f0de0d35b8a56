"""An event's whole lifecycle through the assistant: a citizen reports in chat and follows it in
the same session, the department's operator accepts and resolves it in chat, the citizen
confirms it closed; others may neither see nor act on it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from aicity.identity import service as identity

#: keyless sessions' tokens: the API returns one with a keyless session's answers, and only it continues the session
_tokens: dict[str, str] = {}


def _ask(client: TestClient, text: str, session_id: str | None = None, key: str | None = None,
         role: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text}
    if session_id:
        body["session_id"] = session_id
        if session_id in _tokens:
            body["session_token"] = _tokens[session_id]
    if role:
        body["role"] = role
    resp = client.post("/api/v1/assistant/ask", json=body, headers={"X-API-Key": key} if key else {})
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    if answer.get("session_token"):
        _tokens[answer["session_id"]] = answer["session_token"]
    return answer


def _skill(answer: dict[str, Any]) -> str:
    return answer["skills"][0]["skill"]


def test_an_event_travels_its_whole_lifecycle_in_chat(client: TestClient) -> None:
    # a citizen reports; the event is dispatched to its department
    filed = _ask(client, "帮我报修一下，文馨街88号的路灯不亮了，晚上黑漆漆的")
    session, event = filed["session_id"], filed["event"]
    assert _skill(filed) == "report_event" and event["status"] == "dispatched"
    event_id, department = event["id"], event["department"]

    # … asks how it is going in the same session: status, department, SLA and the timeline
    progress = _ask(client, "我报修的路灯处理得怎么样了", session)
    assert _skill(progress) == "event_status"
    assert progress["event"]["id"] == event_id and progress["event"]["status"] == "dispatched"
    assert event_id in progress["answer"] and "已派单" in progress["answer"] and "处理时限" in progress["answer"]
    assert "办理过程" in progress["answer"] and "系统自动派单" in progress["answer"]
    again = _ask(client, "我反映的问题有进展吗", session)
    assert _skill(again) == "event_status" and again["event"]["id"] == event_id

    # the department's operator accepts and resolves it in chat
    _, operator = identity.create_api_key("lifecycle-operator", "operator", department)
    accepted = _ask(client, f"{event_id} 受理", key=operator, role="operator")
    assert _skill(accepted) == "event_action"
    assert accepted["event"]["status"] == "accepted" and "已受理" in accepted["answer"]
    assert "开始处理" in accepted["answer"] and "已处理" in accepted["answer"]  # the next steps
    resolved = _ask(client, f"{event_id} 已处理，路灯已更换灯泡", key=operator, role="operator")
    assert resolved["event"]["status"] == "resolved"
    assert set(resolved["event"]["allowed_actions"]) == {"close", "reopen"}

    # the citizen, in the session they reported in, confirms it
    closed = _ask(client, "已经修好了，可以结案", session)
    assert _skill(closed) == "event_action" and closed["event"]["id"] == event_id
    assert closed["event"]["status"] == "closed" and "已办结" in closed["answer"]
    final = _ask(client, f"{event_id} 现在什么状态", session)
    assert final["event"]["status"] == "closed"

    # the full history, every step with who took it
    _, admin = identity.create_api_key("lifecycle-admin", "admin")
    status = _ask(client, f"{event_id} 现在什么状态", key=admin, role="admin")
    assert _skill(status) == "event_status"
    steps = client.get(f"/api/v1/events/{event_id}/history", headers={"X-API-Key": admin}).json()
    rows = steps["history"]
    assert [r["action"] for r in rows] == ["report", "dispatch", "accept", "resolve", "close"]
    actors = [r["actor"] for r in rows]
    assert actors[0].startswith("assistant:") and actors[1] == "system:dispatch"
    assert actors[2].startswith(f"operator:{department}:") and actors[3] == actors[2]
    assert actors[4].startswith("citizen:r_")
    answer = status["answer"]
    for label in ("上报人", "系统自动派单", f"处置人员（{identity.department_name(department)}）", "结案"):
        assert label in answer, label


def test_others_can_neither_see_nor_act_on_an_event(client: TestClient) -> None:
    filed = _ask(client, "帮我报修，文馨街20号的井盖没了，很危险")
    event_id, department, session = filed["event"]["id"], filed["event"]["department"], filed["session_id"]
    assert filed["event"]["status"] == "dispatched"

    # a citizen in another session: not their event
    stranger = _ask(client, f"{event_id} 现在什么状态")
    assert stranger["event"] is None and "无权" in stranger["answer"]
    assert "文馨街" not in stranger["answer"]
    nothing = _ask(client, "我反映的问题有进展吗")
    assert nothing["event"] is None and "没有您上报的事件" in nothing["answer"]
    meddling = _ask(client, f"{event_id} 还是没修好，重新打开")
    assert meddling["event"] is None and "无权" in meddling["answer"]

    # the reporter may not close an event that is still being handled: the allowed steps are named
    early = _ask(client, "已经修好了，可以结案", session)
    assert early["event"]["status"] == "dispatched" and "不能结案" in early["answer"]

    # an operator of another department is refused; an illegal step lists the allowed ones
    other = next(d.id for d in identity.list_departments() if d.id != department)
    _, outsider = identity.create_api_key("other-operator", "operator", other)
    refused = _ask(client, f"{event_id} 受理", key=outsider, role="operator")
    assert _skill(refused) == "event_action" and refused["event"] is None and "无权" in refused["answer"]
    _, operator = identity.create_api_key("own-operator", "operator", department)
    illegal = _ask(client, f"{event_id} 已处理", key=operator, role="operator")
    assert illegal["event"]["status"] == "dispatched"
    assert "不能办结" in illegal["answer"] and "受理" in illegal["answer"] and "退回" in illegal["answer"]


def test_a_dispatcher_rejects_and_redispatches_in_chat(client: TestClient) -> None:
    filed = _ask(client, "帮我反映一下，文馨街60号路边的垃圾堆了好几天没人清")
    event_id = filed["event"]["id"]
    _, operator = identity.create_api_key("sanitation-operator", "operator", filed["event"]["department"])
    rejected = _ask(client, f"{event_id} 退回，原因：派错了，不归我们管", key=operator, role="operator")
    assert rejected["event"]["status"] == "reported"
    _, dispatcher = identity.create_api_key("dispatch-centre", "official")
    redispatched = _ask(client, f"{event_id} 派给水务局", key=dispatcher, role="official")
    assert redispatched["event"]["status"] == "dispatched" and redispatched["event"]["department"] == "water"
    assert "水务局" in redispatched["answer"]
    _, admin = identity.create_api_key("reject-admin", "admin")
    steps = client.get(f"/api/v1/events/{event_id}/history", headers={"X-API-Key": admin}).json()
    rows = steps["history"]
    assert [r["note"] for r in rows if r["action"] == "reject"] == ["派错了，不归我们管"]
