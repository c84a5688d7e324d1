"""What every service's routes need from a request: its host, and a size-capped body."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from runway_runtime.host import ServiceHost


async def get_host(request: Request) -> ServiceHost:
    # async: a sync dependency would cost a worker-thread hop on every request
    return request.app.state.host  # type: ignore[no-any-return]


Host = Annotated[ServiceHost, Depends(get_host)]


async def read_capped_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes `limit` bytes.

    The declared Content-Length is checked first; the stream is counted as
    well, since a chunked body declares none.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
    return bytes(body)
