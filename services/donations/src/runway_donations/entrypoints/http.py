"""Provider webhooks: verify first, store second, answer 2xx only after the commit."""

from __future__ import annotations

import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, HTTPException, Request, status

from runway_donations.domain.stripe_signature import SignatureRejected, verify
from runway_donations.service_layer.stripe_webhooks import parse_event, receive_stripe_event
from runway_runtime.requests import Host, read_capped_body

router = APIRouter(tags=["webhooks"])


@router.post(
    "/v1/webhooks/stripe",
    summary="Stripe webhook endpoint",
    responses={400: {"description": "Signature or payload rejected"}, 413: {"description": "Body too large"}},
)
async def stripe_webhook(
    request: Request,
    host: Host,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> dict[str, Any]:
    secrets = request.app.state.stripe_secrets
    if not secrets:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "RUNWAY_STRIPE_WEBHOOK_SECRET is not configured"
        )
    body = await read_capped_body(request, request.app.state.max_body_bytes)
    try:
        verify(body, stripe_signature, secrets, time.time(), request.app.state.stripe_tolerance)
    except SignatureRejected as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Stripe-Signature: {error}") from None
    try:
        event = parse_event(body)
    except ValueError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"body: {error}") from None
    outcome = await anyio.to_thread.run_sync(receive_stripe_event, body, event, host.unit_of_work())
    return {"received": True, "event_id": event["id"], "outcome": outcome}
