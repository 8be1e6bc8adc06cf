"""Small, deterministic inline-SVG line charts for the HTML pack (no script, no external resource).

A chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` naming what it shows;
the figures themselves are in a data table next to it. Missing months are gaps in the
line (a lone month is still drawn as a marker). Series differ by colour, dash pattern
and marker shape, so colour is never the only cue; lines and text meet the WCAG
contrast minimums on white. Coordinates are printed with one decimal place, so the
same input always gives the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from ..spec.periods import axis_parts

W, H = 640, 290
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 44, 48
TEXT = "#0b0c0c"
STYLES = (  # (colour, dash pattern, marker)
    ("#1d70b8", "", "circle"), ("#d4351c", "7 4", "square"), ("#4c2c92", "2 3", "diamond"),
    ("#00703c", "12 3 2 3", "circle"))  # a fourth line (the four JOBS II 6.23 proportions): its own colour and dash
TARGET = ("#0b0c0c", "8 5")
_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]
    target: bool = False  # drawn as a dashed reference line, without markers


def _f(x: float) -> str:
    return f"{x:.1f}"


def nice_step(span: float, max_ticks: int = 6) -> float:
    raw = span / max_ticks if span > 0 else 1
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def y_range(values: list[float], percent: bool) -> tuple[float, float, float]:
    """(low, high, step). Percentages run to 100, from 0 or, when every value is 50 or more,
    zoomed to start at a multiple of 10 below the lowest value (the description says so)."""
    if percent:
        lo = min(values, default=0.0)
        low = 0.0 if lo < 50 else max(0.0, math.floor((lo - 5) / 10) * 10)
        return low, 100.0, 5.0 if 100 - low <= 30 else 10.0 if 100 - low <= 60 else 20.0
    hi = max(values, default=0.0)
    step = nice_step(hi or 1)
    return 0.0, max(step, math.ceil(hi / step) * step), step


def _tick(v: float, percent: bool) -> str:
    text = f"{v:g}" if v < 1e6 else f"{v:,.0f}"
    return text + ("%" if percent else "")


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{_f(x - 3.5)}" y="{_f(y - 3.5)}" width="7" height="7" fill="{colour}"/>'
    if kind == "diamond":
        return (f'<path d="M{_f(x)} {_f(y - 5)}L{_f(x + 5)} {_f(y)}L{_f(x)} {_f(y + 5)}L{_f(x - 5)} {_f(y)}Z" '
                f'fill="{colour}"/>')
    return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4" fill="{colour}"/>'


def _path(points: list[tuple[float, float] | None]) -> str:
    """Line segments over runs of present points; a gap breaks the line."""
    d, pen_down = [], False
    for p in points:
        if p is None:
            pen_down = False
            continue
        d.append(f"{'L' if pen_down else 'M'}{_f(p[0])} {_f(p[1])}")
        pen_down = True
    return "".join(d)


def month_axis_labels(months: list[str]) -> list[tuple[str, str]]:
    """('Nov', '2025') for the first month and every January, ('Dec', '') otherwise."""
    return [(_ABBR[int(m[5:7]) - 1], m[:4] if i == 0 or m[5:7] == "01" else "") for i, m in enumerate(months)]


def period_axis_labels(headings: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """('Q2', '2026-27') for the first quarter and every new year, ('Q3', '') otherwise; a year alone a point."""
    parts = [axis_parts(h) for h in headings]
    return [(short, year if i == 0 or year != parts[i - 1][1] else "") for i, (short, year) in enumerate(parts)]


def line_chart(chart_id: str, months: list[str], series: list[Series], *, title: str, desc: str,
               percent: bool = True, y_label: str = "", gaps: list[str] | None = None,
               axis: list[tuple[str, str]] | None = None) -> str:
    """An inline SVG line chart of ``series`` over ``months`` ("YYYY-MM"). ``chart_id`` must be unique in the page.
    ``gaps``: a word per month written low in its column where the line has a gap ('no return', 'none due'),
    so a missing return and a month with no cases due do not look the same."""
    present = [v for s in series for v in s.values if v is not None]
    low, high, step = y_range(present, percent)
    if low > 0:
        desc += f" The vertical axis starts at {_tick(low, percent)}, not zero."
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    n = max(len(months), 1)
    xs = [LEFT + (i + 0.5) * pw / n for i in range(n)]
    y = lambda v: TOP + ph * (1 - (min(max(v, low), high) - low) / (high - low))  # noqa: E731
    cid = escape(chart_id, quote=True)
    out = [f'<svg class="chart" role="img" aria-labelledby="{cid}-title {cid}-desc" viewBox="0 0 {W} {H}" '
           f'width="{W}" height="{H}" font-size="12" fill="{TEXT}">',
           f'<title id="{cid}-title">{escape(title)}</title>', f'<desc id="{cid}-desc">{escape(desc)}</desc>']
    ticks = [low + i * step for i in range(int(round((high - low) / step)) + 1)]
    for t in ticks:
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{_f(y(t))}" y2="{_f(y(t))}" stroke="#b1b4b6" '
                   f'stroke-width="{1 if t != low else 1.5}"/>')
        out.append(f'<text x="{LEFT - 6}" y="{_f(y(t) + 4)}" text-anchor="end">{escape(_tick(t, percent))}</text>')
    if y_label:
        out.append(f'<text x="{LEFT}" y="{TOP - 26}" font-weight="bold">{escape(y_label)}</text>')
    for x, (mon, year) in zip(xs, axis or month_axis_labels(months)):  # axis: a quarter's or a year's points
        # Escaped: a quarter's or a year's label comes from the ledger, not from this module's own list.
        out.append(f'<text x="{_f(x)}" y="{H - BOTTOM + 18}" text-anchor="middle">{escape(mon)}</text>')
        if year:
            out.append(f'<text x="{_f(x)}" y="{H - BOTTOM + 34}" text-anchor="middle">{escape(year)}</text>')
    for x, word in zip(xs, gaps or []):
        if word:
            out.append(f'<text x="{_f(x)}" y="{_f(TOP + ph - 6)}" text-anchor="middle" font-size="10">'
                       f'{escape(word)}</text>')
    lx, data_no = LEFT, 0
    for s in series:
        colour, dash, marker = (*TARGET, "") if s.target else STYLES[data_no % len(STYLES)]
        data_no += 0 if s.target else 1
        pts = [None if v is None else (x, y(v)) for x, v in zip(xs, s.values)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<path d="{_path(pts)}" fill="none" stroke="{colour}" stroke-width="{2 if s.target else 2.5}"'
                   f'{dash_attr}/>')
        if not s.target:
            out += [_marker(marker, p[0], p[1], colour) for p in pts if p is not None]
        # legend: a short sample of the line (and marker), then the name
        ly = TOP - 12 if y_label == "" else TOP - 8
        out.append(f'<line x1="{lx}" x2="{lx + 26}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2.5"'
                   f'{dash_attr}/>')
        if not s.target:
            out.append(_marker(marker, lx + 13, ly, colour))
        out.append(f'<text x="{lx + 32}" y="{ly + 4}">{escape(s.name)}</text>')
        lx += 32 + 7 * len(s.name) + 24
    out.append("</svg>")
    return "\n".join(out)
