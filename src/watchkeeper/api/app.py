"""The HTTP application: the ingest edge (raw Starlette routes) in front of the management API
(FastAPI, OpenAPI at /docs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp

from watchkeeper import __version__
from watchkeeper.api import (
    actions,
    admin,
    escalation,
    health,
    quality,
    records,
    schedules,
    silences,
    tickets,
)
from watchkeeper.errors import Problem
from watchkeeper.ingest.asgi import IngestDispatcher
from watchkeeper.ingest.edge import IngestEdge
from watchkeeper.ingest.responses import problem_response
from watchkeeper.runtime import Runtime
from watchkeeper.web import console


def management_api(rt: Runtime) -> FastAPI:
    api = FastAPI(
        title="Watchkeeper",
        version=__version__,
        description="On-call and incident-quality platform: management API.",
    )
    api.state.runtime = rt
    for module in (tickets, records, silences, admin, health, actions, escalation, schedules):
        api.include_router(module.router)
    api.include_router(quality.router)
    api.include_router(console.router)

    @api.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem) -> Response:
        return problem_response(exc)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        problem = Problem(
            str(first.get("msg", "invalid request")),
            field=".".join(loc) or None,
            status=422,
            title="Invalid request",
            extra={
                "errors": [
                    {
                        "field": ".".join(
                            str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")
                        ),
                        "message": e.get("msg"),
                    }
                    for e in errors
                ]
            },
        )
        return problem_response(problem)

    return api


def create_app(rt: Runtime, *, start_background: bool = True) -> ASGIApp:
    """`start_background`: run the writer thread (and nothing else) for the app's lifetime."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if start_background:
            rt.writer.start()
        try:
            yield
        finally:
            if start_background:
                await rt.writer.stop()

    edge = IngestEdge(rt)
    app = Starlette(routes=[*edge.routes(), Mount("/", app=management_api(rt))], lifespan=lifespan)
    app.state.runtime = rt
    # Sender paths skip the middleware stack and the router: they are the hot path.
    return IngestDispatcher(edge, app)
