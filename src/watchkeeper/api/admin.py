"""Configuration as code, tokens, integrations and their rejections, route tests, feedback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from watchkeeper.api import serialize
from watchkeeper.api.deps import AdminDep, CallerDep, ReadConn, RuntimeDep
from watchkeeper.config.apply import apply_config
from watchkeeper.config.load import load_config
from watchkeeper.domain.event import NormalizedEvent
from watchkeeper.domain.severity import Severity
from watchkeeper.errors import ConfigError, NotFound, Problem
from watchkeeper.ingest.adapters import feedback as feedback_adapter
from watchkeeper.pipeline.explain import explain
from watchkeeper.pipeline.writer import EventItem
from watchkeeper.storage import config_store
from watchkeeper.storage import rejections as rejections_q
from watchkeeper.storage import tokens as tokens_q
from watchkeeper.storage.tables import config_state, service_dependencies

router = APIRouter(prefix="/api/v1", tags=["configuration"])

MAX_CONFIG_BYTES = 4 * 1024 * 1024


@router.put("/config")
async def put_config(
    request: Request,
    rt: RuntimeDep,
    _who: AdminDep,
    prune: bool = False,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Apply a YAML configuration file (the body, `application/yaml`)."""
    raw = await request.body()
    if len(raw) > MAX_CONFIG_BYTES:
        raise Problem(
            "configuration too large",
            field="body",
            allowed=f"at most {MAX_CONFIG_BYTES} bytes",
            status=413,
        )
    try:
        config = load_config(raw.decode("utf-8", "replace"), source="request body")
    except ConfigError as exc:
        raise Problem(
            f"{len(exc.errors)} error(s) in the configuration",
            status=422,
            title="Invalid configuration",
            field=exc.errors[0][0] if exc.errors else None,
            extra={"errors": [{"path": p, "message": m} for p, m in exc.errors]},
        ) from None
    with rt.db.begin() as conn:
        report = apply_config(conn, config, prune=prune, now=rt.now())
        if dry_run:
            conn.rollback()
    rt.snapshots.invalidate()
    return {**report.as_dict(), "dry_run": dry_run}


@router.get("/config")
def get_config(conn: ReadConn, _who: AdminDep) -> dict[str, Any]:
    row = conn.execute(select(config_state)).first()
    if row is None:
        return {"version": 0, "applied_at": None, "document": None}
    return {
        "version": row.version,
        "applied_at": serialize.iso(row.applied_at),
        "document": row.document,
    }


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str | None = None
    name: str = Field(default="cli", min_length=1, max_length=256)
    admin: bool = False


@router.post("/tokens", status_code=201)
def create_token(body: NewToken, rt: RuntimeDep, _who: AdminDep) -> dict[str, Any]:
    users = _user_ids(rt)
    if body.user is not None and body.user not in users:
        raise Problem(
            f"unknown user {body.user!r}",
            field="user",
            status=422,
            allowed=", ".join(sorted(users)),
        )
    with rt.db.begin() as conn:
        token_id, token = tokens_q.create(
            conn, user_id=body.user, name=body.name, admin=body.admin, now=rt.now()
        )
    return {"id": token_id, "token": token, "user": body.user, "admin": body.admin}


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: str, rt: RuntimeDep, _who: AdminDep) -> dict[str, Any]:
    with rt.db.begin() as conn:
        if not tokens_q.revoke(conn, token_id, rt.now()):
            raise NotFound(f"no active token {token_id}", field="id")
    return {"id": token_id, "revoked": True}


def _user_ids(rt: RuntimeDep) -> set[str]:
    with rt.reader.connect() as conn:
        stored = config_store.load(conn, now=rt.now())
    return {u["id"] for u in stored.users}


@router.get("/integrations")
def list_integrations(rt: RuntimeDep, conn: ReadConn, _who: CallerDep) -> dict[str, Any]:
    snap = rt.snapshots.refresh(conn)
    rejected = {r.integration_id: r for r in rejections_q.all_rows(conn)}
    out = []
    for integration in sorted(snap.integrations_by_id.values(), key=lambda i: i.id):
        r = rejected.get(integration.id)
        out.append(
            {
                "id": integration.id,
                "name": integration.name,
                "type": integration.type,
                "channel": integration.channel_id,
                "channel_kind": integration.channel_kind,
                "service": integration.service_id,
                "rejections": _rejection(r),
            }
        )
    return {
        "integrations": out,
        "unknown_key_rejections": _rejection(rejected.get(rejections_q.UNKNOWN)),
    }


def _rejection(row: Any) -> dict[str, Any]:
    if row is None:
        return {"count": 0}
    return {
        "count": row.count,
        "last_at": serialize.iso(row.last_at),
        "last_status": row.last_status,
        "last_error": row.last_error,
        "sample": row.sample,
        "last_remote": row.last_remote,
    }


@router.get("/rejections")
def list_rejections(conn: ReadConn, _who: CallerDep) -> dict[str, Any]:
    return {
        "rejections": [
            {"integration": r.integration_id or None, **_rejection(r)}
            for r in rejections_q.all_rows(conn)
        ]
    }


@router.get("/services")
def list_services(rt: RuntimeDep, conn: ReadConn, _who: CallerDep) -> dict[str, Any]:
    snap = rt.snapshots.refresh(conn)
    deps: dict[str, list[str]] = {}
    for row in conn.execute(select(service_dependencies)):
        deps.setdefault(row.service_id, []).append(row.depends_on)
    return {
        "services": [
            {
                "id": s.id,
                "name": s.name,
                "team": s.team_id,
                "depends_on": sorted(deps.get(s.id, [])),
                "escalation_policy": s.escalation_policy,
                "max_group_age_seconds": s.max_group_age,
                "auto_resolve": {"mode": s.auto_resolve, "quiet_seconds": s.quiet},
            }
            for s in sorted(snap.services.values(), key=lambda s: s.id)
        ]
    }


class RouteTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    integration: str
    labels: dict[str, str] = {}
    summary: str = "route test"
    severity: Severity = "warning"
    service: str | None = None
    dedup_key: str | None = None


@router.post("/route-test")
def route_test(body: RouteTest, rt: RuntimeDep, _who: CallerDep) -> dict[str, Any]:
    event = NormalizedEvent(
        action="trigger",
        summary=body.summary,
        severity=body.severity,
        labels=body.labels,
        service=body.service,
        dedup_key=body.dedup_key or "route-test",
    )
    with rt.reader.connect() as conn:
        snap = rt.snapshots.refresh(conn)
        return explain(conn, snap, integration_id=body.integration, event=event, now=rt.now())


@router.post("/feedback", status_code=202, tags=["feedback"])
async def feedback(
    request: Request,
    rt: RuntimeDep,
    who: CallerDep,
    integration: Annotated[
        str | None, Query(description="a feedback integration; default: the first")
    ] = None,
) -> dict[str, Any]:
    snap = rt.snapshots.current
    candidates = [i for i in snap.integrations_by_id.values() if i.type == "feedback"]
    chosen = next((i for i in candidates if integration in (None, i.id)), None)
    if chosen is None:
        raise Problem(
            "no feedback integration is configured"
            if integration is None
            else f"no feedback integration {integration!r}",
            field="integration",
            allowed=", ".join(sorted(i.id for i in candidates))
            or "add an integration of type feedback",
            status=422,
        )
    raw = await request.body()
    parsed = feedback_adapter.parse(
        raw, request.headers.get("content-type"), now=rt.clock.now(), reporter=who.actor
    )
    outcomes = await rt.writer.submit([EventItem(chosen, e) for e in parsed.events])
    return {
        "status": "accepted",
        "events": [
            {
                "decision": o.decision,
                "alert_id": o.alert_id,
                "ticket_id": o.ticket_id,
                "service": o.service_id,
            }
            for o in outcomes
            if o is not None
        ],
    }
