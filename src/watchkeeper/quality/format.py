"""How report figures read to people: durations, rates and intervals, the same in every face."""

from __future__ import annotations

import math
from typing import Any, Final

DASH: Final = "—"
TITLES: Final[dict[str, str]] = {
    "ttd": "TTD (detect)",
    "tta": "TTA (acknowledge)",
    "ttl": "TTL (localize)",
    "ttm": "TTM (mitigate)",
    "ttr": "TTR (resolve)",
    "hands_on_time": "hands-on time",
}


def duration(seconds: float | None) -> str:
    """4s, 12m 05s, 3h 07m, 2d 04h; negative durations keep their sign."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return DASH
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s:.0f}s"
    if s < 3600:
        m, rest = divmod(round(s), 60)
        return f"{sign}{m}m {rest:02d}s"
    if s < 86400:
        h, rest = divmod(round(s / 60), 60)
        return f"{sign}{h}h {rest:02d}m"
    d, rest = divmod(round(s / 3600), 24)
    return f"{sign}{d}d {rest:02d}h"


def percent(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value * 100:.{digits}f}%"


def interval(ci: list[float] | None, kind: str = "duration") -> str:
    """[low – high] in the figure's unit; "n too small" when there is none."""
    if ci is None:
        return "n too small"
    fmt = duration if kind == "duration" else percent
    return f"[{fmt(ci[0])} – {fmt(ci[1])}]"


def rate(figure: dict[str, Any] | None) -> str:
    """87.5% [80.1% – 92.6%] (7/8)."""
    if not figure or figure.get("value") is None:
        return f"{DASH} (0/0)"
    ci = figure.get("ci95")
    inside = "" if ci is None else f" {interval(ci, 'rate')}"
    return f"{percent(figure['value'])}{inside} ({figure['numerator']}/{figure['denominator']})"


def change(entry: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """(previous, current, difference, interval, verdict) of a comparison entry."""
    kind = entry.get("kind", "")

    def fmt(v: float | None, signed: bool = False) -> str:
        if v is None:
            return DASH
        if kind == "duration":
            text = duration(v)
            return f"+{text}" if signed and v > 0 else text
        if kind == "rate":
            return f"{v * 100:+.1f} pp" if signed else percent(v)
        return f"{v:+.2f}" if signed else f"{v:.2f}"

    ci = entry.get("ci95")
    if ci is None:
        ci_text = DASH
    elif kind == "duration":
        ci_text = f"[{duration(ci[0])} – {duration(ci[1])}]"
    elif kind == "rate":
        ci_text = f"[{ci[0] * 100:+.1f} – {ci[1] * 100:+.1f} pp]"
    elif ci[1] is None:
        ci_text = f"[{ci[0] * 100:+.0f}% – unbounded]"
    else:
        ci_text = f"[{ci[0] * 100:+.0f}% – {ci[1] * 100:+.0f}%]"
    significant = entry.get("significant")
    verdict = "significant" if significant else (entry.get("note") or "not significant")
    return (
        fmt(entry.get("previous")),
        fmt(entry.get("current")),
        fmt(entry.get("difference"), signed=True),
        ci_text,
        verdict,
    )


def metric_value(metric: str, statistic: str, value: float | None) -> str:
    """A key result's value in its unit."""
    if value is None:
        return DASH
    if statistic in ("median", "p90") or metric == "mtbf":
        return duration(value)
    if statistic == "rate":
        return percent(value)
    return f"{value:.2f}"
