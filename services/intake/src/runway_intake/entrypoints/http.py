"""Intake's HTTP routes: translate a request into a Signup and delegate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request, status
from pydantic import ValidationError

from runway_intake.domain.contact_details import (
    InvalidField,
    normalize_email,
    normalize_phone,
    normalize_postal_code,
)
from runway_intake.domain.interests import unknown_interests
from runway_intake.domain.signup import Consent, Signup
from runway_intake.entrypoints.schemas import SignupAccepted, SignupIn
from runway_intake.service_layer.signups import accept_signup
from runway_runtime.requests import Host, read_capped_body

router = APIRouter(tags=["sign-ups"])


def _field_error(field: str, reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": ["body", field], "msg": reason, "type": "value_error"}],
    )


def to_signup(form: SignupIn, form_key: str, request: Request) -> Signup:
    now = datetime.now(UTC)
    ip = request.client.host if request.client else None
    agent = request.headers.get("user-agent")
    try:
        email = normalize_email(form.email) if form.email else None
        phone = normalize_phone(form.phone) if form.phone else None
        postal_code = normalize_postal_code(form.zip) if form.zip else None
    except InvalidField as error:
        raise _field_error(error.field, error.reason) from None
    if not (email or phone):
        raise _field_error("email", "an email or a phone number is required")
    if unknown := unknown_interests(form.interests):
        raise _field_error("interests", f"unknown interest codes: {', '.join(unknown)}")

    def consent(granted: bool) -> Consent | None:
        if form.consent is None:
            return None
        return Consent(granted, now, form.consent.wording, ip, agent)

    return Signup(
        form_key=form_key,
        first_name=form.first_name or None,
        last_name=form.last_name or None,
        email=email,
        phone=phone,
        postal_code=postal_code,
        birth_date=form.birth_date,
        interests=tuple(form.interests),
        tags=tuple(form.tags),
        email_consent=consent(form.consent.email) if form.consent else None,
        sms_consent=consent(form.consent.sms) if form.consent else None,
        received_at=now,
        ip=ip,
        user_agent=agent,
        raw=form.model_dump(mode="json"),
    )


@router.post(
    "/v1/signups",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SignupAccepted,
    summary="Sign up through Runway's own form",
    responses={413: {"description": "Body too large"}, 415: {"description": "Not JSON"}},
)
async def post_signup(request: Request, host: Host) -> SignupAccepted:
    """Accepted (202) means the sign-up and its event are committed."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send application/json")
    body = await read_capped_body(request, request.app.state.max_body_bytes)
    try:
        form = SignupIn.model_validate_json(body)
    except ValidationError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _errors(error)) from None
    signup = to_signup(form, "signup", request)
    accepted = await anyio.to_thread.run_sync(accept_signup, signup, host.unit_of_work)
    return SignupAccepted(
        lead_id=accepted.lead_id,
        submission_id=accepted.submission_id,
        is_new_lead=accepted.is_new_lead,
    )


def _errors(error: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in error.errors(include_url=False, include_input=False)
    ]
