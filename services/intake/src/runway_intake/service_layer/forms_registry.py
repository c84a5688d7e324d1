"""Registering, changing and retiring forms (the admin API's use cases)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_eventbus.unit_of_work import UnitOfWork
from runway_intake.adapters.tables import forms
from runway_intake.domain.forms import Form

_SETTINGS = [
    f.name for f in dataclasses.fields(Form) if f.name not in {"key", "name", "owner", "secret", "active"}
]


class FormExists(LookupError):
    pass


class UnknownForm(LookupError):
    pass


def _to_form(row: Any) -> Form:
    s = row["settings"]
    return Form(
        key=row["key"],
        name=row["name"],
        owner=row["owner"],
        secret=row["secret"],
        active=row["active"],
        mapping=dict(s["mapping"]),
        value_maps={k: dict(v) for k, v in s.get("value_maps", {}).items()},
        default_tags=tuple(s.get("default_tags", [])),
        default_source=s.get("default_source"),
        default_refcode=s.get("default_refcode"),
        consent_wording=s.get("consent_wording"),
        allowed_origins=tuple(s.get("allowed_origins", [])),
        auth=s.get("auth", "none"),
        thank_you_url=s.get("thank_you_url"),
        honeypot_field=s.get("honeypot_field", "website"),
    )


def _settings(form: Form) -> dict[str, Any]:
    raw = {name: getattr(form, name) for name in _SETTINGS}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in raw.items()}


def load_form(session: Session, key: str) -> Form | None:
    row = session.execute(sa.select(forms).where(forms.c.key == key)).mappings().first()
    return _to_form(row) if row else None


def list_forms(session: Session) -> list[Form]:
    return [_to_form(r) for r in session.execute(sa.select(forms).order_by(forms.c.key)).mappings()]


def register_form(uow: UnitOfWork, form: Form) -> Form:
    with uow:
        if load_form(uow.session, form.key):
            raise FormExists(form.key)
        now = datetime.now(UTC)
        uow.session.execute(
            forms.insert().values(
                key=form.key,
                name=form.name,
                owner=form.owner,
                settings=_settings(form),
                secret=form.secret,
                active=True,
                created_at=now,
                updated_at=now,
            )
        )
        uow.commit()
    return dataclasses.replace(form, active=True)


def update_form(uow: UnitOfWork, form: Form) -> Form:
    with uow:
        if not load_form(uow.session, form.key):
            raise UnknownForm(form.key)
        uow.session.execute(
            forms.update()
            .where(forms.c.key == form.key)
            .values(
                name=form.name,
                owner=form.owner,
                settings=_settings(form),
                secret=form.secret,
                active=form.active,
                updated_at=datetime.now(UTC),
            )
        )
        uow.commit()
    return form


def set_active(uow: UnitOfWork, key: str, active: bool) -> Form:
    with uow:
        form = load_form(uow.session, key)
        if not form:
            raise UnknownForm(key)
        uow.session.execute(
            forms.update().where(forms.c.key == key).values(active=active, updated_at=datetime.now(UTC))
        )
        uow.commit()
    return dataclasses.replace(form, active=active)
