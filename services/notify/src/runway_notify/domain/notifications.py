"""A notification to send, and the key that keeps it from being sent twice."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Notification:
    """One message for one person on one channel, before it is queued."""

    key: str
    message_type: str
    channel: str
    lead_id: str | None
    recipient: str
    context: dict[str, Any]
    transactional: bool


def message_id(key: str) -> str:
    """Stable across retries, so a resend after a crash is recognisably the same message."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@runway.notify>"


def notification_key(message_type: str, recipient_ref: str, subject: str, channel: str = "email") -> str:
    """Deterministic: the same (person, message type, subject, channel) always gives the same key."""
    prefix = message_type if channel == "email" else f"{message_type}/{channel}"
    return f"{prefix}:{recipient_ref}:{subject}"


def races_subject(race_ids: list[str]) -> str:
    """One "races near you" email per distinct list of races: a new list is news, a repeat is not."""
    return hashlib.sha256("|".join(sorted(race_ids)).encode()).hexdigest()[:16]
