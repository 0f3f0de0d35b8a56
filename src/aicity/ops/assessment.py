"""The assessment (智慧城市评估): five dimensions — 智能设施 facilities, 智能中枢 hub, 智能应用
applications, 持续进化 evolution, 以人为本 people — scored from what the platform measures about
itself, plus a short questionnaire for what it cannot measure.

Each indicator has a value, a target and a direction; its attainment is value/target (higher is
better) or target/value (lower is better), capped at 1. A dimension's score is the mean attainment of
its indicators that have a value, × 100. Indicators without a value (a questionnaire item not
answered, a measure with no data yet) are listed, not scored. Formulas and targets: docs/operations.md.
Other slices are read through their service functions only.
"""

from __future__ import annotations

import statistics
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from aicity.assistant.service import assistant
from aicity.core import streams
from aicity.core.config import settings
from aicity.core.errors import bad_request
from aicity.core.ids import utcnow
from aicity.core.tracing import recent_traces
from aicity.hub.events import service as events
from aicity.hub.events.classify import NEEDS_HUMAN_BELOW
from aicity.hub.events.lifecycle import as_utc
from aicity.hub.gateway import service as gateway
from aicity.hub.geo.gazetteer import districts
from aicity.hub.iot import service as iot
from aicity.identity.models import Role
from aicity.identity.service import Principal, list_departments
from aicity.ops import agents

DIMENSIONS = {"facilities": "智能设施 facilities", "hub": "智能中枢 hub", "applications": "智能应用 applications",
              "evolution": "持续进化 evolution", "people": "以人为本 people"}
#: the days the measured indicators look back over
PERIOD_DAYS = 30
#: demo-city assumptions (演示城市假设) for targets the platform measures; docs/operations.md
TARGETS = {"coverage": 1.0, "online": 0.95, "device_types": 6, "skills": 30, "groups_up": 1.0, "model_ok": 0.99,
           "model_calls_per_day": 100, "penetration": 0.8, "cross_department": 0.2, "ai_response": 0.75,
           "answered": 0.9, "retrain_days": 30, "dead_letters": 0, "satisfaction": 0.9, "on_time": 0.95,
           "latency_p95_ms": 3000}


class Question(BaseModel):
    id: str
    dimension: Literal["facilities", "hub", "applications", "evolution", "people"]
    name: str
    kind: Literal["ratio", "count", "minutes", "yesno"]
    target: float | bool
    better: Literal["higher", "lower"] = "higher"
    answer: float | bool | None = None


class Questionnaire(BaseModel):
    questions: list[Question]


def default_questionnaire() -> Path:
    """The city's filled questionnaire (<data dir>/assessment.yaml), else the blank one shipped."""
    own = settings().data_dir / "assessment.yaml"
    return own if own.is_file() else Path(str(resources.files("aicity") / "demo" / "data" / "assessment"
                                              / "questionnaire.yaml"))


def load_questionnaire(path: Path) -> Questionnaire:
    """Parsed and checked; a bad file is a 400 problem naming it (the CLI prints it)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        found = Questionnaire.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise bad_request(f"问卷无法读取 questionnaire not readable: {path}: {exc}", "bad-questionnaire") from None
    for q in found.questions:
        if q.answer is not None and q.kind == "ratio" and not 0 <= float(q.answer) <= 1:
            raise bad_request(f"问卷 {q.id} 的答案应在 0–1 之间 must be between 0 and 1", "bad-questionnaire")
    return found


def attainment(value: float | None, target: float, better: str = "higher") -> float | None:
    if value is None:
        return None
    if better == "lower":
        return 1.0 if value <= target else round(max(target, 0.0) / value, 4) if value > 0 else 1.0
    return round(min(1.0, value / target), 4) if target > 0 else 1.0


def _indicator(name: str, value: float | None, target: float, source: str, better: str = "higher",
               unit: str = "ratio", note: str = "") -> dict[str, Any]:
    return {"name": name, "value": None if value is None else round(float(value), 4), "target": target,
            "better": better, "unit": unit, "source": source, "attainment": attainment(value, target, better),
            **({"note": note or "暂无数据 no data yet"} if note or value is None else {})}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _facilities() -> list[dict[str, Any]]:
    devices = iot.list_devices(limit=100_000)
    online = [d for d in devices if iot.online(d)]
    names = {d.id: d for d in districts()}
    covered = {d.district for d in online if d.district} & ({*names} | {d.name for d in names.values()})
    covered_ids = {i for i, d in names.items() if i in covered or d.name in covered}
    return [
        _indicator("感知覆盖率 districts with a working sensor", _ratio(len(covered_ids), len(names)),
                   TARGETS["coverage"], "iot.list_devices, iot.online; geo.districts"),
        _indicator("设备在线率 devices online", _ratio(len(online), len(devices)), TARGETS["online"],
                   "iot.list_devices, iot.online"),
        _indicator("感知类型数 kinds of sensor connected", len({d.type for d in devices}), TARGETS["device_types"],
                   "iot.list_devices", unit="count"),
    ]


def _hub(days: int) -> list[dict[str, Any]]:
    skills = sum(len(a.skills) for a in assistant().registry.agents())
    health = gateway.gateway().health()
    groups = health["groups"]
    metered = agents.metered((utcnow() - timedelta(days=days)).strftime("%Y-%m-%d"))
    calls = sum(m["requests"] for m in metered)
    errors = sum(m["errors"] for m in metered)
    return [
        _indicator("开放的智能体技能 agent skills open to callers (API, MCP, assistant)", skills, TARGETS["skills"],
                   "agents registry", unit="count"),
        _indicator("可用的模型服务组 model groups with a working deployment",
                   _ratio(sum(g["status"] != "down" for g in groups), len(groups)), TARGETS["groups_up"],
                   "gateway.health"),
        _indicator("模型调用成功率 model calls that succeeded", _ratio(calls - errors, calls), TARGETS["model_ok"],
                   "gateway meter"),
        _indicator("日均模型调用 model calls per day", calls / days, TARGETS["model_calls_per_day"], "gateway meter",
                   unit="count"),
    ]


def _runs(days: int) -> list[Any]:
    return recent_traces(agents.MAX_TRACES, kind="assistant", since=utcnow() - timedelta(days=days))


def _events(days: int) -> list[Any]:
    return events.list_events(Principal(Role.admin), since=utcnow() - timedelta(days=days), limit=events.MAX_LIST)


def _applications(runs: list[Any], reported: list[Any]) -> list[dict[str, Any]]:
    answered = [t for t in runs if t.status == "ok"]
    served = {d for t in answered for d in (t.summary or {}).get("departments", [])}
    departments = {d.id for d in list_departments()}
    with_department = [t for t in answered if (t.summary or {}).get("departments")]
    confident = [e for e in reported if e.confidence >= NEEDS_HUMAN_BELOW]
    return [
        _indicator("智能体渗透率 departments whose services the assistant answered for",
                   _ratio(len(served & departments), len(departments)), TARGETS["penetration"],
                   "traces (assistant runs); identity.list_departments"),
        _indicator("跨部门办理 answers that brought two or more departments together",
                   _ratio(sum(len(set(t.summary["departments"])) >= 2 for t in with_department), len(with_department)),
                   TARGETS["cross_department"], "traces (assistant runs)"),
        _indicator("AI 响应诉求 citizens' reports dispatched by the classifier without a person",
                   _ratio(len(confident), len(reported)), TARGETS["ai_response"], "events.list_events"),
        _indicator("助理作答率 requests the assistant answered (did not decline)",
                   _ratio(sum(not (t.summary or {}).get("abstained") for t in answered), len(answered)),
                   TARGETS["answered"], "traces (assistant runs)"),
    ]


def _evolution() -> list[dict[str, Any]]:
    training = sorted((settings().data_dir / "training").glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    age = (utcnow().timestamp() - training[-1].stat().st_mtime) / 86400 if training else None
    retrained = _indicator("再训练间隔（天）days since the city's routing examples were last updated", age,
                           TARGETS["retrain_days"], "<data dir>/training/*.jsonl", better="lower", unit="days",
                           note="" if training else "从未用本市数据再训练 never retrained on the city's own data")
    if not training:
        retrained["attainment"] = 0.0  # measured: it never happened
    dead = int(streams.stats().get("dead_letters", 0))
    deployments = [d for g in gateway.gateway().health()["groups"] for d in g["deployments"]]
    return [
        retrained,
        _indicator("未恢复的失败事件 bus events that failed every retry (dead letters)", dead,
                   TARGETS["dead_letters"], "core.streams.stats", better="lower", unit="count"),
        _indicator("已恢复的模型部署 model deployments not cut off by their breaker",
                   _ratio(sum(d["state"] != "open" for d in deployments), len(deployments)), 1.0, "gateway.health"),
    ]


def _people(runs: list[Any], reported: list[Any], days: int) -> list[dict[str, Any]]:
    verdicts = agents.feedback(days)
    up = sum(v["rating"] == "up" for v in verdicts)
    due = [e for e in reported if e.sla_due_at is not None]
    late = [e for e in due if e.sla_breached_at is not None
            or (e.status not in ("resolved", "closed") and as_utc(e.sla_due_at) < utcnow())]
    durations = sorted(t.duration_ms for t in runs)
    p95 = durations[min(len(durations) - 1, int(round(0.95 * (len(durations) - 1))))] if durations else None
    return [
        _indicator("满意度 answers rated 👍 among those rated", _ratio(up, len(verdicts)), TARGETS["satisfaction"],
                   "ops feedback", note="" if verdicts else "暂无评价 no feedback yet"),
        _indicator("诉求按时办结率 citizens' reports handled within their deadline", _ratio(len(due) - len(late),
                   len(due)), TARGETS["on_time"], "events.list_events"),
        _indicator("回答时延 p95（毫秒）answer time, 95th percentile (ms)", p95, TARGETS["latency_p95_ms"],
                   "traces (assistant runs)", better="lower", unit="ms"),
    ]


def _answered(q: Question) -> dict[str, Any]:
    if q.kind == "yesno":
        value = None if q.answer is None else float(bool(q.answer))
        target = 1.0
    else:
        value = None if q.answer is None else float(q.answer)
        target = float(q.target)
    indicator = _indicator(q.name, value, target, f"questionnaire ({q.id})", q.better, q.kind)
    if q.answer is None:
        indicator["note"] = "未作答 not answered"
    return indicator


def assess(questionnaire: Questionnaire | None = None, days: int = PERIOD_DAYS) -> dict[str, Any]:
    """`{dimensions: {id: {score, indicators}}, weakest, unanswered}`, the weakest first."""
    questionnaire = questionnaire or load_questionnaire(default_questionnaire())
    runs, reported = _runs(days), _events(days)
    measured = {"facilities": _facilities(), "hub": _hub(days), "applications": _applications(runs, reported),
                "evolution": _evolution(), "people": _people(runs, reported, days)}
    for q in questionnaire.questions:
        measured[q.dimension].append(_answered(q))
    dimensions = {}
    for key, indicators in measured.items():
        scored = [i["attainment"] for i in indicators if i["attainment"] is not None]
        dimensions[key] = {"title": DIMENSIONS[key], "score": round(100 * statistics.fmean(scored), 1) if scored else 0.0,
                           "scored": len(scored), "indicators": indicators}
    ranked = sorted(((i["attainment"], key, i) for key, d in dimensions.items() for i in d["indicators"]
                     if i["attainment"] is not None and i["attainment"] < 1), key=lambda t: (t[0], t[1]))
    return {
        "period_days": days,
        "generated_at": utcnow().isoformat(),
        "dimensions": dimensions,
        "weakest": [{"dimension": key, **i} for _, key, i in ranked],
        "unanswered": [{"dimension": key, **i} for key, d in dimensions.items() for i in d["indicators"]
                       if i["value"] is None],
    }
