"""The asset index: one list of the city's digital resources with owners, status and lineage.

What the platform knows it reads through the owning slices' service functions — datasets from the
data hub (`store.list_datasets`, lineage from `data.service.derived_from`), the platform's own APIs
from the slice declarations (a slice with HTTP routes is a `service`), skills from the assistant's
agent registry (a skill is a `component`, owned by its agent's department), model groups from the
gateway (`model`, its status from the gateway's health). What it cannot know — applications and
cloud resources — the city declares in a YAML file (demo: `demo/data/assets/declared.yaml`). `sync`
refreshes the discovered part; an asset no longer found is kept as `retired` (applications and
lineage may still name it).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import delete, or_, select

from aicity.assistant.service import assistant
from aicity.core import meta, slices
from aicity.core.db import database
from aicity.core.errors import bad_request, not_found
from aicity.core.ids import utcnow
from aicity.hub.data import service as data_service
from aicity.hub.data import store
from aicity.hub.gateway import service as gateway
from aicity.identity.service import department_name, list_departments
from aicity.ops.assets.models import Asset, AssetLink

KINDS = ("application", "dataset", "service", "component", "model", "cloud")
KIND_NAMES = {"application": "应用", "dataset": "数据", "service": "服务", "component": "组件", "model": "模型",
              "cloud": "云资源"}
STATUSES = ("active", "degraded", "planned", "retired", "missing")
RELATIONS = {"uses": "使用", "derived_from": "派生自", "hosted_on": "部署于"}
#: the installation's declared prices and default owners (meta key; set by `declare`)
_DECLARED_META = "assets.declared"

AssetId = str


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service_owner: str
    model_owner: str


class Prices(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model_per_1k_tokens: float = Field(ge=0)
    api_per_call: float = Field(ge=0)


class DeclaredApplication(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,79}$")
    name: str = Field(min_length=1, max_length=200)
    owner: str
    status: Literal["active", "degraded", "planned", "retired"] = "active"
    description: str = ""
    uses: list[str] = Field(default_factory=list)
    hosted_on: list[str] = Field(default_factory=list)


class DeclaredCloud(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,79}$")
    name: str = Field(min_length=1, max_length=200)
    owner: str
    status: Literal["active", "degraded", "planned", "retired"] = "active"
    kind: Literal["compute", "storage", "network", "database", "other"] = "other"
    monthly_cost_yuan: float = Field(ge=0)
    description: str = ""


class Declared(BaseModel):
    model_config = ConfigDict(extra="forbid")
    defaults: Defaults
    prices: Prices
    applications: list[DeclaredApplication] = Field(default_factory=list)
    cloud: list[DeclaredCloud] = Field(default_factory=list)


def demo_declared() -> Path:
    return Path(str(resources.files("aicity.demo") / "data" / "assets" / "declared.yaml"))


def parse_declared(raw: str) -> Declared:
    """The city's YAML, checked; a clear 400 `bad-declaration` otherwise."""
    try:
        return Declared.model_validate(yaml.safe_load(raw))
    except yaml.YAMLError as exc:
        raise bad_request(f"资产声明不是有效的 YAML / not valid YAML: {exc}", "bad-declaration") from None
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise bad_request(f"资产声明格式错误 / the declaration is malformed: {where}", "bad-declaration") from None


def declared() -> Declared | None:
    raw = meta.get_meta(_DECLARED_META)
    return Declared.model_validate_json(raw) if raw else None


def prices() -> Prices:
    found = declared()
    return found.prices if found else Prices(model_per_1k_tokens=0.0, api_per_call=0.0)


# ---- discovery ----------------------------------------------------------------------------------

def _row(asset_id: str, kind: str, name: str, owner: str, status: str, source: str, description: str = "",
         **extra: Any) -> dict[str, Any]:
    return {"id": asset_id, "kind": kind, "name": name, "owner": owner, "status": status, "source": source,
            "description": description, "meta": extra}


def _datasets() -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    rows, links = [], []
    for ds in store.list_datasets():
        rows.append(_row(f"dataset:{ds.id}", "dataset", ds.title, ds.owner_department or "data_bureau", "active",
                         "data", ds.description, grade=ds.grade, rows=ds.rows, version=ds.version,
                         category=ds.category))
        for child in data_service.derived_from(ds.id):
            links.append((f"dataset:{child}", f"dataset:{ds.id}", "derived_from"))
    return rows, links


def _services(owner: str) -> list[dict[str, Any]]:
    return [_row(f"service:{s.id}", "service", s.title or s.id, owner, "active", "slices",
                 f"平台切片 {s.id} 的 HTTP 接口 the HTTP API of the {s.id} slice", routers=len(s.routers))
            for s in slices.slices() if s.routers]


def _components() -> list[dict[str, Any]]:
    rows = []
    for agent in assistant().registry.agents():
        for skill in agent.skills:
            rows.append(_row(f"component:{agent.id}.{skill.id}", "component", f"{agent.name} · {skill.name}",
                             agent.department, "active", "registry", skill.description, agent=agent.id,
                             risk=skill.risk.value, roles=sorted(skill.roles) if skill.roles else None))
    return rows


def _models(owner: str) -> list[dict[str, Any]]:
    status = {"ok": "active", "degraded": "degraded", "down": "degraded"}
    return [_row(f"model:{g['name']}", "model", g["name"], owner, status[g["status"]], "gateway",
                 f"模型组 model group ({g['strategy']})", deployments=[d["name"] for d in g["deployments"]])
            for g in gateway.gateway().health()["groups"]]


def _declared_rows(found: Declared) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    rows, links = [], []
    for app in found.applications:
        rows.append(_row(f"application:{app.id}", "application", app.name, app.owner, app.status, "declared",
                         app.description))
        links += [(f"application:{app.id}", target, "uses") for target in app.uses]
        links += [(f"application:{app.id}", target, "hosted_on") for target in app.hosted_on]
    for c in found.cloud:
        rows.append(_row(f"cloud:{c.id}", "cloud", c.name, c.owner, c.status, "declared", c.description,
                         resource=c.kind, monthly_cost_yuan=c.monthly_cost_yuan))
    return rows, links


def _check_owners(rows: Iterable[dict[str, Any]]) -> None:
    known = {d.id for d in list_departments()}
    unknown = sorted({r["owner"] for r in rows} - known)
    if unknown:
        raise bad_request(f"未知的所有部门 unknown owner departments: {', '.join(unknown)}", "unknown-department")


def sync(found: Declared | None = None) -> dict[str, int]:
    """Refresh the index from the slices' service functions and the declared YAML (`found`, else the
    one declared before). One transaction; a link to an asset that does not exist is refused (400)."""
    found = found or declared()
    if found is None:
        raise bad_request("尚未声明资产（aicity assets declare FILE.yaml）/ nothing declared yet", "not-declared")
    rows, links = _datasets()
    rows += _services(found.defaults.service_owner) + _components() + _models(found.defaults.model_owner)
    more_rows, more_links = _declared_rows(found)
    rows += more_rows
    links += more_links
    _check_owners(rows)
    ids = {r["id"] for r in rows}
    # model groups come from the gateway's configuration, which differs between deployments: a group an
    # application names and this gateway does not serve is indexed as missing, not refused
    rows += [_row(dst, "model", dst.removeprefix("model:"), found.defaults.model_owner, "missing", "declared",
                  "声明的应用使用它，但本网关没有该模型组 named by a declared application, not served by this gateway")
             for dst in sorted({dst for _, dst, _ in links if dst.startswith("model:") and dst not in ids})]
    ids = {r["id"] for r in rows}
    dangling = sorted({f"{src} → {dst}" for src, dst, _ in links if dst not in ids})
    if dangling:
        raise bad_request(f"血缘指向不存在的资产 lineage names unknown assets: {', '.join(dangling[:10])}",
                          "unknown-asset")
    now = utcnow()
    with database().session() as s:
        existing = {a.id: a for a in s.scalars(select(Asset))}
        for r in rows:
            asset = existing.pop(r["id"], None)
            if asset is None:
                s.add(Asset(**r, updated_at=now))
                continue
            for name, value in r.items():
                setattr(asset, name, value)
            asset.updated_at = now
        for gone in existing.values():  # no longer found: kept (applications name it), retired
            gone.status, gone.updated_at = "retired", now
        s.execute(delete(AssetLink))
        for src, dst, relation in sorted(set(links)):
            s.add(AssetLink(src=src, dst=dst, relation=relation, source="declared" if src.startswith(
                ("application:", "cloud:")) else "data"))
    counts = {k: sum(1 for r in rows if r["kind"] == k) for k in KINDS}
    return {**counts, "links": len(set(links)), "retired": len(existing)}


def declare(raw: str) -> dict[str, int]:
    """Take the city's declaration (applications, cloud resources, default owners, prices) and sync."""
    found = parse_declared(raw)
    counts = sync(found)  # refused (400) before anything is kept when a link or owner is unknown
    meta.set_meta(_DECLARED_META, found.model_dump_json())
    return counts


# ---- reading --------------------------------------------------------------------------------------

def asset_json(a: Asset) -> dict[str, Any]:
    return {"id": a.id, "kind": a.kind, "name": a.name, "owner": a.owner, "owner_name": department_name(a.owner),
            "status": a.status, "source": a.source, "description": a.description, "meta": a.meta,
            "updated_at": a.updated_at.isoformat()}


def list_assets(kind: str | None = None, owner: str | None = None, status: str | None = None,
                query: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    if kind is not None and kind not in KINDS:
        raise bad_request(f"未知资产类型 unknown kind '{kind}'; one of {', '.join(KINDS)}", "unknown-kind")
    q = select(Asset).order_by(Asset.kind, Asset.id).limit(limit)
    if kind:
        q = q.where(Asset.kind == kind)
    if owner:
        q = q.where(Asset.owner == owner)
    if status:
        q = q.where(Asset.status == status)
    if query:
        like = f"%{query}%"
        q = q.where(or_(Asset.name.like(like), Asset.id.like(like), Asset.description.like(like)))
    with database().session() as s:
        return [asset_json(a) for a in s.scalars(q)]


def get(asset_id: str) -> Asset:
    with database().session() as s:
        asset = s.get(Asset, asset_id)
    if asset is None:
        raise not_found(f"资产 '{asset_id}' 不存在 / unknown asset", "unknown-asset")
    return asset


def lineage(asset_id: str) -> dict[str, Any]:
    """What the asset uses (upstream) and what uses it (downstream), one step each way."""
    get(asset_id)
    with database().session() as s:
        up = s.scalars(select(AssetLink).where(AssetLink.src == asset_id)).all()
        down = s.scalars(select(AssetLink).where(AssetLink.dst == asset_id)).all()
        names = {a.id: a.name for a in s.scalars(select(Asset).where(
            Asset.id.in_({link.dst for link in up} | {link.src for link in down})))}
    return {"upstream": [{"id": link.dst, "name": names.get(link.dst, link.dst), "relation": link.relation}
                         for link in up],
            "downstream": [{"id": link.src, "name": names.get(link.src, link.src), "relation": link.relation}
                           for link in down]}


def summary() -> dict[str, Any]:
    with database().session() as s:
        assets = s.scalars(select(Asset)).all()
    by_kind = {k: sum(1 for a in assets if a.kind == k) for k in KINDS}
    by_status = {st: sum(1 for a in assets if a.status == st) for st in STATUSES}
    return {"total": len(assets), "by_kind": by_kind, "by_status": by_status}
