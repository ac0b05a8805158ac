"""The ingest edge's own ASGI dispatcher: sender paths go straight to their handler (no
middleware stack, no regex router); everything else goes to the management application."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from watchkeeper.errors import Problem
from watchkeeper.ingest.edge import IngestEdge
from watchkeeper.ingest.responses import problem_response

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]


class IngestDispatcher:
    def __init__(self, edge: IngestEdge, fallback: ASGIApp) -> None:
        self.fallback = fallback
        self.exact: dict[tuple[str, str], Handler] = {
            ("POST", "/v2/enqueue"): edge.pagerduty,
            ("POST", "/v2/change/enqueue"): edge.pagerduty_change,
            ("POST", "/api/v2/alerts"): edge.alertmanager_api,
            ("POST", "/v2/alerts"): edge.opsgenie_create,
        }
        self.edge = edge

    def _match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        handler = self.exact.get((method, path))
        if handler is not None:
            return handler, {}
        parts = path.split("/")
        # /integrations/{key}/{format}
        if len(parts) == 4 and parts[1] == "integrations" and parts[2] and parts[3]:
            fmt = parts[3]
            allowed = {"heartbeat": ("GET", "POST"), "grafana": ("POST", "PUT")}.get(fmt, ("POST",))
            if method in allowed:
                return self.edge.by_path, {"key": parts[2], "format": fmt}
            return None
        # /v2/alerts/{alias}/{action} (Opsgenie)
        if len(parts) == 5 and parts[1] == "v2" and parts[2] == "alerts" and method == "POST":
            return self.edge.opsgenie_action, {"alias": parts[3], "action": parts[4]}
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fallback(scope, receive, send)
            return
        found = self._match(scope["method"], scope["path"])
        if found is None:
            await self.fallback(scope, receive, send)
            return
        handler, params = found
        scope["path_params"] = params
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except Problem as problem:
            response = problem_response(problem)
        except Exception:
            log.exception("ingest handler failed")
            response = problem_response(
                Problem("the event could not be processed", status=500, title="Internal error")
            )
        await response(scope, receive, send)
