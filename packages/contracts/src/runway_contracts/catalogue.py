"""The event catalogue: every published type, and which stream holds it."""

from __future__ import annotations

from runway_contracts import donations, intake, matching, notify, streams
from runway_contracts.cloudevent import Event

EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        intake.LeadReceived,
        intake.LeadMerged,
        matching.LeadMatched,
        matching.RacePublished,
        matching.LeadRaceNearby,
        matching.DeadlineApproaching,
        notify.NotificationSent,
        notify.NotificationFailed,
        notify.ContactOptedOut,
        donations.ContributionSucceeded,
        donations.ContributionFailed,
        donations.ContributionRefunded,
        donations.RecurringStarted,
        donations.RecurringCanceled,
        donations.WebhookReceived,
    )
}

STREAM_OF_PREFIX = {
    "intake": streams.INTAKE,
    "matching": streams.MATCHING,
    "notify": streams.NOTIFY,
    "donations": streams.DONATIONS,
}


class UnknownEventType(LookupError):
    """Raised for a CloudEvent `type` that is not in the catalogue."""


def event_class_for(event_type: str) -> type[Event]:
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def stream_for(event_type: str) -> str:
    """The stream that stores `event_type` (one stream per owning service)."""
    return STREAM_OF_PREFIX[event_type.split(".", 1)[0]]
