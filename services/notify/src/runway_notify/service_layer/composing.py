"""Turning a queued delivery into the email or text that goes out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

from runway_notify.adapters.mime import OutgoingEmail, build
from runway_notify.adapters.templates import Templates
from runway_notify.domain.unsubscribe_tokens import make_token


@dataclass(frozen=True)
class Claimed:
    """A delivery a dispatcher holds for one attempt."""

    id: str
    claim_token: str
    notification_key: str
    message_type: str
    channel: str
    lead_id: str | None
    recipient: str
    transactional: bool
    context: dict[str, Any]
    message_id: str | None
    attempts: int
    created_at: datetime
    due_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], context: dict[str, Any] | None = None) -> Claimed:
        created, due = _utc(row["created_at"]), row.get("due_at")
        return cls(
            id=row["id"],
            claim_token=row["claim_token"] or "",
            notification_key=row["notification_key"],
            message_type=row["message_type"],
            channel=row["channel"],
            lead_id=row["lead_id"],
            recipient=row["recipient"],
            transactional=row["transactional"],
            context=context if context is not None else dict(row["context"]),
            message_id=row["message_id"],
            attempts=row["attempts"],
            created_at=created,
            due_at=_utc(due) if due else None,
        )


def _utc(moment: datetime) -> datetime:
    # SQLite hands datetimes back without their zone; every one Runway stores is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Composer:
    def __init__(self, templates: Templates, sender: str, signing_key: str, public_url: str) -> None:
        self._templates = templates
        self._sender = sender
        self._signing_key = signing_key
        self._base = public_url.rstrip("/")

    def links(self, channel: str, address: str) -> dict[str, str]:
        token = make_token(self._signing_key, channel, address)
        return {
            "unsubscribe_url": f"{self._base}/v1/unsubscribe/{token}",
            "preferences_url": f"{self._base}/v1/preferences/{token}",
        }

    def email(self, delivery: Claimed) -> OutgoingEmail:
        links = self.links("email", delivery.recipient)
        context = {**delivery.context, **links, "transactional": delivery.transactional}
        subject, text, html = self._templates.render(delivery.message_type, context)
        headers = [
            ("Subject", subject),
            ("Date", formatdate(localtime=False)),
            ("Message-ID", delivery.message_id or ""),
            ("X-Runway-Message-Type", delivery.message_type),
        ]
        if not delivery.transactional:  # RFC 8058 one-click unsubscribe on every marketing message
            headers += [
                ("List-Unsubscribe", f"<{links['unsubscribe_url']}>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ]
        return build(self._sender, delivery.recipient, headers, text, html)

    def sms(self, delivery: Claimed) -> str:
        return self._templates.render_sms(delivery.message_type, delivery.context)
