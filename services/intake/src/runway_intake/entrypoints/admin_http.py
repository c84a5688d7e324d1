"""Admin routes (bearer RUNWAY_ADMIN_TOKEN): the form registry and the compliance view."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

import anyio
from fastapi import HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from runway_intake.domain.forms import CANONICAL_FIELDS, Form
from runway_intake.entrypoints.schemas import FormIn, FormOut, LeadOut, LeadPage, UniqueLeads
from runway_intake.service_layer import compliance, forms_registry
from runway_runtime.admin import admin_router
from runway_runtime.requests import Host

router = admin_router()


def _to_form(spec: FormIn) -> Form:
    unknown = sorted(set(spec.mapping) - CANONICAL_FIELDS)
    if unknown:
        raise HTTPException(
            422,
            [
                {"loc": ["body", "mapping", u], "msg": "not a canonical lead field", "type": "value_error"}
                for u in unknown
            ],
        )
    if spec.auth != "none" and not spec.secret:
        raise HTTPException(
            422,
            [{"loc": ["body", "secret"], "msg": f"auth {spec.auth} needs a secret", "type": "value_error"}],
        )
    return Form(
        key=spec.key,
        name=spec.name,
        owner=spec.owner,
        mapping=spec.mapping,
        value_maps=spec.value_maps,
        default_tags=tuple(spec.default_tags),
        default_source=spec.default_source,
        default_refcode=spec.default_refcode,
        consent_wording=spec.consent_wording,
        allowed_origins=tuple(spec.allowed_origins),
        auth=spec.auth,
        secret=spec.secret,
        thank_you_url=spec.thank_you_url,
        honeypot_field=spec.honeypot_field,
        active=spec.active,
    )


def _out(form: Form) -> FormOut:
    fields = {f.name: getattr(form, f.name) for f in dataclasses.fields(form) if f.name != "secret"}
    return FormOut(
        **{k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}, has_secret=bool(form.secret)
    )


@router.post(
    "/v1/admin/forms",
    status_code=201,
    response_model=FormOut,
    tags=["forms"],
    summary="Register a form",
    responses={409: {"description": "A form with this key exists"}},
)
async def register(spec: FormIn, host: Host, request: Request) -> FormOut:
    request.app.state.forms.forget(spec.key)
    try:
        return _out(
            await anyio.to_thread.run_sync(forms_registry.register_form, host.unit_of_work(), _to_form(spec))
        )
    except forms_registry.FormExists:
        raise HTTPException(409, f"form {spec.key!r} already exists; PUT to change it") from None


@router.put(
    "/v1/admin/forms/{key}",
    response_model=FormOut,
    tags=["forms"],
    summary="Change a form",
    responses={404: {"description": "No such form"}},
)
async def update(key: str, spec: FormIn, host: Host, request: Request) -> FormOut:
    request.app.state.forms.forget(key)
    if spec.key != key:
        raise HTTPException(
            422, [{"loc": ["body", "key"], "msg": "does not match the URL", "type": "value_error"}]
        )
    try:
        return _out(
            await anyio.to_thread.run_sync(forms_registry.update_form, host.unit_of_work(), _to_form(spec))
        )
    except forms_registry.UnknownForm:
        raise HTTPException(404, f"no form {key!r}") from None


@router.get("/v1/admin/forms", response_model=list[FormOut], tags=["forms"], summary="List forms")
async def list_forms(host: Host) -> list[FormOut]:
    def run() -> list[Form]:
        with host.sessions() as session:
            return forms_registry.list_forms(session)

    return [_out(f) for f in await anyio.to_thread.run_sync(run)]


@router.delete(
    "/v1/admin/forms/{key}",
    response_model=FormOut,
    tags=["forms"],
    summary="Deactivate a form",
    responses={404: {"description": "No such form"}},
)
async def deactivate(key: str, host: Host, request: Request) -> FormOut:
    """Submissions to a deactivated form get 410; its leads stay."""
    request.app.state.forms.forget(key)
    try:
        return _out(
            await anyio.to_thread.run_sync(forms_registry.set_active, host.unit_of_work(), key, False)
        )
    except forms_registry.UnknownForm:
        raise HTTPException(404, f"no form {key!r}") from None


@router.get(
    "/v1/compliance/unique-leads",
    response_model=UniqueLeads,
    tags=["compliance"],
    summary="Exact count of unique leads",
)
async def unique_leads(host: Host) -> UniqueLeads:
    def run() -> int:
        with host.sessions() as session:
            return compliance.unique_lead_count(session)

    return UniqueLeads(unique_leads=await anyio.to_thread.run_sync(run), as_of=datetime.now(UTC).isoformat())


def _filter(
    form: str | None, since: datetime | None, until: datetime | None, tag: str | None
) -> compliance.LeadFilter:
    return compliance.LeadFilter(form_key=form, since=since, until=until, tag=tag)


@router.get(
    "/v1/compliance/leads",
    response_model=LeadPage,
    tags=["compliance"],
    summary="Leads, no duplicate email or phone, newest last",
)
async def leads_page(
    host: Host,
    form: Annotated[str | None, Query(description="first form the lead came through")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tag: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> LeadPage:
    def run() -> tuple[list[dict], str | None]:  # type: ignore[type-arg]
        with host.sessions() as session:
            return compliance.page_of_leads(session, _filter(form, since, until, tag), limit, cursor)

    try:
        rows, next_cursor = await anyio.to_thread.run_sync(run)
    except (ValueError, TypeError):
        raise HTTPException(
            422, [{"loc": ["query", "cursor"], "msg": "not a cursor from this API", "type": "value_error"}]
        ) from None
    return LeadPage(
        leads=[
            LeadOut(
                lead_id=r["id"],
                first_name=r["first_name"],
                last_name=r["last_name"],
                email=r["email"],
                phone=r["phone"],
                postal_code=r["postal_code"],
                interests=r["interests"],
                tags=r["tags"],
                first_form_key=r["first_form_key"],
                created_at=r["created_at"].isoformat(),
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )


@router.get(
    "/v1/compliance/leads.csv",
    tags=["compliance"],
    summary="Every lead as CSV, streamed",
    response_class=StreamingResponse,
)
def leads_csv(
    host: Host,
    form: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tag: str | None = None,
) -> StreamingResponse:
    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(compliance.EXPORT_COLUMNS)
        with host.sessions() as session:
            for row in compliance.export_rows(session, _filter(form, since, until, tag)):
                writer.writerow(row)
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(), media_type="text/csv", headers={"Content-Disposition": "attachment; filename=leads.csv"}
    )
