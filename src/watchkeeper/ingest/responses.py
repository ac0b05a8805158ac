"""Response bodies of the ingest edge: problem+json, or a sender's own shape."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

from watchkeeper.errors import Problem

_encode = msgspec.json.encode


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        _encode(body), status_code=status, media_type="application/json", headers=headers
    )


def problem_response(problem: Problem) -> Response:
    headers = {"Retry-After": "5"} if problem.status == 503 else None
    return Response(
        _encode(problem.body()),
        status_code=problem.status,
        media_type="application/problem+json",
        headers=headers,
    )
