"""Durations as people write them in configuration: "30s", "5m", "12h", "1d", "1h30m"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

_UNITS: Final[dict[str, timedelta]] = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_PART: Final = re.compile(r"(\d+)([smhdw])")
_WHOLE: Final = re.compile(r"(?:\d+[smhdw])+")


def parse_duration(text: str) -> timedelta:
    """Parse one or more `<number><unit>` parts (units s, m, h, d, w); "1d" is 24 elapsed hours."""
    cleaned = text.strip().lower() if isinstance(text, str) else None
    if not cleaned or not _WHOLE.fullmatch(cleaned):
        raise ValueError(
            f'expected a duration such as "30s", "5m", "12h", "1d" or "1h30m", got {text!r}'
        )
    total = timedelta()
    for amount, unit in _PART.findall(cleaned):
        total += int(amount) * _UNITS[unit]
    return total
