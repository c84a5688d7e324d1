"""Events published by notify (stream NOTIFY, subjects `notify.>`)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from runway_contracts.cloudevent import Event

NOTIFICATION_SENT = "notify.notification.sent.v1"
NOTIFICATION_FAILED = "notify.notification.failed.v1"
CONTACT_OPTED_OUT = "notify.contact.opted_out.v1"

Channel = Literal["email", "sms"]


class NotificationSent(Event):
    """A message was accepted by the channel's provider (SMTP server, SMS API)."""

    TYPE: ClassVar[str] = NOTIFICATION_SENT

    notification_id: str
    notification_key: str = Field(description="Deterministic key: never sent twice.")
    message_type: str = Field(description="e.g. races_near_you, donation_receipt.")
    channel: Channel
    recipient: str
    lead_id: str | None = None
    sent_at: datetime


class NotificationFailed(Event):
    """A message could not be delivered."""

    TYPE: ClassVar[str] = NOTIFICATION_FAILED

    notification_id: str
    notification_key: str
    message_type: str
    channel: Channel
    recipient: str
    lead_id: str | None = None
    permanent: bool = Field(description="True when retrying cannot help (bad address, bounce).")
    reason: str
    failed_at: datetime


class ContactOptedOut(Event):
    """A person opted out of a channel (or of one message type on it)."""

    TYPE: ClassVar[str] = CONTACT_OPTED_OUT

    channel: Channel
    address: str
    lead_id: str | None = None
    message_type: str | None = Field(default=None, description="None means every marketing type.")
    source: str = Field(description="one_click, unsubscribe_page, sms_keyword, preference_page.")
    opted_out_at: datetime
