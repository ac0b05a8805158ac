"""The ingest edge: thin Starlette routes that authenticate, limit, decode and hand events to the
writer; a 2xx is sent only after the writer committed (invariant 1)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from watchkeeper.errors import NotFound, Problem, Unauthorized
from watchkeeper.ingest.adapters import (
    alertmanager,
    cloudevents,
    feedback,
    generic,
    grafana,
    heartbeat,
    opsgenie,
    pagerduty,
)
from watchkeeper.ingest.adapters.base import Parsed
from watchkeeper.ingest.body import raw_body, read_limited
from watchkeeper.ingest.responses import json_response, problem_response
from watchkeeper.pipeline.flow import Outcome
from watchkeeper.pipeline.snapshot import Integration
from watchkeeper.pipeline.writer import ChangeItem, EventItem, Item, RejectionItem
from watchkeeper.runtime import Runtime
from watchkeeper.storage.rejections import UNKNOWN

Parser = Callable[[bytes, str | None, Request, datetime], Parsed]


def _simple(module: Any) -> Parser:
    return lambda body, ctype, _req, now: module.parse(body, ctype, now=now)


# path format -> (parser, body limit, integration types it accepts)
PATH_FORMATS: dict[str, tuple[Parser, int, frozenset[str]]] = {
    "alertmanager": (_simple(alertmanager), alertmanager.MAX_BODY, frozenset({"alertmanager"})),
    "grafana": (_simple(grafana), grafana.MAX_BODY, frozenset({"grafana"})),
    "generic": (_simple(generic), generic.MAX_BODY, frozenset({"generic"})),
    "cloudevents": (
        lambda body, ctype, req, now: cloudevents.parse(body, ctype, req.headers, now=now),
        cloudevents.MAX_BODY,
        frozenset({"cloudevents"}),
    ),
    "feedback": (_simple(feedback), feedback.MAX_BODY, frozenset({"feedback"})),
    "heartbeat": (_simple(heartbeat), heartbeat.MAX_BODY, frozenset({"heartbeat"})),
}


class IngestEdge:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v2/enqueue", self.pagerduty, methods=["POST"]),
            Route("/v2/change/enqueue", self.pagerduty_change, methods=["POST"]),
            Route("/api/v2/alerts", self.alertmanager_api, methods=["POST"]),
            Route("/v2/alerts", self.opsgenie_create, methods=["POST"]),
            Route("/v2/alerts/{alias}/{action}", self.opsgenie_action, methods=["POST"]),
            Route("/integrations/{key}/heartbeat", self.by_path, methods=["GET", "POST"]),
            Route("/integrations/{key}/grafana", self.by_path, methods=["POST", "PUT"]),
            Route("/integrations/{key}/{format}", self.by_path, methods=["POST"]),
        ]

    # --- shared steps --------------------------------------------------------------------

    def _integration(self, key: str) -> Integration | None:
        snap = self.rt.snapshots.current
        found = snap.integrations_by_key.get(key)
        if found is None:
            found = self.rt.snapshots.check_soon().integrations_by_key.get(key)
        return found

    def _reject(
        self,
        request: Request,
        integration_id: str,
        problem: Problem,
        *,
        status: int | None = None,
        secret: str | None = None,
    ) -> None:
        """Count the rejection (never awaited: a 4xx is not an acknowledgement). `status` is
        the one the sender saw, when its API's error shape differs from the problem's;
        `secret` (a key carried in the body) is blanked out of the sample."""
        body = raw_body(request)
        sample = body[: 2048 + 256].decode("utf-8", "replace") if body else None
        if sample and secret:
            sample = sample.replace(secret, "<routing_key>")
        sample = sample[:2048] if sample else None
        remote = request.client.host if request.client else None
        self.rt.writer.submit_nowait(
            [
                RejectionItem(
                    integration_id, status or problem.status, problem.detail, sample, remote
                )
            ]
        )

    async def _commit(self, integration: Integration, parsed: Parsed) -> list[Outcome | None]:
        items: list[Item] = [EventItem(integration, e) for e in parsed.events]
        items.extend(ChangeItem(integration, c) for c in parsed.changes)
        if not items:
            return []
        outcomes = await self.rt.writer.submit(items)
        counts = self.rt.ingest_counts
        counts[integration.id] = counts.get(integration.id, 0) + len(items)
        return outcomes

    def _now(self) -> datetime:
        return self.rt.clock.now()

    async def _guarded(
        self,
        request: Request,
        integration_id: str,
        work: Callable[[], Awaitable[Response]],
        render: Callable[[Problem], Response] = problem_response,
    ) -> Response:
        try:
            return await work()
        except Problem as problem:
            response = render(problem)
            if problem.status < 500:
                self._reject(request, integration_id, problem, status=response.status_code)
            return response

    # --- /integrations/{key}/{format} ---------------------------------------------------------

    async def by_path(self, request: Request) -> Response:
        key = request.path_params["key"]
        fmt = request.path_params.get("format") or request.url.path.rsplit("/", 1)[-1]
        spec = PATH_FORMATS.get(fmt)
        integration = self._integration(key)
        if spec is None:
            return problem_response(
                NotFound(
                    f"unknown format {fmt[:40]!r}",
                    field="format",
                    allowed=", ".join(sorted(PATH_FORMATS)),
                )
            )
        parser, limit, types = spec
        if integration is None or integration.type not in types:
            problem = NotFound(f"no {fmt} integration has this key", field="key")
            self._reject(request, UNKNOWN, problem)
            return problem_response(problem)

        async def work() -> Response:
            body = await read_limited(request, limit)
            parsed = parser(body, request.headers.get("content-type"), request, self._now())
            outcomes = await self._commit(integration, parsed)
            return json_response(
                {"status": "accepted", "events": [_brief(o) for o in outcomes if o is not None]},
                status=202,
            )

        return await self._guarded(request, integration.id, work)

    # --- PagerDuty Events API v2 ---------------------------------------------------------

    async def pagerduty(self, request: Request) -> Response:
        return await self._pagerduty(request, change=False)

    async def pagerduty_change(self, request: Request) -> Response:
        return await self._pagerduty(request, change=True)

    async def _pagerduty(self, request: Request, *, change: bool) -> Response:
        integration_id = UNKNOWN

        def render(problem: Problem) -> Response:
            if problem.status >= 500:
                return problem_response(problem)
            return json_response(pagerduty.error_body_for(problem), status=problem.status)

        async def work() -> Response:
            nonlocal integration_id
            body = await read_limited(request, pagerduty.MAX_BODY)
            ctype = request.headers.get("content-type")
            parse = pagerduty.parse_change if change else pagerduty.parse
            parsed = parse(body, ctype, now=self._now())
            integration = self._integration(parsed.routing_key or "")
            if integration is None or integration.type != "pagerduty":
                raise Problem(
                    "routing_key is not the key of a PagerDuty integration", field="routing_key"
                )
            integration_id = integration.id
            await self._commit(integration, parsed)
            if change:
                return json_response(
                    {"status": "success", "message": "Change event processed"}, status=202
                )
            key = parsed.events[0].dedup_key if parsed.events else None
            return json_response(pagerduty.success_body(key or ""), status=202)

        try:
            return await work()
        except Problem as problem:
            if problem.status < 500:
                # An invalid event with a valid routing key counts for its integration.
                key = _routing_key_of(raw_body(request))
                found = self._integration(key) if key else None
                if integration_id == UNKNOWN and found is not None and found.type == "pagerduty":
                    integration_id = found.id
                self._reject(request, integration_id, problem, secret=key)
            return render(problem)

    # --- Alertmanager API v2 ---------------------------------------------------------------

    async def alertmanager_api(self, request: Request) -> Response:
        integration = self._bearer_integration(request, "Bearer", {"alertmanager"})
        if isinstance(integration, Response):
            return integration

        async def work() -> Response:
            body = await read_limited(request, alertmanager.MAX_BODY)
            parsed = alertmanager.parse_alerts(
                body, request.headers.get("content-type"), now=self._now()
            )
            await self._commit(integration, parsed)
            return Response(status_code=200)

        return await self._guarded(request, integration.id, work)

    def _bearer_integration(
        self, request: Request, scheme: str, types: set[str]
    ) -> Integration | Response:
        header = request.headers.get("authorization", "")
        given, _, key = header.partition(" ")
        integration = self._integration(key.strip()) if given.lower() == scheme.lower() else None
        if integration is None or integration.type not in types:
            problem = Unauthorized(
                f"an `Authorization: {scheme} <integration key>` header with the key of a "
                f"{'/'.join(sorted(types))} integration is required",
                field="Authorization",
            )
            self._reject(request, UNKNOWN, problem)
            return problem_response(problem)
        return integration

    # --- Opsgenie --------------------------------------------------------------------------

    async def opsgenie_create(self, request: Request) -> Response:
        integration = self._bearer_integration(request, "GenieKey", {"opsgenie"})
        if isinstance(integration, Response):
            return integration
        request_id = str(uuid.uuid4())

        async def work() -> Response:
            body = await read_limited(request, opsgenie.MAX_BODY)
            parsed = opsgenie.parse_create(
                body, request.headers.get("content-type"), now=self._now()
            )
            await self._commit(integration, parsed)
            return json_response(opsgenie.accepted_body(request_id), status=202)

        return await self._guarded(request, integration.id, work, _opsgenie_render(request_id))

    async def opsgenie_action(self, request: Request) -> Response:
        integration = self._bearer_integration(request, "GenieKey", {"opsgenie"})
        if isinstance(integration, Response):
            return integration
        request_id = str(uuid.uuid4())

        async def work() -> Response:
            body = await read_limited(request, opsgenie.MAX_BODY)
            parsed = opsgenie.parse_action(
                request.path_params["alias"],
                request.path_params["action"],
                body,
                request.headers.get("content-type"),
                request.query_params,
                now=self._now(),
            )
            await self._commit(integration, parsed)
            return json_response(opsgenie.accepted_body(request_id), status=202)

        return await self._guarded(request, integration.id, work, _opsgenie_render(request_id))


def _opsgenie_render(request_id: str) -> Callable[[Problem], Response]:
    def render(problem: Problem) -> Response:
        if problem.status >= 500 or problem.status in (401, 413, 415):
            return problem_response(problem)
        body = opsgenie.error_body(
            problem.detail, request_id, {problem.field or "body": problem.detail}
        )
        return json_response(body, status=422)

    return render


def _routing_key_of(body: bytes) -> str | None:
    """The `routing_key` of a PagerDuty body that failed validation, if it has one."""
    try:
        data = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        return None
    key = data.get("routing_key") if isinstance(data, dict) else None
    return key if isinstance(key, str) and key else None


def _brief(outcome: Outcome) -> dict[str, Any]:
    return {
        "dedup_key": outcome.dedup_key,
        "decision": outcome.decision,
        "reason": outcome.reason,
        "alert_id": outcome.alert_id,
        "ticket_id": outcome.ticket_id,
        "service": outcome.service_id,
    }
