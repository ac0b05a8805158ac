"""What a report covers: a window of time, a set of services, a severity floor."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from sqlalchemy import Connection, select

from watchkeeper.clock import from_epoch, isoformat
from watchkeeper.domain.severity import RANK, SEVERITIES
from watchkeeper.errors import Problem
from watchkeeper.storage.tables import services, teams

DEFAULT_DAYS: Final = 30
WEEK: Final = 7 * 86400.0
# Weeks start on Monday 00:00 UTC; 1970-01-05 was the first Monday after the epoch.
WEEK_ORIGIN: Final = 4 * 86400.0


@dataclass(frozen=True, kw_only=True)
class Scope:
    """Tickets detected in [start, end) of `service_ids` (None: every service) with severity at
    least `severity` (None: every severity). `now` bounds impacts still open."""

    start: float
    end: float
    now: float
    service_ids: tuple[str, ...] | None = None
    severity: str | None = None
    service: str | None = None  # as asked, for display
    team: str | None = None

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def severities(self) -> tuple[str, ...] | None:
        """The severities at or above the floor; None when there is no floor."""
        if self.severity is None:
            return None
        return tuple(s for s in SEVERITIES if RANK[s] >= RANK[self.severity])

    def previous(self) -> Scope:
        """The window of the same length just before this one."""
        return replace(self, start=self.start - self.seconds, end=self.start)

    def window(self, start: float, end: float) -> Scope:
        return replace(self, start=start, end=end)

    def includes(self, service_id: str) -> bool:
        return self.service_ids is None or service_id in self.service_ids


def iso(instant: float | None) -> str | None:
    """An instant as RFC 3339 UTC, as every API answer spells it."""
    return None if instant is None else isoformat(from_epoch(instant))


def week_label(index: int) -> str:
    """A week index (as computed in SQL) as the date of its Monday."""
    return from_epoch(WEEK_ORIGIN + index * WEEK).date().isoformat()


def day_start(day: date) -> float:
    return datetime.combine(day, time(0), tzinfo=UTC).timestamp()


def parse_instant(value: str, *, field: str, end_of_day: bool = False) -> float:
    """A date (YYYY-MM-DD, midnight UTC; with `end_of_day` the next midnight, so `to` takes
    the whole day) or an RFC 3339 instant."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return day_start(day + timedelta(days=1) if end_of_day else day)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(
            f"{value!r} is not a date or an instant",
            field=field,
            allowed="YYYY-MM-DD or an RFC 3339 instant such as 2026-03-02T09:00:00Z",
            status=422,
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def resolve_scope(
    conn: Connection,
    *,
    now: float,
    start: str | None = None,
    end: str | None = None,
    service: str | None = None,
    team: str | None = None,
    severity: str | None = None,
) -> Scope:
    """The scope a request asks for, defaulting to the last 30 days; unknown names are errors
    that list what exists."""
    stop = parse_instant(end, field="to", end_of_day=True) if end else now
    begin = parse_instant(start, field="from") if start else stop - DEFAULT_DAYS * 86400.0
    if stop <= begin:
        raise Problem("`to` must be after `from`", field="to", status=422)
    if severity is not None and severity not in RANK:
        raise Problem(
            f"unknown severity {severity!r}",
            field="severity",
            allowed=", ".join(SEVERITIES),
            status=422,
        )
    return Scope(
        start=begin,
        end=stop,
        now=now,
        service_ids=service_ids(conn, service=service, team=team),
        severity=severity,
        service=service,
        team=team,
    )


def service_ids(
    conn: Connection, *, service: str | None, team: str | None
) -> tuple[str, ...] | None:
    """The services a (service, team) filter names; None for no filter."""
    if service is None and team is None:
        return None
    known = {r.id: r.team_id for r in conn.execute(select(services.c.id, services.c.team_id))}
    if team is not None:
        team_ids = {r.id for r in conn.execute(select(teams.c.id))}
        if team not in team_ids:
            raise Problem(
                f"unknown team {team!r}",
                field="team",
                allowed=", ".join(sorted(team_ids)) or "no teams are configured",
                status=422,
            )
    if service is not None:
        if service not in known:
            raise Problem(
                f"unknown service {service!r}",
                field="service",
                allowed=", ".join(sorted(known)) or "no services are configured",
                status=422,
            )
        if team is not None and known[service] != team:
            return ()
        return (service,)
    return tuple(sorted(s for s, owner in known.items() if owner == team))
