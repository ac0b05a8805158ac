"""The web console for people: static files at /console, and who the caller is at /api/v1/me."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from watchkeeper.api.deps import CallerDep
from watchkeeper.errors import NotFound

__all__ = ["STATIC", "router"]

STATIC: Final = Path(__file__).parent / "static"
# Only plain file names of the kinds the console ships: no directories, no dot files.
_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9-]*\.(html|css|js|svg)$")
_MEDIA: Final = {
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "svg": "image/svg+xml",
}
# The console loads nothing but its own files and talks to nothing but this server; untrusted
# text is rendered with textContent, and this policy is the second fence.
_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["console"])


@router.get("/api/v1/me")
def me(who: CallerDep) -> dict[str, str | bool | None]:
    """Who the bearer token belongs to."""
    return {"actor": who.actor, "user_id": who.user_id, "admin": who.admin}


@router.get("/console", include_in_schema=False)
def index_redirect() -> RedirectResponse:
    # The console uses relative URLs (its files, and ../api/v1), so it also works behind a
    # proxy that mounts the server under a prefix; they resolve from /console/.
    return RedirectResponse("console/", status_code=308)


@router.get("/console/", include_in_schema=False)
def index() -> FileResponse:
    return _file("index.html")


@router.get("/console/{name}", include_in_schema=False)
def asset(name: str) -> FileResponse:
    return _file(name)


def _file(name: str) -> FileResponse:
    match = _NAME.match(name)
    path = STATIC / name
    if match is None or not path.is_file():
        raise NotFound(f"no console file {name!r}", field="path")
    return FileResponse(path, media_type=_MEDIA[match.group(1)], headers=_HEADERS)
