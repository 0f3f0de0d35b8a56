"""The co-creation platform's store: definitions saved as versions, checked against what their
creator may use, published (one version live, any earlier one restorable), shared at a visibility,
and found in a catalogue with likes, favourites, ratings and usage counts.

Every change is one transaction: a definition that fails any check leaves nothing behind, and a
publish either makes the whole version live or changes nothing. Publishing, withdrawing and
restoring publish `studio.agent.changed` (a `broadcast` subscription rebuilds every process's
assistant, so the agent's examples reach the router and the mode classifier).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from aicity.agents.base import RiskLevel, Skill
from aicity.agents.registry import AgentRegistry, default_registry
from aicity.agents.studio import runtime
from aicity.agents.studio.models import StudioAgent, StudioReaction, StudioVersion
from aicity.agents.studio.spec import AgentDefinition, dump, parse
from aicity.core import audit
from aicity.core.bus import bus
from aicity.core.config import settings
from aicity.core.db import database
from aicity.core.errors import Problem, forbidden, not_found, unauthorized
from aicity.core.ids import utcnow
from aicity.hub.knowledge import service as knowledge
from aicity.hub.mcp_bridge.client import McpTool
from aicity.identity.service import Principal, Role, list_departments

CHANGED = "studio.agent.changed"
Visibility = Literal["personal", "department", "city"]
#: modes a co-created agent may not serve: emergencies stay with the built-in emergency skill
RESERVED_MODES = {"emergency"}
#: roles that may publish for the whole city (a reviewed act) and that may give an agent an `actuate` tool
CITY_PUBLISHERS = {"operator", "admin"}
ACTUATE_CREATORS = {"operator", "admin"}
#: who a caller without a key is
ANONYMOUS_ROLE = Role.citizen


class VersionView(BaseModel):
    version: int
    note: str
    author: str
    created_at: datetime
    published_at: datetime | None = None


class AgentView(BaseModel):
    id: str
    name: str
    icon: str
    category: str
    description: str
    visibility: str
    status: str
    owner: str
    latest_version: int
    published_version: int | None = None
    uses: int
    likes: int = 0
    favourites: int = 0
    rating: float | None = None
    ratings: int = 0
    #: the caller's own reaction
    liked: bool = False
    favourite: bool = False
    my_rating: int | None = None
    examples: list[str] = []
    opening: list[str] = []
    updated_at: datetime


class AgentDetail(AgentView):
    definition: dict[str, Any]
    versions: list[VersionView]


def invalid(detail: str, errors: list[dict[str, Any]] | None = None) -> Problem:
    return Problem(422, "智能体定义有误 invalid agent definition", detail, "invalid-agent",
                   errors=errors or [{"loc": [], "msg": detail}])


def validated(data: dict[str, Any]) -> AgentDefinition:
    """The definition, or a 422 naming every field at fault (an unknown field included)."""
    try:
        return AgentDefinition.model_validate(data)
    except ValidationError as exc:
        errors = [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        named = "; ".join(f"{'.'.join(e['loc']) or '(root)'}: {e['msg']}" for e in errors[:5])
        raise invalid(named, errors) from None


def _data() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data"))


@lru_cache(maxsize=1)
def known_modes() -> frozenset[str]:
    rows = yaml.safe_load((_data() / "assistant" / "modes.yaml").read_text(encoding="utf-8"))
    return frozenset(r["id"] for r in rows)


@lru_cache(maxsize=1)
def _builtin_tools() -> dict[str, Skill]:
    return {f"{a.id}.{s.id}": s for a in default_registry().agents() for s in a.skills}


def tools() -> dict[str, Skill]:
    """The skills a definition may name as tools (`agent.skill`): the built-in, plug-in and YAML agents'."""
    return _builtin_tools()


def resolve(tool_id: str) -> Skill | None:
    return tools().get(tool_id)


def usable_tools(principal: Principal) -> list[dict[str, Any]]:
    """What a creator may give an agent: each skill with its risk level."""
    out = []
    for tool_id, skill in sorted(tools().items()):
        if skill.allowed(principal) and (skill.risk != RiskLevel.actuate or principal.role.value in ACTUATE_CREATORS):
            out.append({"id": tool_id, "name": skill.name, "description": skill.description, "risk": skill.risk.value})
    return out


def usable_kbs(principal: Principal) -> list[dict[str, Any]]:
    return [{"id": kb.id, "name": kb.name, "level": kb.level} for kb in knowledge.list_kbs()
            if knowledge.may(principal, kb, "read")]


def check(definition: AgentDefinition, creator: Principal) -> None:
    """What a definition names, checked against what its creator may use: 422 naming the field."""
    unknown = [m for m in definition.modes if m not in known_modes() or m in RESERVED_MODES]
    if unknown:
        raise invalid(f"modes: 未知或保留的模式 unknown or reserved mode: {', '.join(unknown)}",
                      [{"loc": ["modes"], "msg": f"unknown or reserved mode {m}"} for m in unknown])
    departments = {d.id for d in list_departments()}
    for loc, dept in [(["department"], definition.department),
                      *((["serves", "departments", str(n)], d) for n, d in enumerate(definition.serves.departments))]:
        if departments and dept not in departments:
            raise invalid(f"{'.'.join(loc)}: 未知部门 unknown department '{dept}'", [{"loc": loc, "msg": "unknown department"}])
    kbs = {kb.id: kb for kb in knowledge.list_kbs()}
    for n, kb_id in enumerate(definition.knowledge.kbs + [k for s in definition.workflow for k in s.kbs]):
        if kb_id not in kbs or not knowledge.may(creator, kbs[kb_id], "read"):
            # a knowledge base the creator may not read is reported as unknown: its existence is not disclosed
            raise invalid(f"knowledge.kbs: 知识库 '{kb_id}' 不存在或无权使用 unknown knowledge base",
                          [{"loc": ["knowledge", "kbs", str(n)], "msg": f"unknown knowledge base {kb_id}"}])
    for n, ref in enumerate(definition.tools):
        loc = ["tools", str(n), "id"]
        if ref.id.startswith("mcp:"):
            _check_mcp(n, ref.id, ref.risk, creator)
            continue
        if ref.id.split(".", 1)[0] == definition.id:
            raise invalid(f"tools.{n}.id: 智能体不能调用自己 an agent cannot call itself", [{"loc": loc, "msg": "self"}])
        skill = resolve(ref.id)
        if skill is None or not skill.allowed(creator):
            raise invalid(f"tools.{n}.id: 工具 '{ref.id}' 不存在或无权使用 unknown tool",
                          [{"loc": loc, "msg": f"unknown tool {ref.id}"}])
        if skill.risk != ref.risk:
            raise invalid(f"tools.{n}.risk: 工具 '{ref.id}' 的风险等级是 {skill.risk.value}，不是 {ref.risk.value}",
                          [{"loc": ["tools", str(n), "risk"], "msg": f"the tool's risk is {skill.risk.value}"}])
        if skill.risk == RiskLevel.actuate and creator.role.value not in ACTUATE_CREATORS:
            raise invalid(f"tools.{n}.id: 只有运维人员或管理员可以给智能体作用于城市设施的工具 ({ref.id})",
                          [{"loc": loc, "msg": "actuate tools need an operator or admin"}])
    _check_mcp_arguments(definition)


def mcp_tool(tool_id: str) -> McpTool | None:
    """An outside tool named `mcp:<server>.<tool>` (hub/mcp_bridge), or None."""
    return runtime.outside_tool(tool_id)


def _check_mcp(n: int, tool_id: str, risk: RiskLevel, creator: Principal) -> None:
    loc = ["tools", str(n), "id"]
    tool = mcp_tool(tool_id) if creator.is_staff else None  # outside servers are for staff-built agents
    if tool is None:
        raise invalid(f"tools.{n}.id: 外部工具 '{tool_id}' 不存在或无权使用 unknown tool",
                      [{"loc": loc, "msg": f"unknown tool {tool_id}"}])
    own = RiskLevel.write if tool.writes else RiskLevel.read
    if own != risk:
        raise invalid(f"tools.{n}.risk: 外部工具 '{tool_id}' 的风险等级是 {own.value}，不是 {risk.value}",
                      [{"loc": ["tools", str(n), "risk"], "msg": f"the tool's risk is {own.value}"}])


def _check_mcp_arguments(definition: AgentDefinition) -> None:
    """An outside tool gets only the arguments its step names (`params`; a definition without a workflow
    gives none): each argument the tool's schema requires must be there, else every call would fail."""
    steps = definition.workflow or (runtime.default_steps(definition) if definition.knowledge.kbs or definition.tools
                                    else [])
    for n, step in enumerate(steps):
        tool = mcp_tool(step.tool) if step.kind == "tool" and (step.tool or "").startswith("mcp:") else None
        missing = [p for p in (tool.input_schema.get("required") or []) if p not in step.params] if tool else []
        if missing:
            loc = ["workflow", str(n), "params"] if definition.workflow else ["workflow"]
            raise invalid(f"{'.'.join(loc)}: 外部工具 '{step.tool}' 需要参数 {', '.join(missing)}，"
                          f"请在工作流的 tool 步骤 params 中给出 the outside tool needs these arguments",
                          [{"loc": loc, "msg": f"missing arguments: {', '.join(missing)}"}])


def _who(principal: Principal) -> str:
    return principal.key_id or "local"


def _require_creator(principal: Principal | None) -> Principal:
    if principal is None:
        raise unauthorized("创建智能体需要 API key / an API key is required")
    return principal


def may_see(row: StudioAgent, principal: Principal | None) -> bool:
    """Owners and admins always; others only a published agent at a visibility that includes them."""
    if principal is not None and (principal.role.value == "admin" or _who(principal) == row.owner_key):
        return True
    if row.status != "published":
        return False
    if row.visibility == "city":
        return True
    if row.visibility == "department":
        return principal is not None and principal.is_staff and principal.department == row.owner_department
    return False


def _may_edit(row: StudioAgent, principal: Principal) -> bool:
    return principal.role.value == "admin" or _who(principal) == row.owner_key


def _row(s: Session, agent_id: str, principal: Principal | None) -> StudioAgent:
    row = s.get(StudioAgent, agent_id)
    if row is None or not may_see(row, principal):
        raise not_found(f"智能体 '{agent_id}' 不存在 unknown agent", "unknown-agent")
    return row


def _version(s: Session, agent_id: str, version: int) -> StudioVersion:
    found = s.scalar(select(StudioVersion).where(StudioVersion.agent_id == agent_id,
                                                 StudioVersion.version == version))
    if found is None:
        raise not_found(f"智能体 '{agent_id}' 没有第 {version} 版 unknown version", "unknown-version")
    return found


def create(data: dict[str, Any], principal: Principal | None, note: str = "") -> AgentDetail:
    """A new agent, its first version a draft."""
    creator = _require_creator(principal)
    definition = validated(data)
    check(definition, creator)
    if definition.id in {a.id for a in default_registry().agents()}:
        raise Problem(409, "智能体已存在 agent exists", f"'{definition.id}' 是内置智能体 a built-in agent's id",
                      "agent-exists")
    now = utcnow()
    with database().session() as s:
        if s.get(StudioAgent, definition.id) is not None:
            raise Problem(409, "智能体已存在 agent exists", f"'{definition.id}' 已存在，请保存为新版本", "agent-exists")
        s.add(StudioAgent(id=definition.id, name=definition.name, category=definition.category,
                          visibility="personal", status="draft", owner_key=_who(creator),
                          owner_role=creator.role.value, owner_department=creator.department, latest_version=1,
                          published_version=None, uses=0, created_at=now, updated_at=now))
        s.flush()
        s.add(StudioVersion(agent_id=definition.id, version=1, definition=definition.to_data(), note=note,
                            author=creator.actor, created_at=now))
    audit.record(creator.actor, "studio.create", definition.id, {"version": 1})
    return detail(definition.id, creator)


def save(agent_id: str, data: dict[str, Any], principal: Principal | None, note: str = "") -> AgentDetail:
    """A new version (a draft until published); the live version is unchanged."""
    editor = _require_creator(principal)
    definition = validated(data)
    if definition.id != agent_id:
        raise invalid(f"id: 定义的 id '{definition.id}' 与智能体 '{agent_id}' 不一致",
                      [{"loc": ["id"], "msg": "the id cannot change"}])
    check(definition, editor)
    with database().session() as s:
        row = _row(s, agent_id, editor)
        if not _may_edit(row, editor):
            raise forbidden("只有创建者或管理员可以修改 only the owner or an admin may edit")
        row.latest_version += 1
        row.name, row.category, row.updated_at = definition.name, definition.category, utcnow()
        s.add(StudioVersion(agent_id=agent_id, version=row.latest_version, definition=definition.to_data(),
                            note=note, author=editor.actor, created_at=row.updated_at))
        version = row.latest_version
    audit.record(editor.actor, "studio.save", agent_id, {"version": version})
    return detail(agent_id, editor)


def publish(agent_id: str, principal: Principal | None, version: int | None = None,
            visibility: Visibility | None = None) -> AgentDetail:
    """Make a version live (the newest by default; an earlier one is a rollback) at a visibility."""
    editor = _require_creator(principal)
    with database().session() as s:
        row = _row(s, agent_id, editor)
        if not _may_edit(row, editor):
            raise forbidden("只有创建者或管理员可以发布 only the owner or an admin may publish")
        chosen = _version(s, agent_id, version or row.latest_version)
        definition = validated(chosen.definition)
        check(definition, editor)  # permissions may have changed since it was saved
        visibility = visibility or (row.visibility if row.status == "published" else "personal")
        if visibility == "city" and editor.role.value not in CITY_PUBLISHERS:
            raise forbidden("发布到全市需要运维人员或管理员 publishing to the whole city needs an operator or admin",
                            "city-publish")
        if visibility == "department" and not (editor.is_staff and row.owner_department):
            raise forbidden("部门可见需要工作人员且属于一个部门 department visibility needs a department's staff",
                            "department-publish")
        now = utcnow()
        chosen.published_at = now
        row.published_version, row.status, row.visibility, row.updated_at = chosen.version, "published", visibility, now
        row.name, row.category = definition.name, definition.category
        published = chosen.version
    audit.record(editor.actor, "studio.publish", agent_id, {"version": published, "visibility": visibility})
    bus.publish(CHANGED, {"agent": agent_id, "version": published, "visibility": visibility})
    return detail(agent_id, editor)


def withdraw(agent_id: str, principal: Principal | None) -> AgentDetail:
    editor = _require_creator(principal)
    with database().session() as s:
        row = _row(s, agent_id, editor)
        if not _may_edit(row, editor):
            raise forbidden("只有创建者或管理员可以下线 only the owner or an admin may withdraw")
        row.status, row.published_version, row.updated_at = "withdrawn", None, utcnow()
    audit.record(editor.actor, "studio.withdraw", agent_id, {})
    bus.publish(CHANGED, {"agent": agent_id, "version": None})
    return detail(agent_id, editor)


def definition_of(agent_id: str, principal: Principal | None, version: int | None = None) -> AgentDefinition:
    """A version's definition (default: the newest the caller may see: the published one for others)."""
    with database().session() as s:
        row = _row(s, agent_id, principal)
        if version is None:
            version = row.latest_version if principal is not None and _may_edit(row, principal) \
                else row.published_version
        if version is None:
            raise not_found(f"智能体 '{agent_id}' 没有已发布版本 not published", "not-published")
        if principal is None or not _may_edit(row, principal):
            if version != row.published_version:
                raise not_found(f"智能体 '{agent_id}' 没有第 {version} 版 unknown version", "unknown-version")
        return AgentDefinition.model_validate(_version(s, agent_id, version).definition)


def export(agent_id: str, principal: Principal | None, version: int | None = None, fmt: str = "yaml") -> str:
    return dump(definition_of(agent_id, principal, version), fmt)


def import_text(text: str, fmt: str, principal: Principal | None, note: str = "导入 imported") -> AgentDetail:
    """A definition file: a new agent, or a new version of one the caller owns."""
    try:
        data = parse(text, fmt)
    except ValueError as exc:
        raise invalid(str(exc)) from None
    agent_id = str(data.get("id", ""))
    with database().session() as s:
        exists = s.get(StudioAgent, agent_id) is not None
    return save(agent_id, data, principal, note) if exists else create(data, principal, note)


def _reactions(s: Session, ids: list[str], principal: Principal | None) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {i: {"likes": 0, "favourites": 0, "rating": None, "ratings": 0} for i in ids}
    rows = s.execute(select(StudioReaction.agent_id, func.sum(cast(StudioReaction.liked, Integer)),
                            func.sum(cast(StudioReaction.favourite, Integer)), func.avg(StudioReaction.rating),
                            func.count(StudioReaction.rating))
                     .where(StudioReaction.agent_id.in_(ids)).group_by(StudioReaction.agent_id))
    for agent_id, likes, favs, avg, count in rows:
        out[agent_id] = {"likes": int(likes or 0), "favourites": int(favs or 0),
                         "rating": round(float(avg), 2) if avg is not None else None, "ratings": int(count or 0)}
    if principal is not None:
        for r in s.scalars(select(StudioReaction).where(StudioReaction.agent_id.in_(ids),
                                                        StudioReaction.who == _who(principal))):
            out[r.agent_id].update(liked=r.liked, favourite=r.favourite, my_rating=r.rating)
    return out


def _view(row: StudioAgent, definition: dict[str, Any], reactions: dict[str, Any]) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "icon": definition.get("icon", ""), "category": row.category,
            "description": definition.get("description", ""), "visibility": row.visibility, "status": row.status,
            "owner": row.owner_key, "latest_version": row.latest_version, "published_version": row.published_version,
            "uses": row.uses, "updated_at": row.updated_at, "examples": definition.get("examples", [])[:5],
            "opening": definition.get("opening", []), **reactions}


def detail(agent_id: str, principal: Principal | None) -> AgentDetail:
    definition = definition_of(agent_id, principal)
    with database().session() as s:
        row = _row(s, agent_id, principal)
        editable = principal is not None and _may_edit(row, principal)
        versions = s.scalars(select(StudioVersion).where(StudioVersion.agent_id == agent_id)
                             .order_by(StudioVersion.version.desc())).all()
        shown = [VersionView(version=v.version, note=v.note, author=v.author, created_at=v.created_at,
                             published_at=v.published_at) for v in versions
                 if editable or v.version == row.published_version]
        data = definition.to_data()
        return AgentDetail(**_view(row, data, _reactions(s, [agent_id], principal)[agent_id]), definition=data,
                           versions=shown)


def catalogue(principal: Principal | None, q: str = "", category: str | None = None,
              sort: Literal["uses", "likes", "rating", "new"] = "uses", mine: bool = False,
              favourites: bool = False) -> list[AgentView]:
    """What the caller may see: published agents at their visibility, and their own drafts (`mine`)."""
    with database().session() as s:
        rows = [r for r in s.scalars(select(StudioAgent)) if may_see(r, principal)]
        if mine:
            rows = [r for r in rows if principal is not None and r.owner_key == _who(principal)]
        else:
            rows = [r for r in rows if r.status == "published"]
        if category:
            rows = [r for r in rows if r.category == category]
        defs = {}
        for r in rows:
            version = r.published_version if not mine or r.published_version else r.latest_version
            defs[r.id] = _version(s, r.id, version or r.latest_version).definition
        if q:
            words = [w for w in q.lower().split() if w]
            rows = [r for r in rows if all(w in _haystack(defs[r.id]) for w in words)]
        reactions = _reactions(s, [r.id for r in rows], principal)
        views = [AgentView(**_view(r, defs[r.id], reactions[r.id])) for r in rows]
    if favourites:
        views = [v for v in views if v.favourite]
    key = {"uses": lambda v: (-v.uses, v.id), "likes": lambda v: (-v.likes, v.id),
           "rating": lambda v: (-(v.rating or 0), v.id), "new": lambda v: (-v.updated_at.timestamp(), v.id)}[sort]
    return sorted(views, key=key)


def _haystack(definition: dict[str, Any]) -> str:
    return " ".join([definition.get("name", ""), definition.get("description", ""), definition.get("category", ""),
                     *definition.get("examples", [])]).lower()


def categories() -> list[str]:
    with database().session() as s:
        return sorted(set(s.scalars(select(StudioAgent.category).where(StudioAgent.status == "published"))))


def react(agent_id: str, principal: Principal | None, liked: bool | None = None, favourite: bool | None = None,
          rating: int | None = None) -> AgentView:
    who = _require_creator(principal)
    if rating is not None and not 1 <= rating <= 5:
        raise invalid("rating: 评分须为 1–5 a rating is 1 to 5", [{"loc": ["rating"], "msg": "1..5"}])
    with database().session() as s:
        row = _row(s, agent_id, who)
        if row.status != "published":
            raise Problem(409, "尚未发布 not published", "只能评价已发布的智能体", "not-published")
        mine = s.scalar(select(StudioReaction).where(StudioReaction.agent_id == agent_id,
                                                     StudioReaction.who == _who(who)))
        if mine is None:
            mine = StudioReaction(agent_id=agent_id, who=_who(who), liked=False, favourite=False, rating=None,
                                  updated_at=utcnow())
            s.add(mine)
        if liked is not None:
            mine.liked = liked
        if favourite is not None:
            mine.favourite = favourite
        if rating is not None:
            mine.rating = rating
        mine.updated_at = utcnow()
    return next(v for v in catalogue(who, mine=False) + catalogue(who, mine=True) if v.id == agent_id)


def count_use(agent_id: str) -> None:
    with database().session() as s:
        row = s.get(StudioAgent, agent_id)
        if row is not None:
            row.uses += 1


def published(visibility: str | None = "city") -> list[tuple[AgentDefinition, int]]:
    """The live definitions (at `visibility`, or all when None) with their versions."""
    with database().session() as s:
        rows = s.scalars(select(StudioAgent).where(StudioAgent.status == "published")
                         .order_by(StudioAgent.id)).all()
        out = []
        for r in rows:
            if visibility is None or r.visibility == visibility:
                assert r.published_version is not None
                out.append((AgentDefinition.model_validate(_version(s, r.id, r.published_version).definition),
                            r.published_version))
        return out


def usable(agent_id: str, principal: Principal | None) -> tuple[AgentDefinition, int]:
    """A live agent the caller may use (404 otherwise, its existence not disclosed)."""
    with database().session() as s:
        row = s.get(StudioAgent, agent_id)
        if row is None or row.status != "published" or not may_see(row, principal):
            raise not_found(f"智能体 '{agent_id}' 不存在或未发布 unknown agent", "unknown-agent")
        assert row.published_version is not None
        return AgentDefinition.model_validate(_version(s, agent_id, row.published_version).definition), \
            row.published_version


def register_published(registry: AgentRegistry) -> list[str]:
    """Add the agents published for the whole city to `registry` (the assistant's): their examples then
    reach the router and the mode classifier. Their tools are the registry's own skills."""
    def resolve_in(tool_id: str) -> Skill | None:
        agent_id, _, skill_id = tool_id.partition(".")
        try:
            return registry.skill(agent_id, skill_id)
        except KeyError:
            return None

    added = []
    known = {a.id for a in registry.agents()}
    for definition, version in published("city"):
        if definition.id not in known:
            registry.register(runtime.build(definition, resolve_in, version, count_use))
            added.append(definition.id)
    return added


def city_registry() -> AgentRegistry:
    """The agents the city's assistant serves: the declared ones, YAML agents in `<data dir>/agents`
    and the co-created agents published for the whole city."""
    registry = default_registry([settings().data_dir / "agents"])
    register_published(registry)
    return registry


def require_editor(agent_id: str, principal: Principal, definition: AgentDefinition) -> None:
    """Trying a draft: an existing agent's owner (or an admin); a new one's id must be the one tried."""
    if definition.id != agent_id:
        raise invalid(f"id: 定义的 id '{definition.id}' 与 '{agent_id}' 不一致", [{"loc": ["id"], "msg": "id mismatch"}])
    with database().session() as s:
        row = s.get(StudioAgent, agent_id)
        if row is not None and not _may_edit(row, principal):
            raise not_found(f"智能体 '{agent_id}' 不存在 unknown agent", "unknown-agent")
