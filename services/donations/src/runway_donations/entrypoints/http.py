"""Provider webhooks: verify first, store second, answer 2xx only after the commit.

Nothing is stored for a request that fails verification or cannot be read;
a verified event Runway does not use is stored (and ignored) so the provider
stops retrying it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

from runway_donations.domain import actblue_events, anedot_events
from runway_donations.domain.facts import MalformedEvent
from runway_donations.domain.signatures import NotAuthenticated, check_basic_auth, check_body_hmac
from runway_donations.domain.stripe_signature import SignatureRejected, verify
from runway_donations.service_layer.webhooks import Incoming
from runway_eventbus.group_commit import WriterStopped
from runway_runtime.requests import read_capped_body

router = APIRouter(tags=["webhooks"])
COMMON = {
    413: {"description": "Body over the size cap"},
    503: {"description": "This provider's credentials are not configured"},
}


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "body: not UTF-8") from None
    except ValueError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"body: not JSON ({error})") from None
    if not isinstance(value, dict):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "body: a JSON object is required")
    return value


async def _store(request: Request, incoming: Incoming) -> dict[str, Any]:
    try:
        outcome = await request.app.state.webhook_writer.write(incoming)
    except WriterStopped:  # shutting down: nothing stored; the provider retries
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "restarting; retry shortly", headers={"Retry-After": "1"}
        ) from None
    return {"received": True, "event_id": incoming.provider_event_id, "outcome": outcome}


def _not_configured(what: str) -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{what} is not configured")


@router.post(
    "/v1/webhooks/stripe",
    summary="Stripe webhook endpoint (Stripe-Signature, 300 s tolerance)",
    responses={400: {"description": "Signature or payload rejected"}, **COMMON},
)
async def stripe_webhook(request: Request) -> dict[str, Any]:
    secrets = request.app.state.settings.stripe_secrets
    if not secrets:
        raise _not_configured("RUNWAY_STRIPE_WEBHOOK_SECRET")
    body = await read_capped_body(request, request.app.state.settings.donations_max_body_bytes)
    try:
        verify(
            body,
            request.headers.get("stripe-signature"),
            secrets,
            time.time(),
            request.app.state.settings.stripe_tolerance_seconds,
        )
    except SignatureRejected as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Stripe-Signature: {error}") from None
    event = _json_object(body)
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "body: a Stripe event needs string 'id' and 'type'")
    return await _store(request, Incoming("stripe", event["id"], event["type"], body))


def _actblue(kind: str) -> Any:
    async def actblue_webhook(request: Request) -> dict[str, Any]:
        settings = request.app.state.settings
        if not (settings.actblue_username and settings.actblue_password):
            raise _not_configured("RUNWAY_ACTBLUE_USERNAME / RUNWAY_ACTBLUE_PASSWORD")
        try:
            check_basic_auth(
                request.headers.get("authorization"), settings.actblue_username, settings.actblue_password
            )
        except NotAuthenticated as error:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                str(error),
                headers={"WWW-Authenticate": 'Basic realm="actblue"'},
            ) from None
        body = await read_capped_body(request, settings.donations_max_body_bytes)
        try:
            event_id = actblue_events.event_id(kind, _json_object(body))
        except MalformedEvent as error:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"body: {error}") from None
        return await _store(request, Incoming("actblue", event_id, kind, body))

    return actblue_webhook


for _kind, _path in (
    ("contribution", "/v1/webhooks/actblue"),
    ("refund", "/v1/webhooks/actblue/refunds"),
    ("cancellation", "/v1/webhooks/actblue/cancellations"),
):
    router.add_api_route(
        _path,
        _actblue(_kind),
        methods=["POST"],
        name=f"actblue_{_kind}_webhook",
        summary=f"ActBlue {_kind} webhook (HTTP Basic auth)",
        responses={
            400: {"description": "Payload rejected"},
            401: {"description": "Wrong credentials"},
            **COMMON,
        },
    )


@router.post(
    "/v1/webhooks/anedot",
    summary="Anedot webhook endpoint (X-Request-Signature HMAC of the body)",
    responses={
        400: {"description": "Payload rejected"},
        401: {"description": "Signature rejected"},
        **COMMON,
    },
)
async def anedot_webhook(request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    if not settings.anedot_webhook_secret:
        raise _not_configured("RUNWAY_ANEDOT_WEBHOOK_SECRET")
    body = await read_capped_body(request, settings.donations_max_body_bytes)
    try:
        check_body_hmac(body, request.headers.get("x-request-signature"), settings.anedot_webhook_secret)
    except NotAuthenticated as error:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(error)) from None
    payload = _json_object(body)
    try:
        event_id = anedot_events.event_id(payload)
    except MalformedEvent as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"body: {error}") from None
    return await _store(request, Incoming("anedot", event_id, str(payload["event"]), body))


# The routes every provider posts to: answered leanly (runway_runtime.lean_routes).
WEBHOOK_ROUTES = (
    "stripe_webhook",
    *(f"actblue_{kind}_webhook" for kind in ("contribution", "refund", "cancellation")),
    "anedot_webhook",
)
