"""Notify's public routes: unsubscribe (RFC 8058), the preference page, the SMS provider's webhooks."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import anyio
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from runway_notify.domain.message_types import ALL
from runway_notify.domain.provider_signatures import sms_signature_valid
from runway_notify.domain.sms_keywords import keyword
from runway_notify.domain.unsubscribe_tokens import BadToken, read_token
from runway_notify.service_layer import opt_out as opting
from runway_notify.service_layer.sms_reports import delivery_status
from runway_runtime.requests import Host

router = APIRouter(tags=["preferences"])
sms_router = APIRouter(tags=["sms provider"])

MAX_FORM_BYTES = 64 * 1024


def _address(request: Request, token: str) -> tuple[str, str]:
    try:
        return read_token(request.app.state.settings.notify_signing_key, token)
    except BadToken as error:
        raise HTTPException(404, f"unknown link: {error}") from None


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body><main>{body}</main></body></html>"
    )


@router.get("/v1/unsubscribe/{token}", response_class=HTMLResponse, summary="Unsubscribe page")
async def unsubscribe_page(token: str, request: Request) -> HTMLResponse:
    """Shows one confirm button; a GET never unsubscribes (link scanners follow GETs)."""
    _channel, address = _address(request, token)
    return _page(
        "Unsubscribe",
        f"<p>Stop all non-essential email to <strong>{html.escape(address)}</strong>?</p>"
        f'<form method="post" action="/v1/unsubscribe/{html.escape(token)}">'
        '<button type="submit">Unsubscribe</button></form>'
        f'<p><a href="/v1/preferences/{html.escape(token)}">Choose what you get instead</a></p>',
    )


@router.post("/v1/unsubscribe/{token}", response_class=PlainTextResponse, summary="One-click unsubscribe")
async def unsubscribe(token: str, request: Request, host: Host) -> str:
    """Answers 200 and takes effect at once, for the RFC 8058 POST and for the page's button."""
    channel, address = _address(request, token)
    form = await request.form()
    source = "one_click" if form.get("List-Unsubscribe") == "One-Click" else "unsubscribe_page"
    await anyio.to_thread.run_sync(
        lambda: opting.opt_out(host.unit_of_work(), channel, address, source, datetime.now(UTC))
    )
    return f"Unsubscribed {address}."


def _preferences_form(token: str, address: str, current: dict[str, bool], saved: bool) -> HTMLResponse:
    boxes = "".join(
        f'<p><label><input type="checkbox" name="types" value="{name}"{" checked" if on else ""}> '
        f"{html.escape(ALL[name].title)}</label></p>"
        for name, on in current.items()
    )
    notice = "<p><strong>Saved.</strong></p>" if saved else ""
    return _page(
        "Email preferences",
        f"{notice}<p>Email we send to <strong>{html.escape(address)}</strong>:</p>"
        f'<form method="post" action="/v1/preferences/{html.escape(token)}">{boxes}'
        '<button type="submit">Save</button></form>'
        "<p>Receipts for donations are always sent.</p>",
    )


async def _current(host: Host, channel: str, address: str) -> dict[str, bool]:
    def read() -> dict[str, bool]:
        with host.unit_of_work() as uow:
            return opting.preferences(uow.session, channel, address)

    return await anyio.to_thread.run_sync(read)


@router.get("/v1/preferences/{token}", response_class=HTMLResponse, summary="Preference page")
async def preference_page(token: str, request: Request, host: Host) -> HTMLResponse:
    channel, address = _address(request, token)
    return _preferences_form(token, address, await _current(host, channel, address), saved=False)


@router.post("/v1/preferences/{token}", response_class=HTMLResponse, summary="Save preferences")
async def save_preferences(token: str, request: Request, host: Host) -> HTMLResponse:
    channel, address = _address(request, token)
    form = await request.form()
    wanted = [str(v) for v in form.getlist("types")]
    unknown = sorted(set(wanted) - set(ALL))
    if unknown:
        raise HTTPException(422, f"types: unknown message types {unknown}")
    now = datetime.now(UTC)
    await anyio.to_thread.run_sync(
        lambda: opting.set_preferences(host.unit_of_work(), channel, address, wanted, now)
    )
    return _preferences_form(token, address, await _current(host, channel, address), saved=True)


async def _signed_form(request: Request) -> dict[str, str]:
    """The provider's form body, if its signature verifies against our public URL; else 403."""
    settings = request.app.state.settings
    if len(await request.body()) > MAX_FORM_BYTES:
        raise HTTPException(413, "body too large")
    form = await request.form()
    params = [(k, str(v)) for k, v in form.multi_items()]
    url = settings.notify_public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    given = request.headers.get("X-Twilio-Signature", "")
    if not settings.sms_auth_token or not sms_signature_valid(settings.sms_auth_token, url, params, given):
        raise HTTPException(403, "X-Twilio-Signature does not match this request")
    return dict(params)


def _twiml(text: str | None) -> Response:
    body = f"<Message>{html.escape(text, quote=False)}</Message>" if text else ""
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>', media_type="text/xml"
    )


@sms_router.post("/v1/sms/inbound", summary="Inbound text (provider webhook)")
async def inbound_sms(request: Request, host: Host) -> Response:
    """STOP and its synonyms opt the number out at once; START opts it back in; HELP says who we are."""
    form = await _signed_form(request)
    phone, body = form.get("From", ""), form.get("Body", "")
    if not phone:
        raise HTTPException(422, "From: missing")
    settings = request.app.state.settings
    org = settings.organization_name
    asked = keyword(body)
    reply = None
    if asked == "stop":
        await anyio.to_thread.run_sync(lambda: opting.sms_stop(host.unit_of_work(), phone, datetime.now(UTC)))
        reply = f"{org}: You're unsubscribed and will get no more texts. Reply START to resubscribe."
    elif asked == "start":
        await anyio.to_thread.run_sync(lambda: opting.sms_start(host.unit_of_work(), phone))
        reply = f"{org}: You're resubscribed. Reply STOP to opt out."
    elif asked == "help":
        reply = f"{org}: texts about running for office. {settings.organization_postal_address}. Reply STOP to opt out."
    return _twiml(reply if settings.sms_keyword_replies else None)


@sms_router.post("/v1/sms/status", summary="Delivery status (provider webhook)")
async def sms_status(request: Request, host: Host) -> Response:
    form = await _signed_form(request)
    sid, status = (
        form.get("MessageSid") or form.get("SmsSid"),
        form.get("MessageStatus") or form.get("SmsStatus"),
    )
    if not sid or not status:
        raise HTTPException(422, "MessageSid and MessageStatus are required")
    await anyio.to_thread.run_sync(
        lambda: delivery_status(host.unit_of_work(), sid, status, form.get("ErrorCode"), datetime.now(UTC))
    )
    return Response(status_code=204)
