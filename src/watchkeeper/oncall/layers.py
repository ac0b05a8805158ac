"""One layer on its own: its rotation's users, kept inside the layer's restrictions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from watchkeeper.oncall.model import Layer
from watchkeeper.oncall.restrictions import Interval, restriction_windows, within_restrictions
from watchkeeper.oncall.rotation import turn_at, turns


@dataclass(frozen=True)
class Piece:
    """`user` on duty for one layer over [start, end) (UTC)."""

    user: str
    start: datetime
    end: datetime


def layer_user_at(layer: Layer, zone: ZoneInfo, at: datetime) -> str | None:
    """The layer's user on duty at `at` (UTC), or None."""
    turn = turn_at(layer.rotation, zone, at)
    if turn is None:
        return None
    if layer.restrictions and not within_restrictions(layer.restrictions, zone, at):
        return None
    return layer.users[turn.index % len(layer.users)]


def layer_pieces(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Piece]:
    """The layer's duty over [start, end) (UTC): sorted, disjoint, clipped pieces."""
    pieces = [
        Piece(
            layer.users[turn.index % len(layer.users)], max(turn.start, start), min(turn.end, end)
        )
        for turn in turns(layer.rotation, zone, start, end)
    ]
    if not layer.restrictions:
        return pieces
    return _inside(pieces, restriction_windows(layer.restrictions, zone, start, end))


def _inside(pieces: Sequence[Piece], windows: Sequence[Interval]) -> list[Piece]:
    """The parts of sorted, disjoint `pieces` that lie inside sorted, disjoint `windows`."""
    out: list[Piece] = []
    first = 0
    for piece in pieces:
        # Windows that end before this piece starts end before every later piece starts too.
        while first < len(windows) and windows[first][1] <= piece.start:
            first += 1
        index = first
        while index < len(windows) and windows[index][0] < piece.end:
            start, end = max(piece.start, windows[index][0]), min(piece.end, windows[index][1])
            if start < end:
                out.append(Piece(piece.user, start, end))
            index += 1
    return out
