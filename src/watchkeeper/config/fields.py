"""Value types of the configuration file: ids, durations, zones, times, matchers, templates."""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Annotated, Any, Final, Literal, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, PlainValidator

from watchkeeper.config.durations import format_duration, parse_duration
from watchkeeper.domain.expressions import Expression, compile_expression
from watchkeeper.domain.matchers import Matcher, as_matcher
from watchkeeper.domain.templates import Template, compile_template

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}")


def _check_id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError(
            f"id {value!r} is not valid: 1-128 letters, digits, '-', '_', '.', '@',"
            " starting with a letter or digit"
        )
    return value


Id = Annotated[str, AfterValidator(_check_id)]


def _check_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Text = Annotated[str, AfterValidator(_check_text)]
"""Non-empty text (names, reasons, comments that the product shows)."""


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    return parse_duration(cast("str | int", value))


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than 0s")
    return value


_DURATION_OUT = PlainSerializer(format_duration, return_type=str)
Duration = Annotated[
    timedelta, PlainValidator(_duration, json_schema_input_type=str), _DURATION_OUT
]
PositiveDuration = Annotated[
    timedelta,
    PlainValidator(_duration, json_schema_input_type=str),
    AfterValidator(_positive),
    _DURATION_OUT,
]


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_zone(value: str) -> str:
    if value in _zones():
        return value
    try:
        ZoneInfo(value)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        close = difflib.get_close_matches(value, sorted(_zones()), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ValueError(
            f"unknown time zone {value!r}{hint} (use an IANA name like Europe/Berlin or UTC)"
        ) from None
    return value


TimeZone = Annotated[str, AfterValidator(_check_zone)]

_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def _clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # A YAML 1.1 reader turns 18:00 into 1080 (base 60); ours does not, but say why.
        raise ValueError(f'time of day must be text "HH:MM" (got the number {value})')
    if not isinstance(value, str) or not (found := _HHMM.fullmatch(value.strip())):
        raise ValueError(f'time of day {value!r} must be "HH:MM" on a 24-hour clock, e.g. 08:30')
    return time(int(found.group(1)), int(found.group(2)))


ClockTime = Annotated[
    time,
    PlainValidator(_clock_time, json_schema_input_type=str),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
]


def _day(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"date {value!r} must be YYYY-MM-DD, e.g. 2026-03-02")


Day = Annotated[
    date,
    PlainValidator(_day, json_schema_input_type=str),
    PlainSerializer(date.isoformat, return_type=str),
]


def _instant(value: object) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"time {value!r} must be ISO 8601 with an offset, e.g. 2026-03-02T22:00:00+01:00"
            ) from None
    else:
        raise ValueError(f"time must be ISO 8601 text, got {type(value).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(
            f"time {value!s} has no UTC offset; add one, e.g. +01:00 or Z"
            " (the same wall-clock time names different instants in different zones)"
        )
    return parsed


Instant = Annotated[
    datetime,
    PlainValidator(_instant, json_schema_input_type=str),
    PlainSerializer(datetime.isoformat, return_type=str),
]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: Final[tuple[Weekday, ...]] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS: Final = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


def _weekday(value: object) -> object:
    if isinstance(value, str):
        word = value.strip().lower()
        return _FULL_DAYS.get(word, word)
    return value


WeekdayField = Annotated[Weekday, BeforeValidator(_weekday)]

MatcherField = Annotated[
    Matcher,
    PlainValidator(as_matcher, json_schema_input_type=str),
    PlainSerializer(str, return_type=str),
]

KEY_LENGTH: Final = 255
TITLE_LENGTH: Final = 1024  # PagerDuty's summary limit


def _key_template(value: object) -> Template:
    if isinstance(value, Template):
        return value
    return compile_template(cast(str, value), max_length=KEY_LENGTH, overflow="hash")


def _title_template(value: object) -> Template:
    if isinstance(value, Template):
        return value
    return compile_template(cast(str, value), max_length=TITLE_LENGTH, overflow="cut")


_AS_TEXT = PlainSerializer(str, return_type=str)
KeyTemplate = Annotated[
    Template, PlainValidator(_key_template, json_schema_input_type=str), _AS_TEXT
]
"""A dedup or group key template: over-long output ends in a hash so keys stay distinct."""
TitleTemplate = Annotated[
    Template, PlainValidator(_title_template, json_schema_input_type=str), _AS_TEXT
]


def _expression(value: object) -> Expression:
    if isinstance(value, Expression):
        return value
    return compile_expression(cast(str, value))


ExpressionField = Annotated[
    Expression, PlainValidator(_expression, json_schema_input_type=str), _AS_TEXT
]

TargetKind = Literal["user", "schedule", "team"]
TARGET_KINDS: Final[tuple[TargetKind, ...]] = ("user", "schedule", "team")


@dataclass(frozen=True, slots=True)
class Target:
    """Who a level pages: `user:alice`, `schedule:payments-primary` or `team:sre`."""

    kind: TargetKind
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


def _target(value: object) -> Target:
    if isinstance(value, Target):
        return value
    if not isinstance(value, str):
        raise ValueError(f'a target is text like "user:alice", got {type(value).__name__}')
    kind, colon, ident = value.partition(":")
    if not colon or kind not in TARGET_KINDS:
        raise ValueError(f"target {value!r} must be user:ID, schedule:ID or team:ID")
    return Target(kind, _check_id(ident))


TargetField = Annotated[Target, PlainValidator(_target, json_schema_input_type=str), _AS_TEXT]


def _network(value: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a network is CIDR text like 10.0.0.0/8, got {type(value).__name__}")
    try:
        return ipaddress.ip_network(value.strip())
    except ValueError as exc:
        raise ValueError(f"network {value!r} is not valid CIDR (e.g. 10.0.0.0/8): {exc}") from None


Network = Annotated[
    ipaddress.IPv4Network | ipaddress.IPv6Network,
    PlainValidator(_network, json_schema_input_type=str),
    _AS_TEXT,
]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def _check_email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


Email = Annotated[str, AfterValidator(_check_email)]


def check_url(value: str) -> str:
    """An http(s) URL with a host; anything else cannot be a webhook."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL with a host")
    return value


_PHONE = re.compile(r"\+[1-9]\d{6,14}")


def check_phone(value: str) -> str:
    if not _PHONE.fullmatch(value):
        raise ValueError(f"phone number {value!r} must be E.164, e.g. +4915112345678")
    return value


_PERCENT = re.compile(r"([+-])\s*(\d+(?:\.\d+)?)\s*%")


def _relative(value: object) -> float:
    if isinstance(value, str) and (found := _PERCENT.fullmatch(value.strip())):
        number = float(found.group(2))
        return -number if found.group(1) == "-" else number
    raise ValueError(f'relative target {value!r} must be a signed percentage like "-30%"')


RelativeChange = Annotated[
    float,
    PlainValidator(_relative, json_schema_input_type=str),
    PlainSerializer(lambda v: f"{v:+g}%", return_type=str),
]
"""A change against the baseline in percent: "-30%" reads as -30.0."""


def _amount(value: object) -> float:
    """A number, or a duration (in seconds) for duration metrics."""
    if isinstance(value, bool):
        raise ValueError("must be a number or a duration like 15m")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return parse_duration(value).total_seconds()
    raise ValueError("must be a number or a duration like 15m")


Amount = Annotated[float, PlainValidator(_amount, json_schema_input_type=Any)]
