"""A sign-up after validation, and how it updates a lead."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Consent:
    granted: bool
    recorded_at: datetime
    wording: str
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class Signup:
    form_key: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    postal_code: str | None
    birth_date: date | None
    interests: tuple[str, ...]
    email_consent: Consent | None
    sms_consent: Consent | None
    received_at: datetime
    ip: str | None = None
    user_agent: str | None = None
    tags: tuple[str, ...] = ()
    street: str | None = None
    city: str | None = None
    state: str | None = None
    age: int | None = None
    source: str | None = None
    refcode: str | None = None
    utm: dict[str, str] = field(default_factory=dict)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (self.email or self.phone):
            raise ValueError("a sign-up needs an email or a phone")


FILLABLE = (
    "first_name",
    "last_name",
    "postal_code",
    "birth_date",
    "street",
    "city",
    "state",
    "age",
    "refcode",
    "source",
)


def merged_values(existing: dict[str, Any], signup: Signup) -> dict[str, Any]:
    """Newer non-empty values fill in; empty ones never erase what we know."""
    updates: dict[str, Any] = {}
    for name in FILLABLE:
        value = getattr(signup, name)
        if value not in (None, "") and existing.get(name) != value:
            updates[name] = value
    for name in ("interests", "tags"):
        known = sorted(existing.get(name) or [])
        union = sorted(set(known) | set(getattr(signup, name)))
        if union != known:
            updates[name] = union
    custom = {**(existing.get("custom_fields") or {}), **signup.custom_fields}
    if custom != (existing.get("custom_fields") or {}):
        updates["custom_fields"] = custom
    utm = {**(existing.get("utm") or {}), **signup.utm}
    if utm != (existing.get("utm") or {}):
        updates["utm"] = utm
    return updates


def combine_leads(survivor: dict[str, Any], absorbed: dict[str, Any]) -> dict[str, Any]:
    """What the survivor of a merge keeps: its own values, the absorbed lead's where it had none."""
    updates: dict[str, Any] = {}
    for name in (*FILLABLE, "email", "email_key", "phone"):
        if survivor.get(name) in (None, "") and absorbed.get(name) not in (None, ""):
            updates[name] = absorbed[name]
    for name in ("email_consent", "sms_consent"):  # the person's most recent decision stands
        theirs = absorbed.get(name)
        ours = survivor.get(name)
        if theirs and (not ours or theirs["recorded_at"] > ours["recorded_at"]):
            updates[name] = theirs
    for name in ("interests", "tags"):
        union = sorted(set(survivor.get(name) or []) | set(absorbed.get(name) or []))
        if union != sorted(survivor.get(name) or []):
            updates[name] = union
    for name in ("custom_fields", "utm"):
        combined = {**(absorbed.get(name) or {}), **(survivor.get(name) or {})}
        if combined != (survivor.get(name) or {}):
            updates[name] = combined
    return updates
