"""Small inline SVG charts for the HTML report: no scripts, no external assets, print-safe."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Final

SEVERITY_COLOURS: Final = {
    "critical": "#b91c1c",
    "high": "#ea580c",
    "warning": "#ca8a04",
    "info": "#64748b",
}
HOUR_COLOURS: Final = {
    "business": "#2563eb",
    "off": "#f59e0b",
    "sleep": "#7c3aed",
    "unclassified": "#94a3b8",
}
FONT: Final = 'font-family="system-ui, sans-serif" font-size="11"'


def _svg(width: float, height: float, body: str, label: str) -> str:
    # scales down on a narrow page, never up: text keeps its size
    return (
        f'<svg class="chart" viewBox="0 0 {width:.0f} {height:.0f}" width="100%"'
        f' style="max-width: {width:.0f}px" role="img" aria-label="{escape(label)}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>{body}</svg>'
    )


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT} fill="#334155"'
        f" {extra}>{escape(text)}</text>"
    )


def _legend(items: Mapping[str, str], x: float, y: float) -> str:
    out = []
    for name, colour in items.items():
        out.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colour}"/>')
        out.append(_text(x + 14, y, name))
        x += 18 + 7 * len(name) + 10
    return "".join(out)


def weekly_bars(
    weeks: Sequence[str],
    series: Mapping[str, Sequence[int]],
    colours: Mapping[str, str],
    line: Sequence[float | None] | None = None,
    line_label: str = "",
    title: str = "",
) -> str:
    """Stacked bars per week, with an optional 0–1 line (right axis) on top."""
    width, height, left, right, top, bottom = 760, 260, 44, 44, 28, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s[i] for s in series.values()) for i in range(len(weeks))]
    peak = max(totals, default=0) or 1
    step = plot_w / max(1, len(weeks))
    bar = step * 0.7
    parts = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"'
        ' stroke="#94a3b8"/>',
        _text(left - 6, top + 4, str(peak), "end"),
        _text(left - 6, top + plot_h, "0", "end"),
    ]
    for i, week in enumerate(weeks):
        x = left + i * step + (step - bar) / 2
        y = float(top + plot_h)
        for name, values in series.items():
            h = values[i] / peak * plot_h
            if h > 0:
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}"'
                    f' fill="{colours.get(name, "#64748b")}"><title>{escape(week)} {escape(name)}:'
                    f" {values[i]}</title></rect>"
                )
        if len(weeks) <= 16 or i % max(1, len(weeks) // 12) == 0:
            parts.append(_text(x + bar / 2, top + plot_h + 14, week[5:], "middle"))
    if line is not None:
        points = [
            f"{left + i * step + step / 2:.1f},{top + plot_h - v * plot_h:.1f}"
            for i, v in enumerate(line)
            if v is not None
        ]
        if points:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="#059669"'
                ' stroke-width="2"/>'
            )
        parts.append(_text(left + plot_w + 6, top + 4, "100%"))
        parts.append(_text(left + plot_w + 6, top + plot_h, "0%"))
    legend = dict(colours)
    if line is not None:
        legend[line_label] = "#059669"
    parts.append(_legend(legend, left, height - 8))
    parts.append(_text(left, 14, title, extra='font-weight="600"'))
    return _svg(width, height, "".join(parts), title or "weekly chart")


def histogram(
    labels: Sequence[str], counts: Sequence[int], title: str, markers: Mapping[str, int] = {}
) -> str:
    """Bars per bucket; `markers` name the bucket holding the median and the p90."""
    width, height, left, top, bottom = 360, 170, 10, 24, 34
    plot_w, plot_h = width - 2 * left, height - top - bottom
    peak = max(counts, default=0) or 1
    step = plot_w / max(1, len(counts))
    parts = [_text(left, 14, title, extra='font-weight="600"')]
    for i, (label, count) in enumerate(zip(labels, counts, strict=True)):
        h = count / peak * plot_h
        x = left + i * step + 1
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{step - 2:.1f}"'
            f' height="{h:.1f}" fill="#3b82f6"><title>{escape(label)}: {count}</title></rect>'
        )
        parts.append(_text(x + step / 2 - 1, top + plot_h + 12, label, "middle", 'font-size="8"'))
    for name, bucket in markers.items():
        x = left + bucket * step + step / 2
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#dc2626"'
            ' stroke-dasharray="3,2"/>'
        )
        parts.append(
            _text(x + 2, top + 8 + 10 * list(markers).index(name), name, extra='fill="#dc2626"')
        )
    return _svg(width, height, "".join(parts), title)


def heat_grid(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[int]],
    title: str,
    flagged: Sequence[bool] = (),
) -> str:
    """A service × channel grid: darker cells opened more tickets; flagged rows are uncovered."""
    cell_w, cell_h, left, top = 64, 20, 130, 70
    width = max(left + cell_w * len(columns) + 10, 7 * len(title) + 20)
    height = top + cell_h * len(rows) + 10
    peak = max((v for row in values for v in row), default=0) or 1
    parts = [_text(4, 14, title, extra='font-weight="600"')]
    for j, column in enumerate(columns):
        x = left + j * cell_w + cell_w / 2
        parts.append(
            f'<text transform="translate({x:.1f},{top - 6}) rotate(-35)" {FONT}'
            f' fill="#334155">{escape(column)}</text>'
        )
    for i, row in enumerate(rows):
        y = top + i * cell_h
        bad = i < len(flagged) and flagged[i]
        parts.append(
            _text(left - 6, y + 14, row, "end", 'fill="#b91c1c" font-weight="600"' if bad else "")
        )
        for j, value in enumerate(values[i]):
            shade = 0.08 + 0.85 * (value / peak) if value else 0.0
            fill = f"rgba(5,150,105,{shade:.2f})" if value else "#f1f5f9"
            parts.append(
                f'<rect x="{left + j * cell_w + 1}" y="{y + 1}" width="{cell_w - 2}"'
                f' height="{cell_h - 2}" fill="{fill}"><title>{escape(row)} × {escape(columns[j])}:'
                f" {value} tickets</title></rect>"
            )
            if value:
                parts.append(_text(left + j * cell_w + cell_w / 2, y + 14, str(value), "middle"))
    return _svg(width, height, "".join(parts), title)


def stacked_rows(
    names: Sequence[str],
    segments: Mapping[str, Sequence[int]],
    colours: Mapping[str, str],
    title: str,
) -> str:
    """One horizontal stacked bar per name (pager load per person by hour class)."""
    row_h, left, top = 22, 110, 26
    width = 760
    plot_w = width - left - 60
    height = top + row_h * len(names) + 30
    totals = [sum(s[i] for s in segments.values()) for i in range(len(names))]
    peak = max(totals, default=0) or 1
    parts = [_text(4, 14, title, extra='font-weight="600"')]
    for i, name in enumerate(names):
        y = top + i * row_h
        parts.append(_text(left - 6, y + 14, name, "end"))
        x = float(left)
        for seg, values in segments.items():
            w = values[i] / peak * plot_w
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}"'
                    f' fill="{colours.get(seg, "#64748b")}"><title>{escape(name)} {escape(seg)}:'
                    f" {values[i]}</title></rect>"
                )
                x += w
        parts.append(_text(x + 4, y + 14, str(totals[i])))
    parts.append(_legend(colours, left, height - 8))
    return _svg(width, height, "".join(parts), title)
