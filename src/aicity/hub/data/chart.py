"""Small SVG charts for answers: a bar chart for values by group, a line chart for a time series.
Written by hand (no plotting library): every text is XML-escaped, numbers are formatted here,
nothing from the question is placed in the SVG unescaped."""

from __future__ import annotations

from xml.sax.saxutils import escape

WIDTH, BAR_H, GAP, LABEL_W, PAD = 560, 22, 6, 150, 12


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.2f}"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}" '
            f'font-family="sans-serif" font-size="12"><title>{escape(title)}</title>' + "".join(body) + "</svg>")


def bar(title: str, labels: list[str], values: list[float], unit: str = "") -> str:
    """Horizontal bars, one per label, longest first as given."""
    top = max((v for v in values if v is not None), default=0) or 1
    height = PAD * 2 + 20 + len(labels) * (BAR_H + GAP)
    body = [f'<text x="{PAD}" y="{PAD + 10}" font-weight="bold">{escape(title)}</text>']
    span = WIDTH - LABEL_W - PAD * 2 - 70
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        y = PAD + 24 + i * (BAR_H + GAP)
        w = max(1, round(span * max(v or 0, 0) / top))
        body.append(f'<text x="{LABEL_W - 6}" y="{y + BAR_H - 7}" text-anchor="end">{escape(label[:18])}</text>')
        body.append(f'<rect x="{LABEL_W}" y="{y}" width="{w}" height="{BAR_H}" fill="#3b82f6"/>')
        body.append(f'<text x="{LABEL_W + w + 4}" y="{y + BAR_H - 7}">{escape(_num(v or 0) + unit)}</text>')
    return _svg(WIDTH, height, title, body)


def line(title: str, labels: list[str], values: list[float], unit: str = "") -> str:
    """A line over ordered periods, with a dot and the value at each."""
    height, left, bottom = 260, 56, 36
    plot_w, plot_h = WIDTH - left - PAD, height - bottom - PAD - 24
    known = [v for v in values if v is not None]
    lo, hi = (min(known), max(known)) if known else (0, 1)
    lo = min(lo, 0)
    rng = (hi - lo) or 1
    step = plot_w / max(1, len(values) - 1)
    points = [(left + i * step, PAD + 24 + plot_h - (plot_h * ((v or 0) - lo) / rng)) for i, v in enumerate(values)]
    body = [f'<text x="{PAD}" y="{PAD + 10}" font-weight="bold">{escape(title)}</text>',
            f'<line x1="{left}" y1="{PAD + 24 + plot_h}" x2="{left + plot_w}" y2="{PAD + 24 + plot_h}" stroke="#999"/>',
            f'<text x="{left - 4}" y="{PAD + 28}" text-anchor="end">{escape(_num(hi) + unit)}</text>',
            f'<text x="{left - 4}" y="{PAD + 24 + plot_h}" text-anchor="end">{escape(_num(lo) + unit)}</text>',
            '<polyline fill="none" stroke="#3b82f6" stroke-width="2" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>']
    every = max(1, len(labels) // 12)
    for i, ((x, y), label) in enumerate(zip(points, labels, strict=True)):
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1d4ed8"/>')
        if i % every == 0:
            body.append(f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle">{escape(label[-5:])}</text>')
    return _svg(WIDTH, height, title, body)
