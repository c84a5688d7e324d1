"""The messages notify sends: which channels each may use and whether it is transactional.

Transactional messages are about money a person gave (receipts, failed
payments, a cancelled plan): they go out after a marketing opt-out. Everything
else is marketing and needs consent on the channel and no opt-out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageType:
    name: str
    title: str  # as the preference page shows it
    channels: tuple[str, ...]
    transactional: bool = False


WELCOME = MessageType("welcome", "Welcome message", ("email", "sms"))
RACES_NEAR_YOU = MessageType("races_near_you", "Races near you", ("email",))
NEW_RACE_DIGEST = MessageType("new_race_digest", "New races near you (daily digest)", ("email", "sms"))
DEADLINE_REMINDER = MessageType("deadline_reminder", "Filing-deadline reminders", ("email", "sms"))
DONATION_RECEIPT = MessageType("donation_receipt", "Donation receipts", ("email",), transactional=True)
PAYMENT_FAILED = MessageType("payment_failed", "Failed-payment notices", ("email",), transactional=True)
PLAN_CANCELED = MessageType("plan_canceled", "Recurring plan cancelled", ("email",), transactional=True)

ALL = {
    t.name: t
    for t in (
        WELCOME,
        RACES_NEAR_YOU,
        NEW_RACE_DIGEST,
        DEADLINE_REMINDER,
        DONATION_RECEIPT,
        PAYMENT_FAILED,
        PLAN_CANCELED,
    )
}
MARKETING = [t for t in ALL.values() if not t.transactional]
EVERY_MARKETING_TYPE = "*"  # an opt-out row meaning "no marketing at all on this channel"
