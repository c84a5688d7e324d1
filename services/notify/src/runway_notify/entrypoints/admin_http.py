"""Notify's admin routes (bearer `RUNWAY_ADMIN_TOKEN`): the delivery log, template previews, suppressions."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Annotated, Any, Literal

import anyio
from fastapi import HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from runway_notify.domain.message_types import ALL
from runway_notify.service_layer.composing import Claimed
from runway_notify.service_layer.delivery_log import notifications_for
from runway_notify.service_layer.dispatcher import suppress
from runway_notify.service_layer.previews import SAMPLES
from runway_runtime.admin import admin_router
from runway_runtime.requests import Host

router = admin_router(tags=["admin"])


@router.get("/v1/notifications", summary="Delivery log for a contact")
async def delivery_log(
    host: Host,
    contact: Annotated[
        str, Query(min_length=1, max_length=320, description="Lead id, email or E.164 phone.")
    ],
) -> dict[str, Any]:
    def read() -> list[dict[str, Any]]:
        with host.unit_of_work() as uow:
            return notifications_for(uow.session, contact)

    return {"contact": contact, "notifications": await anyio.to_thread.run_sync(read)}


@router.get(
    "/v1/templates/{message_type}/preview", summary="Render a template with sample data", response_model=None
)
async def preview(
    message_type: str,
    request: Request,
    part: Literal["all", "html", "text", "sms"] = "all",
) -> Response | dict[str, Any]:
    if message_type not in ALL:
        raise HTTPException(404, f"message_type: unknown, expected one of {sorted(ALL)}")
    composer = request.app.state.composer
    mt = ALL[message_type]
    settings = request.app.state.settings
    context = {
        "first_name": "Maya",
        "organization": settings.organization_name,
        "postal_address": settings.organization_postal_address,
        "disclaimer": settings.organization_disclaimer,
        **SAMPLES[message_type],
    }
    delivery = Claimed(
        id="preview",
        claim_token="preview",
        notification_key=f"{message_type}:preview",
        message_type=message_type,
        channel="email",
        lead_id=None,
        recipient="maya@example.org",
        transactional=mt.transactional,
        context=context,
        message_id="<preview@runway.notify>",
        attempts=0,
        created_at=datetime.now(UTC),
    )
    email = message_from_bytes(composer.email(delivery).data, policy=policy.default)
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    sms = composer.sms(delivery) if "sms" in mt.channels else None
    if part == "html":
        return HTMLResponse(html)
    if part == "text":
        return PlainTextResponse(text)
    if part == "sms":
        if sms is None:
            raise HTTPException(404, f"part: {message_type} is not sent by SMS")
        return PlainTextResponse(sms)
    headers = {k: str(v) for k, v in email.items()}
    return {
        "message_type": message_type,
        "channels": list(mt.channels),
        "headers": headers,
        "text": text,
        "html": html,
        "sms": sms,
    }


class SuppressionIn(BaseModel):
    channel: Literal["email", "sms"]
    address: str = Field(min_length=3, max_length=320)
    reason: str = Field(default="hard_bounce", pattern=r"^[a-z_]{3,50}$")


@router.post("/v1/suppressions", status_code=201, summary="Suppress an address (bounce or complaint feed)")
async def add_suppression(body: SuppressionIn, host: Host) -> dict[str, Any]:
    def write() -> bool:
        with host.unit_of_work() as uow:
            created = suppress(
                uow.session, body.channel, body.address.strip(), body.reason, datetime.now(UTC)
            )
            uow.commit()
            return created

    return {
        "channel": body.channel,
        "address": body.address,
        "created": await anyio.to_thread.run_sync(write),
    }
