"""Inline SVG charts and number formats shared by the reports and the board (no JS library).

Every chart is an `<svg class="chart" data-chart=ID data-points=N>` with one `<circle>` or
`<rect>` per data point carrying `data-value`, so a test can find the chart and its data in the
rendered DOM, and a `<title>` per point for the browser's tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Any

PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777")


def number(value: Any) -> float | None:
    """A database value (Decimal, int, float, None) as a float."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return float(value)


def fmt(value: Any, kind: str) -> str:
    """money (yuan), count, rate (a share shown in %), seconds."""
    v = number(value)
    if v is None:
        return "—"
    if kind == "money":
        return f"¥{v:,.2f}"
    if kind == "rate":
        return f"{v * 100:.1f}%"
    if kind == "seconds":
        return f"{v:,.1f} s"
    return f"{v:,.0f}"


def change(current: Any, previous: Any, kind: str) -> tuple[str, str]:
    """(text, css class) of the change from `previous`: relative for amounts and counts,
    percentage points for rates."""
    cur, prev = number(current), number(previous)
    if cur is None or prev is None:
        return "—", "flat"
    if kind == "rate":
        delta = (cur - prev) * 100
        text = f"{delta:+.1f} pp"
    else:
        if prev == 0:
            return ("—", "flat") if cur == 0 else ("new", "up")
        delta = (cur - prev) / prev * 100
        text = f"{delta:+.1f}%"
    if abs(delta) < 0.05:
        return text, "flat"
    return ("▲ " if delta > 0 else "▼ ") + text, "up" if delta > 0 else "down"


@dataclass
class Series:
    name: str
    values: list[float | None]
    dashed: bool = False


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 0.1
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def line_chart(
    chart_id: str,
    title: str,
    labels: list[str],
    series: list[Series],
    kind: str,
    width: int = 460,
    height: int = 200,
) -> str:
    """A line chart of one or more series over `labels` (x axis); gaps where a value is None."""
    left, right, top, bottom = 64, 24, 28, 34 if len(series) == 1 else 46
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    points_total = len(values)
    lo = min(0.0, *values) if values else 0.0
    hi = _nice_max(max(values)) if values else 1.0
    if kind == "rate":
        hi = 1.0 if not values or max(values) > 0.5 else _nice_max(max(values))
    span = (hi - lo) or 1.0
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - (v - lo) / span * plot_h

    parts = [
        f'<svg class="chart" role="img" data-chart="{escape(chart_id)}" '
        f'data-points="{points_total}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text class="chart-title" x="{left}" y="16">{escape(title)}</text>',
    ]
    for k in range(5):  # horizontal grid with labels
        v = lo + span * k / 4
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(v):.1f}" '
            f'y2="{y(v):.1f}"/><text class="axis" x="{left - 6}" y="{y(v) + 4:.1f}" '
            f'text-anchor="end">{escape(fmt_axis(v, kind))}</text>'
        )
    step = max(1, (n + 6) // 7)
    for i, label in enumerate(labels):
        if (n - 1 - i) % step == 0:  # always label the last (latest) point
            parts.append(
                f'<text class="axis" x="{x(i):.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    for index, s in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        segments: list[list[str]] = [[]]
        for i, v in enumerate(s.values):
            if v is None:
                segments.append([])
            else:
                segments[-1].append(f"{x(i):.1f},{y(v):.1f}")
        dash = ' stroke-dasharray="5 4"' if s.dashed else ""
        for segment in segments:
            if len(segment) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} '
                    f'points="{" ".join(segment)}"/>'
                )
        for i, v in enumerate(s.values):
            if v is not None:
                label = labels[i] if i < len(labels) else ""
                parts.append(
                    f'<circle class="point" cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" '
                    f'fill="{color}" data-series="{escape(s.name)}" data-label="{escape(label)}" '
                    f'data-value="{v!r}"><title>{escape(s.name)} {escape(label)}: '
                    f"{escape(fmt(v, kind))}</title></circle>"
                )
    if len(series) > 1:  # legend
        lx = left
        for index, s in enumerate(series):
            color = PALETTE[index % len(PALETTE)]
            parts.append(
                f'<rect x="{lx}" y="{height - 10}" width="10" height="4" fill="{color}"/>'
                f'<text class="axis" x="{lx + 14}" y="{height - 4}">{escape(s.name)}</text>'
            )
            lx += 14 + 7 * len(s.name) + 24
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    chart_id: str, title: str, rows: list[tuple[str, float | None]], kind: str, width: int = 460
) -> str:
    """Horizontal bars, one per (label, value) row, longest = the largest value."""
    bar_h, gap, top, left = 18, 6, 28, 150
    height = top + len(rows) * (bar_h + gap) + 8
    values = [v for _, v in rows if v is not None]
    hi = max(values) if values and max(values) > 0 else 1.0
    plot_w = width - left - 90
    parts = [
        f'<svg class="chart" role="img" data-chart="{escape(chart_id)}" '
        f'data-points="{len(values)}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text class="chart-title" x="0" y="16">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = 0.0 if value is None else max(1.0, plot_w * value / hi)
        parts.append(
            f'<text class="axis" x="{left - 6}" y="{y + 13}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="bar" x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
            f'fill="{PALETTE[0]}" data-label="{escape(label)}" data-value="{value!r}">'
            f"<title>{escape(label)}: {escape(fmt(value, kind))}</title></rect>"
            f'<text class="axis" x="{left + w + 6:.1f}" y="{y + 13}">'
            f"{escape(fmt(value, kind))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def fmt_axis(value: float, kind: str) -> str:
    if kind == "rate":
        return f"{value * 100:.0f}%"
    if abs(value) >= 10_000:
        return f"{value / 10_000:,.1f}萬"
    if kind == "money":
        return f"¥{value:,.0f}"
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"
