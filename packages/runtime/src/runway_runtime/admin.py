"""Admin routes of every service: bearer `RUNWAY_ADMIN_TOKEN`."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer(auto_error=False)


async def require_admin(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    token = request.app.state.host.settings.admin_token
    if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), token.encode()):
        raise HTTPException(401, "admin bearer token required", headers={"WWW-Authenticate": "Bearer"})


def admin_router(**kwargs: object) -> APIRouter:
    """A router whose every route needs the admin token."""
    return APIRouter(
        dependencies=[Depends(require_admin)],
        responses={401: {"description": "No or wrong admin token"}},
        **kwargs,  # type: ignore[arg-type]
    )
