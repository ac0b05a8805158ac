"""The quality data model over HTTP: the four-layer report and the objectives."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from watchkeeper.api.deps import CallerDep, ReadConn, RuntimeDep
from watchkeeper.domain.severity import Severity
from watchkeeper.quality.okr import objectives
from watchkeeper.quality.report import build_report
from watchkeeper.quality.scope import resolve_scope

router = APIRouter(prefix="/api/v1", tags=["quality"])


@router.get("/quality")
def quality_report(
    conn: ReadConn,
    rt: RuntimeDep,
    _who: CallerDep,
    from_: Annotated[
        str | None,
        Query(alias="from", description="YYYY-MM-DD or RFC 3339; default: 30 days before `to`"),
    ] = None,
    to: Annotated[
        str | None, Query(description="YYYY-MM-DD (that day included) or RFC 3339; default: now")
    ] = None,
    service: str | None = None,
    team: Annotated[str | None, Query(description="the services this team owns")] = None,
    severity: Annotated[Severity | None, Query(description="tickets of at least this")] = None,
    compare_to: Annotated[Literal["previous"] | None, Query()] = None,
) -> dict[str, Any]:
    """The four layers — `slo`, `operational`, `channel`, `quality` — for the window and
    filters; with `compare_to=previous`, each headline metric's change from the window of the
    same length just before, with the interval of the difference."""
    scope = resolve_scope(
        conn, now=rt.now(), start=from_, end=to, service=service, team=team, severity=severity
    )
    return build_report(conn, scope, compare_to=compare_to, pool=rt.reader)


@router.get("/objectives")
def list_objectives(conn: ReadConn, rt: RuntimeDep, _who: CallerDep) -> dict[str, Any]:
    """Objectives and key results: baseline, current value, target, progress, significance."""
    return objectives(conn, now=rt.now())
