"""What every management endpoint needs: the runtime, the caller, a transaction."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection

from watchkeeper.errors import Forbidden, Unauthorized
from watchkeeper.runtime import Runtime
from watchkeeper.storage import tokens as tokens_q


@dataclass(frozen=True)
class Caller:
    """Who is calling: a person (their user id) or the admin."""

    actor: str
    user_id: str | None
    admin: bool


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def caller(request: Request, rt: Annotated[Runtime, Depends(runtime)]) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer token is required", field="Authorization")
    admin = rt.settings.admin_token
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        return Caller(actor="admin", user_id=None, admin=True)
    with rt.reader.connect() as conn:
        row = tokens_q.find(conn, token)
    if row is None:
        raise Unauthorized("unknown or revoked token", field="Authorization")
    return Caller(actor=row.user_id or f"token:{row.name}", user_id=row.user_id, admin=row.admin)


def admin_caller(who: Annotated[Caller, Depends(caller)]) -> Caller:
    if not who.admin:
        raise Forbidden("this needs an admin token")
    return who


def read_conn(rt: Annotated[Runtime, Depends(runtime)]) -> Iterator[Connection]:
    with rt.reader.connect() as conn:
        yield conn


RuntimeDep = Annotated[Runtime, Depends(runtime)]
CallerDep = Annotated[Caller, Depends(caller)]
AdminDep = Annotated[Caller, Depends(admin_caller)]
ReadConn = Annotated[Connection, Depends(read_conn)]
