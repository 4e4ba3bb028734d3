"""Charts a practice's conversation invitation and reports attach: each main indicator's score over
time against its target and the national average, as one self-contained SVG (no fonts or scripts
fetched, opens in any browser or mail client).

A figure over fewer patients than the policy judges is drawn as an open point, its tooltip says so, and the legend
explains it (only when a chart has one).

Invariant: pure rendering of the figures given; the same figures give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape

from domain.vocabulary import figure_nl, small_numbers_nl

PANEL_W, PANEL_H, COLUMNS = 300, 170, 3
LEFT, RIGHT, TOP, BOTTOM = 36, 12, 40, 26


@dataclass(frozen=True)
class Series:
    title: str  # the indicator's code, e.g. "dm2/hba1c_measured"
    subtitle: str  # its Dutch name
    points: Sequence[tuple[date, float]]  # (period end, score 0-100)
    target: float | None
    national: Mapping[int, float]  # year -> national average
    small: Mapping[date, tuple[int, int]] = field(default_factory=dict)  # period end -> counts too few to judge
    min_denominator: int | None = None


def _x(day: date, first: date, last: date, x0: float) -> float:
    span = max((last - first).days, 1)
    return x0 + LEFT + (PANEL_W - LEFT - RIGHT) * (day - first).days / span


def _y(value: float, y0: float) -> float:
    return y0 + TOP + (PANEL_H - TOP - BOTTOM) * (1 - value / 100)


def _panel(series: Series, x0: float, y0: float, first: date, last: date) -> list[str]:
    subtitle = series.subtitle if len(series.subtitle) <= 52 else series.subtitle[:51] + "…"
    out = [f'<g><text x="{x0 + 8}" y="{y0 + 13}" font-size="11" font-weight="bold">{escape(series.title)}</text>',
           f'<text x="{x0 + 8}" y="{y0 + 25}" font-size="9" fill="#555">{escape(subtitle)}</text>']
    for level in (0, 50, 100):
        y = _y(level, y0)
        out.append(f'<line x1="{x0 + LEFT}" y1="{y:.1f}" x2="{x0 + PANEL_W - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 + LEFT - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end">{level}</text>')
    for day, anchor in ((first, "start"), (last, "end")):
        out.append(f'<text x="{_x(day, first, last, x0):.1f}" y="{y0 + PANEL_H - 8}" font-size="9" '
                   f'text-anchor="{anchor}">{day.isoformat()}</text>')
    if series.target is not None:
        y = _y(series.target, y0)
        out.append(f'<line x1="{x0 + LEFT}" y1="{y:.1f}" x2="{x0 + PANEL_W - RIGHT}" y2="{y:.1f}" '
                   'stroke="#2a7d2a" stroke-dasharray="6 3"><title>streefwaarde</title></line>')
    national = []  # the average of the period's year, else the latest earlier year (as the rules read it)
    for day, _ in series.points:
        years = [year for year in series.national if year <= day.year]
        if years:
            national.append((day, series.national[max(years)]))
    if national:
        path = " ".join(f"{_x(d, first, last, x0):.1f},{_y(v, y0):.1f}" for d, v in national)
        out.append(f'<polyline points="{path}" fill="none" stroke="#c77c00" stroke-dasharray="2 3">'
                   '<title>landelijk gemiddelde</title></polyline>')
    if series.points:
        path = " ".join(f"{_x(d, first, last, x0):.1f},{_y(v, y0):.1f}" for d, v in series.points)
        out.append(f'<polyline points="{path}" fill="none" stroke="#1f4e9c" stroke-width="2"/>')
        for d, v in series.points:
            if d in series.small:  # too few patients to judge: an open point that says so
                numerator, denominator = series.small[d]
                out.append(f'<circle cx="{_x(d, first, last, x0):.1f}" cy="{_y(v, y0):.1f}" r="3" fill="white" '
                           f'stroke="#1f4e9c" stroke-width="1.5"><title>{d.isoformat()}: '
                           f'{escape(figure_nl(v, numerator, denominator, series.min_denominator))}</title></circle>')
                continue
            out.append(f'<circle cx="{_x(d, first, last, x0):.1f}" cy="{_y(v, y0):.1f}" r="2.5" fill="#1f4e9c">'
                       f'<title>{d.isoformat()}: {v:.1f}%</title></circle>')
    out.append("</g>")
    return out


def practice_chart_svg(title: str, series: Sequence[Series]) -> str:
    """Small multiples, one panel per indicator, with a legend in Dutch."""
    days = [d for s in series for d, _ in s.points]
    first, last = (min(days), max(days)) if days else (date(2000, 1, 1), date(2000, 12, 31))
    rows = max(1, -(-len(series) // COLUMNS))
    width, height = COLUMNS * PANEL_W, rows * PANEL_H + 60
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
           '<g font-size="11"><line x1="10" y1="40" x2="34" y2="40" stroke="#1f4e9c" stroke-width="2"/>'
           '<text x="40" y="44">score praktijk</text>'
           '<line x1="150" y1="40" x2="174" y2="40" stroke="#2a7d2a" stroke-dasharray="6 3"/>'
           '<text x="180" y="44">streefwaarde</text>'
           '<line x1="290" y1="40" x2="314" y2="40" stroke="#c77c00" stroke-dasharray="2 3"/>'
           '<text x="320" y="44">landelijk gemiddelde</text></g>']
    minimum = next((s.min_denominator for s in series if s.small), None)
    if minimum is not None:
        out.append('<g font-size="11"><circle cx="452" cy="40" r="3" fill="white" stroke="#1f4e9c" stroke-width="1.5"/>'
                   f'<text x="460" y="44">{escape(small_numbers_nl(minimum))}</text></g>')
    for i, s in enumerate(series):
        out.extend(_panel(s, (i % COLUMNS) * PANEL_W, 50 + (i // COLUMNS) * PANEL_H, first, last))
    out.append("</svg>")
    return "\n".join(out) + "\n"
