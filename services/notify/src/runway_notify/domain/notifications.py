"""A notification to send, and the key that keeps it from being sent twice."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class EmailNotification:
    key: str
    message_type: str
    lead_id: str | None
    recipient: str
    template: str
    context: dict[str, object]
    transactional: bool

    @property
    def message_id(self) -> str:
        """Stable across retries, so a resend after a crash is recognisably the same message."""
        return f"<{hashlib.sha256(self.key.encode()).hexdigest()[:32]}@runway.notify>"


def notification_key(message_type: str, recipient_ref: str, subject: str) -> str:
    """Deterministic: the same (person, message type, subject) always gives the same key."""
    return f"{message_type}:{recipient_ref}:{subject}"


def races_subject(race_ids: list[str]) -> str:
    """One "races near you" email per distinct list of races: a new list is news, a repeat is not."""
    return hashlib.sha256("|".join(sorted(race_ids)).encode()).hexdigest()[:16]


def may_email(consent: dict[str, object] | None, transactional: bool) -> bool:
    """Receipts always go out; marketing mail needs recorded email consent."""
    return transactional or bool(consent and consent.get("granted"))
