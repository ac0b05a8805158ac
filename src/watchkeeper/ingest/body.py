"""Reading request bodies within a size limit, before any decoding."""

from __future__ import annotations

from starlette.requests import Request

from watchkeeper.errors import PayloadTooLarge

KB = 1024
RAW_BODY = "watchkeeper.raw_body"  # scope key (cheaper than request.state on the hot path)
MB = 1024 * 1024


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"body is {int(declared)} bytes", field="body", allowed=f"at most {limit} bytes"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"body exceeds {limit} bytes", field="body", allowed=f"at most {limit} bytes"
            )
        chunks.append(chunk)
    body = b"".join(chunks)
    request.scope[RAW_BODY] = body  # kept for the rejection sample, should decoding fail
    return body


def raw_body(request: Request) -> bytes:
    """The body `read_limited` read, or b"" when it read none."""
    body: bytes = request.scope.get(RAW_BODY, b"")
    return body
