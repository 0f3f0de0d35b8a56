"""The co-creation platform end to end on the demo city: definitions checked against the creator's
permissions (bad input → 422 naming the field, nothing saved), versions, publish and roll back,
visibility, the catalogue and reactions, import/export, runs without a model (cited answers, a
workflow that asks, branches and composes, tools through the dispatcher's checks)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from aicity.agents.registry import AgentRegistry
from aicity.agents.studio import service, templates
from aicity.agents.studio.models import StudioAgent, StudioVersion
from aicity.agents.studio.spec import AgentDefinition, dump, parse
from aicity.core.bus import bus
from aicity.core.db import database
from aicity.core.errors import Problem
from aicity.identity import service as identity
from aicity.identity.service import Principal, Role

FUND = next(d for d in templates.demo_definitions() if d["id"] == "housing_fund")


def _defn(**changes: object) -> dict:
    data = copy.deepcopy(FUND)
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def keys(city: Path) -> dict[str, str]:
    return {"official": identity.create_api_key("studio-official", "official", "hpf")[1],
            "other": identity.create_api_key("studio-other", "official", "market")[1],
            "citizen": identity.create_api_key("studio-citizen", "citizen")[1],
            "operator": identity.create_api_key("studio-operator", "operator", "hpf")[1]}


def _h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def _count(agent_id: str) -> int:
    with database().session() as s:
        return (s.get(StudioAgent, agent_id) is not None) + s.query(StudioVersion).filter_by(agent_id=agent_id).count()


@pytest.mark.parametrize(("change", "field"), [
    ({"colour": "red"}, "colour"),                                              # an unknown field
    ({"knowledge": {"kbs": ["no_such_kb"]}}, "knowledge.kbs"),                  # a KB that does not exist
    ({"tools": [{"id": "city_safety.close_gas_valve", "risk": "actuate"}]}, "tools.0.id"),  # actuate for an official
    ({"tools": [{"id": "governance.report_event", "risk": "read"}]}, "tools.0.risk"),  # the wrong risk level
    ({"tools": [{"id": "mcp:nosuch.lookup", "risk": "read"}]}, "tools.0.id"),     # an MCP server not registered
    ({"modes": ["emergency"]}, "modes"),                                        # a reserved mode
    ({"workflow": [{"id": "a", "kind": "compose", "next": "b"}, {"id": "b", "kind": "compose", "next": "a"}]},
     "workflow"),                                                               # a cycle
    ({"examples": ["只有一个"]}, "examples"),
])
def test_bad_definitions_are_refused_by_field_and_leave_nothing(client: TestClient, keys: dict, change: dict,
                                                                 field: str) -> None:
    r = client.post("/api/v1/agents/definitions", json={"definition": _defn(id="bad_agent", **change)},
                    headers=_h(keys["official"]))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["type"].endswith("invalid-agent")
    assert any(".".join(e["loc"]).startswith(field) for e in body["errors"]), body
    assert _count("bad_agent") == 0


def test_cycle_is_named() -> None:
    with pytest.raises(ValueError, match="a → b → a"):
        AgentDefinition.model_validate(_defn(workflow=[{"id": "a", "kind": "compose", "next": "b"},
                                                       {"id": "b", "kind": "compose", "next": "a"}]))


def test_a_personal_kb_of_someone_else_is_unknown(city: Path, keys: dict) -> None:
    from aicity.hub.knowledge import service as knowledge  # noqa: PLC0415 - only this test needs it

    knowledge.ensure_kb("studio_private", "别人的知识库", "personal", owner_key_id="someone-else")
    with pytest.raises(Problem) as exc:
        service.create(_defn(id="peeker", knowledge={"kbs": ["studio_private"]}),
                       identity.authenticate(keys["official"]))
    assert exc.value.status == 422 and "studio_private" in exc.value.detail
    assert _count("peeker") == 0


def test_versions_publish_rollback_visibility_and_catalogue(client: TestClient, keys: dict) -> None:
    r = client.post("/api/v1/agents/definitions", json={"definition": _defn(id="fund_helper"), "note": "初稿"},
                    headers=_h(keys["official"]))
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith("/fund_helper")
    # a draft is the owner's only
    assert client.get("/api/v1/agents/definitions/fund_helper", headers=_h(keys["other"])).status_code == 404
    v2 = _defn(id="fund_helper", name="公积金小助手二代")
    assert client.put("/api/v1/agents/definitions/fund_helper", json={"definition": v2},
                      headers=_h(keys["other"])).status_code == 404
    r = client.put("/api/v1/agents/definitions/fund_helper", json={"definition": v2, "note": "改名"},
                   headers=_h(keys["official"]))
    assert r.json()["latest_version"] == 2 and r.json()["published_version"] is None
    # publishing for the whole city needs an operator; for the department is the owner's own call
    r = client.post("/api/v1/agents/definitions/fund_helper/publish", json={"visibility": "city"},
                    headers=_h(keys["official"]))
    assert r.status_code == 403
    seen: list[dict] = []
    unsubscribe = bus.subscribe("studio.agent.changed", lambda _t, p: seen.append(p))
    try:
        r = client.post("/api/v1/agents/definitions/fund_helper/publish", json={"visibility": "department"},
                        headers=_h(keys["official"]))
    finally:
        unsubscribe()
    assert r.status_code == 200 and r.json()["published_version"] == 2 and r.json()["name"] == "公积金小助手二代"
    assert seen == [{"agent": "fund_helper", "version": 2, "visibility": "department"}]
    # same department sees it in the catalogue, another department does not
    mine = client.get("/api/v1/agents/catalogue", params={"q": "公积金"}, headers=_h(keys["operator"])).json()
    assert [a["id"] for a in mine["agents"]] == ["fund_helper"]
    assert client.get("/api/v1/agents/catalogue", headers=_h(keys["other"])).json()["agents"] == []
    # roll back to v1
    r = client.post("/api/v1/agents/definitions/fund_helper/publish", json={"version": 1},
                    headers=_h(keys["official"]))
    assert r.json()["published_version"] == 1 and r.json()["name"] == "公积金小助手"
    assert client.post("/api/v1/agents/definitions/fund_helper/publish", json={"version": 9},
                       headers=_h(keys["official"])).status_code == 404
    # reactions
    r = client.post("/api/v1/agents/definitions/fund_helper/reactions",
                    json={"liked": True, "favourite": True, "rating": 4}, headers=_h(keys["operator"]))
    assert r.status_code == 200 and r.json()["likes"] == 1 and r.json()["rating"] == 4.0 and r.json()["favourite"]
    assert client.post("/api/v1/agents/definitions/fund_helper/reactions", json={"rating": 9},
                       headers=_h(keys["operator"])).status_code == 422
    favs = client.get("/api/v1/agents/catalogue", params={"favourites": True}, headers=_h(keys["operator"])).json()
    assert [a["id"] for a in favs["agents"]] == ["fund_helper"]
    assert "社保公积金" in favs["categories"]
    # the agent's chat: a cited answer without a model, counted as a use
    r = client.post("/api/v1/agents/fund_helper/chat", json={"text": "职工什么情况下可以提取住房公积金"},
                    headers=_h(keys["operator"]))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["citations"] and all(c["doc_key"] == "住房公积金管理条例" for c in answer["citations"])
    assert "[^1]" in answer["answer"]
    names = [s.get("name") for s in answer["trace"]]
    assert names[:1] == ["plan"] and "compose" in names, names
    assert any(s.get("agent") == "fund_helper" for s in answer["trace"]), answer["trace"]
    assert client.post("/api/v1/agents/fund_helper/chat", json={"text": "公积金"},
                       headers=_h(keys["other"])).status_code == 404
    assert service.detail("fund_helper", identity.authenticate(keys["official"])).uses == 1
    # the OpenAI-compatible endpoint: `model` = the agent's id, the same visibility
    r = client.post("/v1/chat/completions", headers=_h(keys["operator"]), json={
        "model": "fund_helper", "messages": [{"role": "user", "content": "单位不给缴存住房公积金有什么后果"}]})
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "fund_helper" and r.json()["citations"]
    assert r.json()["aicity"]["skills"][0]["agent"] == "fund_helper"
    r = client.post("/v1/chat/completions", headers=_h(keys["other"]), json={
        "model": "fund_helper", "messages": [{"role": "user", "content": "公积金"}]})
    assert r.status_code == 404


def test_export_import_round_trip_is_diffable(client: TestClient, keys: dict) -> None:
    definition = _defn(id="fund_export")
    assert client.post("/api/v1/agents/definitions", json={"definition": definition},
                       headers=_h(keys["official"])).status_code == 201
    r = client.get("/api/v1/agents/definitions/fund_export/export", headers=_h(keys["official"]))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
    text = r.text
    assert parse(text) == AgentDefinition.model_validate(definition).to_data()
    changed = text.replace("公积金小助手", "公积金助手", 1)
    r = client.post("/api/v1/agents/definitions/import", json={"text": changed}, headers=_h(keys["official"]))
    assert r.status_code == 200 and r.json()["latest_version"] == 2
    old = service.export("fund_export", identity.authenticate(keys["official"]), 1)
    new = service.export("fund_export", identity.authenticate(keys["official"]), 2)
    diff = [(a, b) for a, b in zip(old.splitlines(), new.splitlines(), strict=True) if a != b]
    assert diff == [("name: 公积金小助手", "name: 公积金助手")]
    as_json = client.get("/api/v1/agents/definitions/fund_export/export", params={"format": "json"},
                         headers=_h(keys["official"]))
    assert parse(as_json.text, "json")["name"] == "公积金助手"
    bad = client.post("/api/v1/agents/definitions/import", json={"text": "id: [unclosed"},
                      headers=_h(keys["official"]))
    assert bad.status_code == 422


def test_every_demo_agent_and_template_is_valid(city: Path) -> None:
    admin = Principal(role=Role.admin)
    for data in templates.demo_definitions() + [t["definition"] for t in templates.templates()]:
        definition = service.validated(data)
        service.check(definition, admin)
        assert parse(dump(definition)) == definition.to_data()
    assert len(templates.demo_definitions()) == 10


def test_workflow_asks_branches_retrieves_and_composes(client: TestClient, keys: dict) -> None:
    wizard = next(t["definition"] for t in templates.templates() if t["id"] == "workflow")
    r = client.post("/api/v1/agents/definitions/benefit_guide/test",
                    json={"text": "有什么补贴", "definition": wizard}, headers=_h(keys["official"]))
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["clarification"]["slot"] == "who" and "残疾人" in first["clarification"]["question"]
    r = client.post("/api/v1/agents/definitions/benefit_guide/test",
                    json={"text": "残疾人", "definition": wizard, "session_id": first["session_id"]},
                    headers=_h(keys["official"]))
    second = r.json()
    assert second["citations"] and {c["doc_key"] for c in second["citations"]} == {"残疾人保障法"}
    assert "与「残疾人」有关的规定" in second["answer"]
    workflow = next(s for s in second["trace"] if s.get("name") == "workflow")
    assert workflow["steps"] == ["who", "route", "disabled", "tip"]


def test_a_tool_goes_through_the_dispatchers_checks(client: TestClient, keys: dict) -> None:
    reporter = next(t["definition"] for t in templates.templates() if t["id"] == "report")
    # citizens may not create actuate tools, and an actuate tool only ever reaches the approval queue
    valve = {**reporter, "id": "valve_bot", "tools": [{"id": "city_safety.close_gas_valve", "risk": "actuate"}],
             "modes": ["city_action"]}
    r = client.post("/api/v1/agents/definitions/valve_bot/test", json={"text": "关闭光谷大道的燃气阀门",
                                                                       "definition": valve},
                    headers=_h(keys["operator"]))
    assert r.status_code == 200, r.text
    kinds = [s["kind"] for s in r.json()["sections"]]
    assert "approval" in kinds
    decisions = [s.get("decision") for s in r.json()["trace"] if s.get("skill") == "close_gas_valve"]
    assert decisions and decisions[0] in {"approval-required", "refused"}


def test_published_city_agents_join_the_assistants_registry(city: Path) -> None:
    operator = Principal(role=Role.operator, department="sanitation", key_id="studio-op")
    sorting = next(d for d in templates.demo_definitions() if d["id"] == "garbage_sorting")
    service.create(sorting, operator)
    service.publish("garbage_sorting", operator, visibility="city")
    try:
        registry = AgentRegistry()
        added = service.register_published(registry)
        assert added == ["garbage_sorting"]
        skill = registry.skill("garbage_sorting", "ask")
        assert skill.modes == ("legal",) and "垃圾分类" in skill.cues and skill.roles == {"citizen", "enterprise"}
    finally:
        service.withdraw("garbage_sorting", operator)
    assert service.register_published(AgentRegistry()) == []


def test_anonymous_and_yaml_bad_input(client: TestClient, keys: dict) -> None:
    assert client.post("/api/v1/agents/definitions", json={"definition": _defn(id="anon_agent")}).status_code == 401
    data = yaml.safe_load(dump(AgentDefinition.model_validate(_defn(id="x_agent"))))
    data["workflow"] = [{"id": "s1", "kind": "tool", "tool": "governance.report_event"}]
    r = client.post("/api/v1/agents/definitions/validate", json={"definition": data}, headers=_h(keys["official"]))
    assert r.status_code == 422 and "tools" in r.json()["detail"]
