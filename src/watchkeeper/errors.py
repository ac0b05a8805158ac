"""Errors that reach a client: each names the field that is wrong and what is allowed."""

from __future__ import annotations

from typing import Any


class Problem(Exception):
    """An RFC 9457 problem: rendered as application/problem+json by every face."""

    status: int = 400
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        allowed: str | None = None,
        status: int | None = None,
        title: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.allowed = allowed
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "about:blank", "title": self.title, "status": self.status}
        out["detail"] = self.detail
        if self.field is not None:
            out["field"] = self.field
        if self.allowed is not None:
            out["allowed"] = self.allowed
        out.update(self.extra)
        return out


class InvalidPayload(Problem):
    """A sender's payload that does not match its wire format."""

    status = 400
    title = "Invalid payload"


class PayloadTooLarge(Problem):
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(Problem):
    status = 415
    title = "Unsupported media type"


class Unauthorized(Problem):
    status = 401
    title = "Unauthorized"


class Forbidden(Problem):
    status = 403
    title = "Forbidden"


class NotFound(Problem):
    status = 404
    title = "Not found"


class Conflict(Problem):
    status = 409
    title = "Conflict"


class Unavailable(Problem):
    """The database cannot commit: the sender must retry (503 with Retry-After)."""

    status = 503
    title = "Service unavailable"


class ConfigError(Exception):
    """A configuration file with errors; each names its YAML path."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in errors))
