"""A local stand-in for a Twilio-compatible SMS provider, for development and tests.

- `POST /2010-04-01/Accounts/{sid}/Messages.json` (HTTP Basic sid:token) keeps
  the text and answers 201 with a message sid, then reports `sent` and
  `delivered` to the message's StatusCallback, signed as the provider signs
  (`X-Twilio-Signature`). Twilio's magic test number +15005550001 is refused
  as invalid (error 21211), as the real API does.
- `POST /simulate/inbound` `{"from": …, "body": …}` plays a person texting in:
  the sink posts the signed inbound webhook to `--inbound-url` and returns the
  reply it got.
- `POST /simulate/outage` `{"seconds": n}` answers 503 to sends for n seconds.
- `GET /messages` lists what was sent.

It delivers nothing to any phone.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import secrets
import time
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

INVALID_NUMBER = "+15005550001"


def provider_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    payload = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def create_app(account_sid: str, auth_token: str, inbound_url: str | None) -> FastAPI:
    app = FastAPI(
        title="Runway SMS sink", description="Texts 'sent' through the local SMS provider stand-in."
    )
    sent: list[dict[str, Any]] = []
    state = {"down_until": 0.0}
    background: set[asyncio.Task[None]] = set()

    async def post_signed(url: str, params: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(
                url, data=params, headers={"X-Twilio-Signature": provider_signature(auth_token, url, params)}
            )

    async def report(message: dict[str, Any]) -> None:
        for status in ("sent", "delivered"):
            await asyncio.sleep(0.05)
            message["status"] = status
            if message["status_callback"]:
                params = {"MessageSid": message["sid"], "MessageStatus": status, "To": message["to"]}
                # The real provider retries callbacks; losing one here only leaves the text "sent".
                with contextlib.suppress(httpx.HTTPError):
                    await post_signed(message["status_callback"], params)

    @app.post("/2010-04-01/Accounts/{sid}/Messages.json", status_code=201)
    async def send(sid: str, request: Request) -> JSONResponse:
        auth = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        if sid != account_sid or not hmac.compare_digest(auth, expected):
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, status_code=401)
        if time.monotonic() < state["down_until"]:
            return JSONResponse(
                {"code": 20500, "message": "Service unavailable", "status": 503}, status_code=503
            )
        form = await request.form()
        to = str(form.get("To", ""))
        if to == INVALID_NUMBER:
            return JSONResponse(
                {
                    "code": 21211,
                    "message": f"The 'To' number {to} is not a valid phone number.",
                    "status": 400,
                },
                status_code=400,
            )
        message = {
            "sid": "SM" + secrets.token_hex(16),
            "to": to,
            "from": str(form.get("From") or form.get("MessagingServiceSid") or ""),
            "body": str(form.get("Body", "")),
            "status": "queued",
            "status_callback": str(form.get("StatusCallback") or ""),
            "at": time.time(),
        }
        sent.append(message)
        task = asyncio.create_task(report(message))
        background.add(task)
        task.add_done_callback(background.discard)
        return JSONResponse({"sid": message["sid"], "status": "queued", "to": to}, status_code=201)

    @app.get("/messages")
    async def messages() -> list[dict[str, Any]]:
        return sent

    @app.post("/simulate/inbound")
    async def inbound(body: dict[str, str]) -> dict[str, Any]:
        if not inbound_url:
            raise HTTPException(409, "no --inbound-url configured")
        params = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": account_sid,
            "From": body["from"],
            "To": body.get("to", "+15005550006"),
            "Body": body["body"],
        }
        response = await post_signed(inbound_url, params)
        return {"status": response.status_code, "reply": response.text}

    @app.post("/simulate/outage")
    async def outage(body: dict[str, float]) -> dict[str, float]:
        state["down_until"] = time.monotonic() + float(body.get("seconds", 30))
        return {"down_for_seconds": float(body.get("seconds", 30))}

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="runway-sms-sink", description=__doc__)
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--inbound-url", help="notify's /v1/sms/inbound, for /simulate/inbound")
    args = parser.parse_args(argv)
    app = create_app(args.account_sid, args.auth_token, args.inbound_url)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
