"""Notify's HTTP routes: one-click unsubscribe (RFC 8058) and its confirmation page."""

from __future__ import annotations

import html

import anyio
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from runway_notify.domain.unsubscribe_tokens import BadToken, read_token
from runway_notify.service_layer.opt_out import opt_out
from runway_runtime.requests import Host

router = APIRouter(tags=["preferences"])


def _address(request: Request, token: str) -> tuple[str, str]:
    try:
        return read_token(request.app.state.signing_key, token)
    except BadToken as error:
        raise HTTPException(404, f"unknown unsubscribe link: {error}") from None


@router.get("/v1/unsubscribe/{token}", response_class=HTMLResponse, summary="Unsubscribe page")
async def unsubscribe_page(token: str, request: Request) -> HTMLResponse:
    """Shows one confirm button; a GET never unsubscribes (link scanners follow GETs)."""
    _channel, address = _address(request, token)
    return HTMLResponse(
        "<!doctype html><html><body>"
        f"<p>Stop all non-essential email to <strong>{html.escape(address)}</strong>?</p>"
        f'<form method="post" action="/v1/unsubscribe/{html.escape(token)}">'
        '<button type="submit">Unsubscribe</button></form></body></html>'
    )


@router.post("/v1/unsubscribe/{token}", response_class=PlainTextResponse, summary="One-click unsubscribe")
async def unsubscribe(token: str, request: Request, host: Host) -> str:
    """Answers 200 and takes effect at once, for the RFC 8058 POST and for the page's button."""
    channel, address = _address(request, token)
    form = await request.form()
    source = "one_click" if form.get("List-Unsubscribe") == "One-Click" else "unsubscribe_page"
    await anyio.to_thread.run_sync(opt_out, host.unit_of_work(), channel, address, source)
    return f"Unsubscribed {address}."
