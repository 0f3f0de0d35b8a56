"""How service items and bundles read in an answer (Markdown), with the demo-city
assumptions marked and the legal basis cited."""

from __future__ import annotations

from aicity.agents.base import Section
from aicity.agents.citing import CitationList
from aicity.hub.catalog.schemas import ServiceItem, TimeLimit
from aicity.identity import service as identity

DEMO_MARK = "（示范城市设定）"
CHANNEL_LABELS = {"online": "网上办理", "window": "窗口办理"}


def demo_mark(item_or_bundle: object, field: str) -> str:
    return DEMO_MARK if field in getattr(item_or_bundle, "demo_assumptions", []) else ""


def time_limit_text(limit: TimeLimit | None, owner: object, prefix: str = "time_limit") -> str:
    if limit is None:
        return "—"
    parts = []
    if limit.statutory:
        parts.append(f"法定时限：{limit.statutory}")
    elif limit.statutory_days is not None:
        parts.append(f"法定时限：{limit.statutory_days}个工作日")
    if limit.committed_days is not None:
        committed = "即办（当场办结）" if limit.committed_days == 0 else f"{limit.committed_days}个工作日"
        parts.append(f"承诺时限：{committed}{demo_mark(owner, f'{prefix}.committed_days')}")
    if limit.note:
        parts.append(limit.note)
    return "；".join(parts) or "—"


def channels_text(item: ServiceItem) -> str:
    text = "、".join(CHANNEL_LABELS[c] for c in item.channels)
    if item.online_note:
        text += f"（{item.online_note}{demo_mark(item, 'online_note')}）"
    if item.window and "window" in item.channels:
        text += f"；窗口：{item.window}{demo_mark(item, 'window')}"
    return text


def item_sections(item: ServiceItem, cites: CitationList) -> list[Section]:
    """The full guide to one item (咨询导办)."""
    basics = [
        f"- 办理部门：{identity.department_name(item.department)}",
        f"- 事项类型：{item.type}",
        f"- 办理渠道：{channels_text(item)}",
        f"- 办理时限：{time_limit_text(item.time_limit, item)}",
        f"- 收费：{item.fee}{demo_mark(item, 'fee')}",
    ]
    if item.commitment:
        basics.append(f"- 告知承诺制：可适用{demo_mark(item, 'commitment')}" + (f"，{item.commitment_note}" if item.commitment_note else ""))
    sections = [Section(title=f"{item.name}", body=item.summary + "\n\n" + "\n".join(basics), kind="overview")]
    if item.conditions:
        sections.append(Section(title="申请条件", body="\n".join(f"- {c}" for c in item.conditions), kind="conditions"))
    if item.materials:
        sections.append(Section(title="所需材料", body=materials_text(item), kind="materials"))
    if item.steps:
        sections.append(Section(title="办理流程", body="\n".join(f"{i}. {s}" for i, s in enumerate(item.steps, 1)), kind="steps"))
    basis = cites.refs(item.legal_basis)
    if basis:
        sections.append(Section(title="法律依据", body=basis, kind="legal"))
    return sections


def materials_text(item: ServiceItem) -> str:
    lines = []
    for m in item.materials:
        flag = "必需" if m.required else "视情况"
        lines.append(f"- {m.name}（{flag}）" + (f"：{m.note}" if m.note else ""))
    return "\n".join(lines)


def item_line(n: int, item: ServiceItem, note: str | None, cites: CitationList) -> str:
    """One step of a bundle: what, where, how long, on what basis."""
    basis = cites.refs(item.legal_basis[:1])
    parts = [
        f"{n}. **{item.name}** — {identity.department_name(item.department)}",
        f"   - {channels_text(item)}；{time_limit_text(item.time_limit, item)}；{item.fee}{demo_mark(item, 'fee')}",
        "   - 材料：" + "、".join(m.name for m in item.materials if m.required),
    ]
    if item.commitment:
        parts.append("   - 可适用告知承诺制" + demo_mark(item, "commitment"))
    if note:
        parts.append(f"   - 说明：{note}")
    if basis:
        parts.append(f"   - 依据：{basis}")
    return "\n".join(parts)
