"""Whether a message may go to an address on a channel, and if not, why."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from runway_notify.domain.message_types import EVERY_MARKETING_TYPE, MessageType

NO_ADDRESS = "no_address"
NO_CONSENT = "no_consent"
SUPPRESSED = "suppressed"
OPTED_OUT = "opted_out"


def consent_granted(consent: dict[str, Any] | None) -> bool:
    return bool(consent and consent.get("granted"))


def reason_not_to_queue(
    message_type: MessageType, address: str | None, consent: dict[str, Any] | None
) -> str | None:
    """None when the message may be queued; otherwise the reason it must not.

    Decided from what the event brings: an address, and for marketing the
    person's consent (receipts need none). Suppressions and opt-outs change
    while a message waits, so they are checked when it is taken for sending
    (`reason_blocked`), not here.
    """
    if not address:
        return NO_ADDRESS
    if not message_type.transactional and not consent_granted(consent):
        return NO_CONSENT
    return None


def reason_blocked(message_type: MessageType, suppressed: bool, opted_out_of: Collection[str]) -> str | None:
    """What may have changed since a message was queued: a suppression or an opt-out.

    Checked just before sending, so a STOP or an unsubscribe that arrives while
    a message waits wins. A suppressed address (hard bounce, invalid number,
    SMS STOP) gets nothing, receipts included: the provider would reject it and
    it counts against us. Receipts survive a marketing opt-out.
    """
    if suppressed:
        return SUPPRESSED
    if message_type.transactional:
        return None
    if EVERY_MARKETING_TYPE in opted_out_of or message_type.name in opted_out_of:
        return OPTED_OUT
    return None
