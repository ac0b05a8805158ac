"""What every adapter returns, and the limits every adapter enforces on what senders send."""

from __future__ import annotations

from typing import Final

import msgspec

from watchkeeper.domain.event import ChangeEvent, NormalizedEvent
from watchkeeper.errors import InvalidPayload

MAX_LABELS: Final = 128
MAX_LABEL_NAME: Final = 256
MAX_LABEL_VALUE: Final = 4096
MAX_ANNOTATION_VALUE: Final = 65536
MAX_SUMMARY: Final = 1024
MAX_DEDUP_KEY: Final = 255
MAX_ITEMS: Final = 10_000  # alerts in one request (an Alertmanager group, an API v2 batch)


class Parsed(msgspec.Struct, kw_only=True):
    """An adapter's result for one request body."""

    events: list[NormalizedEvent] = msgspec.field(default_factory=list)
    changes: list[ChangeEvent] = msgspec.field(default_factory=list)
    routing_key: str | None = None  # the integration key, when the format carries it in the body


def check_labels(labels: dict[str, str], field: str, *, max_value: int = MAX_LABEL_VALUE) -> None:
    """Refuse label sets that would bloat storage and matching (a hostile or broken sender)."""
    if len(labels) > MAX_LABELS:
        raise InvalidPayload(
            f"{len(labels)} entries; at most {MAX_LABELS} are allowed",
            field=field,
            allowed=f"at most {MAX_LABELS} entries",
        )
    for name, value in labels.items():
        if len(name) > MAX_LABEL_NAME:
            raise InvalidPayload(
                f"a name is {len(name)} characters long",
                field=f"{field}.{name[:40]}",
                allowed=f"names of at most {MAX_LABEL_NAME} characters",
            )
        if len(value) > max_value:
            raise InvalidPayload(
                f"value is {len(value)} characters long",
                field=f"{field}.{name}",
                allowed=f"values of at most {max_value} characters",
            )


def decode_error(exc: msgspec.DecodeError | msgspec.ValidationError) -> InvalidPayload:
    """Turn msgspec's message ("Expected `str`, got `int` - at `$.payload.summary`") into a
    problem that names the field."""
    text = str(exc)
    field = None
    if " - at `" in text:
        text, _, rest = text.partition(" - at `")
        field = rest.rstrip("`").removeprefix("$").lstrip(".") or None
    if isinstance(exc, msgspec.ValidationError):
        return InvalidPayload(text, field=field)
    return InvalidPayload(f"body is not valid JSON: {text}", field=field)
