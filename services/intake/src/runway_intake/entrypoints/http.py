"""Sign-up routes: any registered form posts to one URL; Runway's own form to /v1/signups."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response

from runway_intake.domain.canonical import InvalidSubmission, build_signup
from runway_intake.domain.forms import Form, apply_mapping, honeypot_tripped
from runway_intake.entrypoints.form_bodies import JSON, media_type, read_fields
from runway_intake.entrypoints.schemas import SignupAccepted, SignupIn, inline_schema
from runway_intake.service_layer.signup_writer import WriterStopped
from runway_intake.service_layer.signups import IdempotencyKey, IdempotencyKeyReused
from runway_runtime.requests import read_capped_body

router = APIRouter(tags=["sign-ups"])
SIGNATURE_HEADER = "X-Runway-Signature"
ERRORS = {
    401: {"description": "Partner form without a valid signature or token"},
    403: {"description": "Browser post from an origin the form does not allow"},
    404: {"description": "No such form"},
    410: {"description": "The form was deactivated"},
    413: {"description": "Body too large"},
    415: {"description": "Unsupported content type or charset"},
    422: {"description": "Invalid fields, each named with the reason"},
    429: {"description": "Too many submissions; see Retry-After"},
    503: {"description": "Shutting down; nothing was accepted, retry after Retry-After"},
}


def _problem(code: int, detail: Any, headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(code, detail, headers=headers)


def _check_partner(form: Form, request: Request, body: bytes) -> None:
    if form.auth == "none":
        return
    secret = (form.secret or "").encode()
    if form.auth == "hmac":
        given = request.headers.get(SIGNATURE_HEADER, "").removeprefix("sha256=")
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not given:
            raise _problem(401, f"{SIGNATURE_HEADER} header is required for this form")
        if not hmac.compare_digest(given, expected):
            raise _problem(401, f"{SIGNATURE_HEADER} does not match the body")
    elif form.auth == "bearer":
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not token:
            raise _problem(401, "Authorization: Bearer <token> is required for this form")
        if not hmac.compare_digest(token.encode(), secret):
            raise _problem(401, "the bearer token is not this form's")


def _check_origin(form: Form, request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and form.allowed_origins and origin not in form.allowed_origins:
        raise _problem(403, f"origin {origin} may not post to form {form.key}")


def _rate_limit(request: Request, form_key: str) -> None:
    limits = request.app.state.rate_limits
    ip = request.client.host if request.client else "?"
    for key, buckets in ((f"ip:{ip}", limits["ip"]), (f"form:{form_key}", limits["form"])):
        wait = buckets.take(key)
        if wait:
            raise _problem(429, "too many submissions; try again later", {"Retry-After": str(int(wait))})


def _wants_html(request: Request) -> bool:
    kind, _ = media_type(request)
    return kind != JSON and "text/html" in request.headers.get("accept", "")


def _back_with_errors(request: Request, errors: list[dict[str, Any]]) -> Response | None:
    referer = request.headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer)
    query = "&".join(
        filter(None, [parts.query, urlencode({"runway_errors": ",".join(e["loc"][-1] for e in errors)})])
    )
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=303)


async def _submit(request: Request, form_key: str, body: bytes) -> Response:
    form = await request.app.state.forms.get(form_key)
    if form is None:
        raise _problem(404, f"no form {form_key!r}")
    if not form.active:
        raise _problem(410, f"form {form_key!r} no longer accepts submissions")
    _check_partner(form, request, body)
    _check_origin(form, request)
    _rate_limit(request, form_key)
    fields = await read_fields(request, body)
    if honeypot_tripped(form, fields):  # look accepted, keep nothing
        return _respond(request, form, {"lead_id": None, "submission_id": None, "is_new_lead": False}, 202)
    now = datetime.now(UTC)
    ip = request.client.host if request.client else None
    try:
        signup = build_signup(
            form,
            apply_mapping(form, fields),
            received_at=now,
            ip=ip,
            user_agent=request.headers.get("user-agent"),
            raw=fields,
        )
    except InvalidSubmission as invalid:
        errors = [{"loc": ["body", e.field], "msg": e.reason, "type": "value_error"} for e in invalid.errors]
        if _wants_html(request) and (back := _back_with_errors(request, errors)):
            return back
        raise _problem(422, errors) from None
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= 200:
        raise _problem(
            422, [{"loc": ["header", "Idempotency-Key"], "msg": "1 to 200 characters", "type": "value_error"}]
        )
    idempotency = IdempotencyKey(key, hashlib.sha256(body).hexdigest()) if key else None
    try:
        accepted = await request.app.state.writer.accept(signup, idempotency)
    except WriterStopped:  # shutting down: nothing was accepted, the client should retry elsewhere
        raise _problem(503, "intake is restarting; retry shortly", {"Retry-After": "1"}) from None
    except IdempotencyKeyReused:
        raise _problem(
            422,
            [
                {
                    "loc": ["header", "Idempotency-Key"],
                    "msg": "already used with a different body",
                    "type": "value_error",
                }
            ],
        ) from None
    body_out = {
        "lead_id": accepted.lead_id,
        "submission_id": accepted.submission_id,
        "is_new_lead": accepted.is_new_lead,
    }
    response = _respond(request, form, body_out, 202)
    if accepted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _respond(request: Request, form: Form, body: dict[str, Any], code: int) -> Response:
    if _wants_html(request):
        target = form.thank_you_url or request.headers.get("referer")
        if target:
            return RedirectResponse(target, status_code=303)
    return JSONResponse(body, status_code=code)


@router.post(
    "/v1/forms/{form_key}/submissions",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SignupAccepted,
    summary="Submit a sign-up through any registered form",
    responses={
        303: {"description": "HTML form: redirect to the thank-you page (or back with errors)"},
        **ERRORS,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object", "additionalProperties": True}},
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "additionalProperties": True}
                },
                "multipart/form-data": {"schema": {"type": "object", "additionalProperties": True}},
            },
        }
    },
)
async def post_submission(form_key: str, request: Request) -> Response:
    """Field names are the form's own; its registered mapping turns them into a lead.

    Accepted (202) means the submission, its lead and its event are committed.
    """
    body = await read_capped_body(request, request.app.state.max_body_bytes)
    return await _submit(request, form_key, body)


@router.post(
    "/v1/signups",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SignupAccepted,
    summary="Sign up through Runway's own form",
    responses=ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_schema(SignupIn)}},
        }
    },
)
async def post_signup(request: Request) -> Response:
    """Runway's built-in form (`signup`): JSON in the documented shape. 202 = committed."""
    if media_type(request)[0] != JSON:
        raise _problem(415, "send application/json")
    body = await read_capped_body(request, request.app.state.max_body_bytes)
    return await _submit(request, "signup", body)
