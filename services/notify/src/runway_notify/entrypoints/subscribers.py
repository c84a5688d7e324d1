"""Notify's event subscribers: translate the contract, queue messages in one transaction with the inbox.

Sending happens in the dispatcher, woken as soon as a handler queued something.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio
from sqlalchemy.orm import Session

from runway_contracts import CloudEvent, Event, donations, intake, matching, streams
from runway_eventbus.consumer import Subscription
from runway_eventbus.inbox import Inbox
from runway_notify.adapters import tables
from runway_notify.service_layer import contacts, messages
from runway_runtime.host import ServiceHost

LEAD_RECEIVED = "notify-lead-received-v1"
LEAD_MERGED = "notify-lead-merged-v1"
LEAD_MATCHED = "notify-lead-matched-v1"
RACE_NEARBY = "notify-race-nearby-v1"
DEADLINE_APPROACHING = "notify-deadline-approaching-v1"
CONTRIBUTION_SUCCEEDED = "notify-contrib-succeeded-v1"
CONTRIBUTION_FAILED = "notify-contrib-failed-v1"
RECURRING_CANCELED = "notify-recurring-canceled-v1"

Queue = Callable[[Session, Any, datetime], int]


def subscriptions(
    host: ServiceHost, org: dict[str, str], digest_hour: int, wake_dispatcher: Callable[[], None]
) -> list[Subscription]:
    def handled_once(durable: str, queue: Queue) -> Callable[[CloudEvent, Event], Any]:
        inbox = Inbox(tables.inbox, durable)

        def apply(event_id: str, event: Event) -> int:
            with host.unit_of_work() as uow:
                if not inbox.first_delivery(uow.session, event_id):
                    return 0
                queued = queue(uow.session, event, datetime.now(UTC))
                uow.commit()
                return queued

        async def handle(envelope: CloudEvent, event: Event) -> None:
            if await anyio.to_thread.run_sync(apply, envelope.id, event):
                wake_dispatcher()

        return handle

    def merged(session: Session, event: Any, now: datetime) -> int:
        contacts.merge(session, event, now)
        return 0

    def with_org(plan: Callable[..., int]) -> Queue:
        return lambda session, event, now: plan(session, event, now, org)

    routes: list[tuple[str, str, str, Queue]] = [
        (streams.INTAKE, LEAD_RECEIVED, intake.LEAD_RECEIVED, with_org(messages.lead_received)),
        (streams.INTAKE, LEAD_MERGED, intake.LEAD_MERGED, merged),
        (streams.MATCHING, LEAD_MATCHED, matching.LEAD_MATCHED, with_org(messages.races_near_you)),
        (
            streams.MATCHING,
            RACE_NEARBY,
            matching.LEAD_RACE_NEARBY,
            lambda session, event, now: messages.race_nearby(session, event, now, org, digest_hour),
        ),
        (
            streams.MATCHING,
            DEADLINE_APPROACHING,
            matching.DEADLINE_APPROACHING,
            with_org(messages.deadline_approaching),
        ),
        (
            streams.DONATIONS,
            CONTRIBUTION_SUCCEEDED,
            donations.CONTRIBUTION_SUCCEEDED,
            with_org(messages.donation_receipt),
        ),
        (
            streams.DONATIONS,
            CONTRIBUTION_FAILED,
            donations.CONTRIBUTION_FAILED,
            with_org(messages.payment_failed),
        ),
        (
            streams.DONATIONS,
            RECURRING_CANCELED,
            donations.RECURRING_CANCELED,
            with_org(messages.plan_canceled),
        ),
    ]
    return [
        Subscription(stream, durable, subject, handled_once(durable, queue))
        for stream, durable, subject, queue in routes
    ]
