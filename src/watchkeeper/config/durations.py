"""Durations as written in configuration (`30s`, `5m`, `1h30m`, `2d`), parsed and rendered back."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

_UNITS: Final[dict[str, int]] = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_ORDER: Final = "wdhms"
_PART = re.compile(r"(\d+)([a-zA-Z]+)")
_EXAMPLES: Final = "e.g. 30s, 5m, 1h30m, 2d or 1w"


def parse_duration(text: str | int) -> timedelta:
    """Parse `1h30m`-style text; units w, d, h, m, s, each at most once, largest first.

    A bare 0 is allowed (it needs no unit); any other bare number is refused because
    it is ambiguous (seconds? minutes?).
    """
    if isinstance(text, bool) or not isinstance(text, int | str):
        raise ValueError(f"a duration must be text like {_EXAMPLES}; got {type(text).__name__}")
    if isinstance(text, int) or text.strip().isdigit():
        if int(text) == 0:
            return timedelta(0)
        raise ValueError(f"duration {text!r} needs a unit ({_EXAMPLES})")
    raw = text.strip()
    if not raw:
        raise ValueError(f"duration is empty; write one {_EXAMPLES}")
    if raw.startswith("-"):
        raise ValueError(f"duration {text!r} is negative; durations are never negative")
    seconds = 0
    position = 0
    last_rank = -1
    for part in _PART.finditer(raw):
        if part.start() != position:
            break
        number, unit = part.groups()
        if unit not in _UNITS:
            raise ValueError(
                f"duration {text!r} has an unknown unit {unit!r}; units are w, d, h, m, s"
            )
        rank = _ORDER.index(unit)
        if rank <= last_rank:
            raise ValueError(f"duration {text!r}: write each unit once, largest first (like 1h30m)")
        last_rank = rank
        seconds += int(number) * _UNITS[unit]
        position = part.end()
    if position != len(raw) or position == 0:
        hint = " (no fractions: write 1h30m, not 1.5h)" if "." in raw else ""
        raise ValueError(f"duration {text!r} is not understood{hint}; write one {_EXAMPLES}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Render a duration the way `parse_duration` reads it (`1h30m`; `0s` for zero)."""
    seconds = int(value.total_seconds())
    if seconds < 0 or value != timedelta(seconds=seconds):
        raise ValueError(f"{value!r} is not a whole, non-negative number of seconds")
    if seconds == 0:
        return "0s"
    out = []
    for unit in _ORDER:
        count, seconds = divmod(seconds, _UNITS[unit])
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)
