"""The daily city-operations briefing (城市运行日报) as Markdown, and as one self-contained HTML
page with inline SVG charts (no scripts, no fonts or styles from elsewhere)."""

from __future__ import annotations

from html import escape
from typing import Any

MEDIA_TYPES = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}
_BAR_COLOUR = "#2f6fb0"
_LINE_COLOURS = {"new": "#d9534f", "done": "#2e8b57"}
_SERIES_NAMES = {"new": "新增", "done": "办结"}


def _figures(b: dict[str, Any]) -> list[tuple[str, int]]:
    return [("新增事件", b["new"]), ("当日办结", b["done"]), ("日终在办", b["open"]),
            ("当日超时升级", b["sla_breaches"]), ("在办已超时", b["overdue_open"])]


def _trend_line(r: dict[str, Any]) -> str:
    ratio = "新出现" if r["ratio"] is None else f"{r['ratio']} 倍"
    return (f"{r['name']}：近 {r['window_days']} 天 {r['current']} 起，前期均值 {r['baseline_mean']}（{ratio}，"
            f"p = {r['p_value']}）")


def _md_table(head: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _event_rows(events: list[dict[str, Any]]) -> list[list[Any]]:
    return [[e["id"], e["category_name"], e["district_name"], e["address"] or "—", e["status_name"],
             e["department_name"]] for e in events]


_EVENT_HEAD = ["事件编号", "类别", "区域", "地点", "状态", "责任部门"]


def markdown(b: dict[str, Any]) -> str:
    parts = [f"# 城市运行日报 {b['date']}", f"生成时间：{b['generated_at']}",
             "## 总体情况\n\n" + "\n".join(f"- {name}：**{n}** 起" for name, n in _figures(b))]
    for title, key, dim in (("事件类别前列", "top_categories", "类别"), ("事件区域分布", "top_districts", "区域")):
        rows = [[r["name"], r["count"], f"{r['share']:.0%}"] for r in b[key]]
        parts.append(f"## {title}\n\n" + (_md_table([dim, "事件数", "占比"], rows) if rows else "当日无新增事件。"))
    trends = "\n".join(f"- {_trend_line(r)}" for r in b["trends"]) or "无显著上升的类别或区域。"
    parts.append(f"## 上升趋势\n\n{trends}")
    for title, key in (("紧急事件", "urgent"), ("超时升级事件", "breached")):
        parts.append(f"## {title}\n\n" + (_md_table(_EVENT_HEAD, _event_rows(b[key])) if b[key] else "无。"))
    backlog = [[r["name"], r["open"], r["overdue"]] for r in b["backlog"]]
    parts.append("## 各部门在办积压\n\n" + (_md_table(["部门", "在办", "其中超时"], backlog) if backlog else "无在办事件。"))
    series = [[d["date"], d["new"], d["done"]] for d in b["series"]]
    parts.append(f"## 近 {len(series)} 天\n\n" + _md_table(["日期", "新增", "办结"], series))
    return "\n\n".join(parts) + "\n"


# --- SVG -----------------------------------------------------------------------------------------

def bar_chart(rows: list[dict[str, Any]], width: int = 520, bar: int = 22) -> str:
    """Horizontal bars, one per row ({name, count})."""
    if not rows:
        return '<p class="empty">无数据</p>'
    label_w, gap = 150, 6
    top = max(r["count"] for r in rows)
    height = len(rows) * (bar + gap) + gap
    out = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for i, r in enumerate(rows):
        y = gap + i * (bar + gap)
        w = max(1.0, (width - label_w - 50) * r["count"] / top)
        out.append(f'<text x="{label_w - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end">{escape(r["name"])}</text>'
                   f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" fill="{_BAR_COLOUR}"/>'
                   f'<text x="{label_w + w + 4:.1f}" y="{y + bar * 0.7:.1f}">{r["count"]}</text>')
    return "".join(out) + "</svg>"


def line_chart(series: list[dict[str, Any]], keys: tuple[str, ...] = ("new", "done"), width: int = 640,
               height: int = 220) -> str:
    """One polyline per key over the days of `series` ({date, new, done})."""
    left, right, top_pad, bottom = 36, 12, 12, 36
    top = max([1, *(d[k] for d in series for k in keys)])
    step = (width - left - right) / max(len(series) - 1, 1)

    def point(i: int, v: int) -> str:
        return f"{left + i * step:.1f},{height - bottom - (height - bottom - top_pad) * v / top:.1f}"

    out = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">',
           f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#999"/>',
           f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end">{top}</text>',
           f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end">0</text>']
    for key in keys:
        points = " ".join(point(i, d[key]) for i, d in enumerate(series))
        out.append(f'<polyline fill="none" stroke="{_LINE_COLOURS[key]}" stroke-width="2" points="{points}"/>')
    for i, d in enumerate(series):
        if i % 2 == len(series) % 2 or i == len(series) - 1:
            out.append(f'<text x="{left + i * step:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                       f'{escape(d["date"][5:])}</text>')
    for j, key in enumerate(keys):
        x = left + j * 80
        out.append(f'<rect x="{x}" y="{height - 12}" width="10" height="10" fill="{_LINE_COLOURS[key]}"/>'
                   f'<text x="{x + 14}" y="{height - 3}">{_SERIES_NAMES[key]}</text>')
    return "".join(out) + "</svg>"


# --- HTML ----------------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:2em auto;
max-width:960px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.figures{display:flex;flex-wrap:wrap;gap:1em}.figure{border:1px solid #ddd;border-radius:6px;padding:.6em 1em}
.figure b{display:block;font-size:1.6em}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ddd;padding:.3em .6em;text-align:left}th{background:#f4f6f8}
.chart text{font-size:12px;fill:#333}.muted{color:#777}.empty{color:#777}
""".strip()


def _html_table(head: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return '<p class="empty">无。</p>'
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def html(b: dict[str, Any]) -> str:
    figures = "".join(f'<div class="figure">{escape(name)}<b>{n}</b></div>' for name, n in _figures(b))
    trends = "".join(f"<li>{escape(_trend_line(r))}</li>" for r in b["trends"])
    backlog = [[r["name"], r["open"], r["overdue"]] for r in b["backlog"]]
    return "\n".join([
        "<!doctype html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>城市运行日报 {escape(b['date'])}</title><style>{_STYLE}</style></head><body>",
        f"<h1>城市运行日报 {escape(b['date'])}</h1>",
        f'<p class="muted">生成时间：{escape(b["generated_at"])}</p>',
        f'<h2>总体情况</h2><div class="figures">{figures}</div>',
        f"<h2>近 {len(b['series'])} 天新增与办结</h2>{line_chart(b['series'])}",
        f"<h2>事件类别前列</h2>{bar_chart(b['top_categories'])}",
        f"<h2>事件区域分布</h2>{bar_chart(b['top_districts'])}",
        "<h2>上升趋势</h2>" + (f"<ul>{trends}</ul>" if trends else '<p class="empty">无显著上升的类别或区域。</p>'),
        "<h2>紧急事件</h2>" + _html_table(_EVENT_HEAD, _event_rows(b["urgent"])),
        "<h2>超时升级事件</h2>" + _html_table(_EVENT_HEAD, _event_rows(b["breached"])),
        "<h2>各部门在办积压</h2>" + _html_table(["部门", "在办", "其中超时"], backlog),
        "</body></html>",
    ]) + "\n"


def render(b: dict[str, Any], fmt: str) -> str:
    """The briefing as `md` or `html` (json is the dict itself)."""
    return markdown(b) if fmt == "md" else html(b)
