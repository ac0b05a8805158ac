"""The ticket lifecycle: states and the moves between them (DESIGN.md, vocabulary)."""

from __future__ import annotations

from typing import Final, Literal

from watchkeeper.errors import Conflict

Status = Literal["triggered", "acknowledged", "resolved", "closed"]
Operation = Literal["acknowledge", "unacknowledge", "resolve", "reopen", "close", "escalate"]

OPEN: Final[frozenset[str]] = frozenset({"triggered", "acknowledged"})

# operation -> (states it may start from, state it leads to)
_MOVES: Final[dict[str, tuple[frozenset[str], str | None]]] = {
    "acknowledge": (frozenset({"triggered"}), "acknowledged"),
    "unacknowledge": (frozenset({"acknowledged"}), "triggered"),
    "resolve": (OPEN, "resolved"),
    "reopen": (frozenset({"resolved"}), "triggered"),
    "close": (frozenset({"resolved"}), "closed"),
    "escalate": (OPEN, None),
}


def is_open(status: str) -> bool:
    return status in OPEN


def next_status(status: str, operation: Operation) -> str:
    """The state after `operation`, or a Conflict that says which states allow it."""
    starts, target = _MOVES[operation]
    if status not in starts:
        allowed = " or ".join(sorted(starts))
        raise Conflict(
            f"cannot {operation} a {status} ticket; it must be {allowed}",
            field="status",
            allowed=allowed,
        )
    return target if target is not None else status
