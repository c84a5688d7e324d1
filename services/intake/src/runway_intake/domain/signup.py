"""A sign-up after validation, and how it updates a lead."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


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
    raw: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (self.email or self.phone):
            raise ValueError("a sign-up needs an email or a phone")


def merged_values(existing: dict[str, object], signup: Signup) -> dict[str, object]:
    """Newer non-empty values fill in; empty ones never erase what we know."""
    updates: dict[str, object] = {}
    for name in ("first_name", "last_name", "postal_code", "birth_date"):
        value = getattr(signup, name)
        if value not in (None, "") and existing.get(name) != value:
            updates[name] = value
    interests = sorted(set(existing.get("interests") or []) | set(signup.interests))  # type: ignore[call-overload]
    if interests != sorted(existing.get("interests") or []):  # type: ignore[call-overload]
        updates["interests"] = interests
    tags = sorted(set(existing.get("tags") or []) | set(signup.tags))  # type: ignore[call-overload]
    if tags != sorted(existing.get("tags") or []):  # type: ignore[call-overload]
        updates["tags"] = tags
    return updates
