"""Silences: mute alerts that match, for a while, with an author and a comment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from watchkeeper.api import serialize
from watchkeeper.api.deps import CallerDep, ReadConn, RuntimeDep
from watchkeeper.config.durations import parse_duration
from watchkeeper.domain.matchers import parse_matcher
from watchkeeper.errors import NotFound, Problem
from watchkeeper.storage import alerts as alerts_q
from watchkeeper.storage import config_store
from watchkeeper.storage import silences as silences_q

router = APIRouter(prefix="/api/v1/silences", tags=["silences"])


class NewSilence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matchers: list[str] = Field(min_length=1, max_length=64)
    comment: str = Field(min_length=1, max_length=4096)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    duration: str | None = Field(default=None, description='e.g. "2h", "30m"; or give ends_at')


@router.get("")
def list_silences(
    rt: RuntimeDep, conn: ReadConn, _who: CallerDep, expired: bool = False
) -> dict[str, Any]:
    now = rt.now()
    rows = silences_q.list_all(conn, include_expired=expired, now=now)
    return {"silences": [serialize.silence(r._mapping, now) for r in rows]}


@router.post("", status_code=201)
def add_silence(body: NewSilence, rt: RuntimeDep, who: CallerDep) -> dict[str, Any]:
    now = rt.now()
    for i, text in enumerate(body.matchers):
        try:
            parse_matcher(text)
        except ValueError as exc:
            raise Problem(
                str(exc),
                field=f"matchers[{i}]",
                allowed='name=value, name!=value, name=~"regex", name!~"regex"',
                status=422,
            ) from None
    starts = body.starts_at.timestamp() if body.starts_at else now
    if body.ends_at is not None:
        ends = body.ends_at.timestamp()
    elif body.duration is not None:
        try:
            ends = starts + parse_duration(body.duration).total_seconds()
        except ValueError as exc:
            raise Problem(
                str(exc), field="duration", allowed="e.g. 30m, 2h, 1d", status=422
            ) from None
    else:
        raise Problem("give ends_at or duration", field="ends_at", status=422)
    if ends <= starts or ends <= now:
        raise Problem(
            "the silence must end in the future, after it starts", field="ends_at", status=422
        )
    with rt.db.begin() as conn:
        sid = silences_q.create(
            conn,
            matchers=body.matchers,
            starts_at=starts,
            ends_at=ends,
            created_by=who.actor,
            comment=body.comment,
            now=now,
        )
        config_store.bump(conn, now)
        row = silences_q.get(conn, sid)
    rt.snapshots.invalidate()
    assert row is not None
    return serialize.silence(row._mapping, now)


@router.delete("/{silence_id}")
def delete_silence(silence_id: str, rt: RuntimeDep, _who: CallerDep) -> dict[str, Any]:
    now = rt.now()
    with rt.db.begin() as conn:
        row = silences_q.get(conn, silence_id)
        if row is None:
            raise NotFound(f"no silence {silence_id}", field="id")
        silences_q.expire(conn, silence_id, now)
        config_store.bump(conn, now)
        alerts_q.recheck_muted(conn, now)
        row = silences_q.get(conn, silence_id)
    rt.snapshots.invalidate()
    assert row is not None
    return serialize.silence(row._mapping, now)
