"""Notify's event subscribers: translate the contract, hand the event to the event writer.

The writer queues each event's messages in one transaction with its inbox row,
grouping many events into one commit (group commit); the dispatcher, woken as
soon as something was queued, sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context, propagate
from sqlalchemy.orm import Session

from runway_contracts import CloudEvent, Event, donations, intake, matching, streams
from runway_eventbus.consumer import Subscription
from runway_eventbus.group_commit import GroupCommit
from runway_eventbus.inbox import handle_each_once
from runway_eventbus.unit_of_work import UnitOfWork
from runway_notify.adapters import tables
from runway_notify.service_layer import contacts, messages
from runway_notify.service_layer.queue import deliveries_together

LEAD_RECEIVED = "notify-lead-received-v1"
LEAD_MERGED = "notify-lead-merged-v1"
LEAD_MATCHED = "notify-lead-matched-v1"
RACE_NEARBY = "notify-race-nearby-v1"
DEADLINE_APPROACHING = "notify-deadline-approaching-v1"
CONTRIBUTION_SUCCEEDED = "notify-contrib-succeeded-v1"
CONTRIBUTION_FAILED = "notify-contrib-failed-v1"
RECURRING_CANCELED = "notify-recurring-canceled-v1"

Plan = Callable[[Session, Any, datetime], int | contacts.Later]


@dataclass(frozen=True)
class Received:
    """One event for the writer: what to do with it and under which consumer's inbox."""

    consumer: str
    event_id: str
    event: Event
    plan: Plan
    trace: dict[str, str]  # the consumer span's context: queued messages continue its trace


def write_events(uow: UnitOfWork, batch: list[Received]) -> list[int | Exception]:
    """Each event's messages and inbox row, in the caller's transaction; how many were queued
    each (0 for a redelivery), or what one failed with (its contact not known yet, say: that
    event alone is retried)."""
    now = datetime.now(UTC)

    def queue(item: Received) -> int:
        token = context.attach(propagate.extract(item.trace))
        try:
            return item.plan(uow.session, item.event, now)
        finally:
            context.detach(token)

    looked_up = (getattr(item.event, "lead_id", None) for item in batch)
    with (
        contacts.contacts_read_ahead(uow.session, [lead_id for lead_id in looked_up if lead_id]),
        deliveries_together(uow.session),
        # Inside the messages' context: a welcome is queued once its contact is written.
        contacts.contacts_written_together(uow.session),
    ):
        answers = handle_each_once(
            uow.session, tables.inbox, batch, lambda item: (item.consumer, item.event_id), queue, already=0
        )
    return [answer.value if isinstance(answer, contacts.Later) else answer for answer in answers]


def plans(org: dict[str, str], digest_hour: int) -> list[tuple[str, str, str, Plan]]:
    def merged(session: Session, event: Any, now: datetime) -> int:
        contacts.merge(session, event, now)
        return 0

    def with_org(plan: Callable[..., int]) -> Plan:
        return lambda session, event, now: plan(session, event, now, org)

    def digest(session: Session, event: Any, now: datetime) -> int:
        return messages.race_nearby(session, event, now, org, digest_hour)

    return [
        (streams.INTAKE, LEAD_RECEIVED, intake.LEAD_RECEIVED, with_org(messages.lead_received)),
        (streams.INTAKE, LEAD_MERGED, intake.LEAD_MERGED, merged),
        (streams.MATCHING, LEAD_MATCHED, matching.LEAD_MATCHED, with_org(messages.races_near_you)),
        (streams.MATCHING, RACE_NEARBY, matching.LEAD_RACE_NEARBY, digest),
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


def subscriptions(
    writer: GroupCommit[Received, int],
    org: dict[str, str],
    digest_hour: int,
    wake_dispatcher: Callable[[], None],
) -> list[Subscription]:
    def handler(durable: str, plan: Plan) -> Callable[[CloudEvent, Event], Any]:
        async def handle(envelope: CloudEvent, event: Event) -> None:
            trace: dict[str, str] = {}
            propagate.inject(trace)
            if await writer.write(Received(durable, envelope.id, event, plan, trace)):
                wake_dispatcher()

        return handle

    return [
        # Whatever is waiting, up to a batch, handled side by side, so the writer commits the
        # events together (decision 0013).
        Subscription(stream, durable, subject, handler(durable, plan), batch_size=64, batched=True)
        for stream, durable, subject, plan in plans(org, digest_hour)
    ]
