"""Notify's event subscribers: translate the contract, hand the event to the event writer.

The writer queues each event's messages in one transaction with its inbox row,
grouping many events into one commit (group commit); the dispatcher, woken as
soon as something was queued, sends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
from runway_notify.service_layer import awaiting, contacts, messages
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


def write_events(uow: UnitOfWork, batch: list[Received], plan_of: Mapping[str, Plan]) -> list[int]:
    """Each event's messages and inbox row, in the caller's transaction; how many were queued
    each (0 for a redelivery, or for an event that now waits for its lead's contact).

    An event that gives a lead its contact also handles, here, the events that waited for
    it; what they queued is counted in its answer. `plan_of`: each consumer's plan.
    """
    session = uow.session
    now = datetime.now(UTC)

    def queue(item: Received) -> int | contacts.Later:
        try:
            return _handle(session, item, now)
        except messages.ContactNotYetKnown as missing:
            waiting = awaiting.Waiting(item.consumer, item.event_id, missing.lead_id, item.event, item.trace)
            awaiting.wait_for_contact(session, waiting, now)
            return 0

    looked_up = (getattr(item.event, "lead_id", None) for item in batch)
    with (
        contacts.contacts_read_ahead(session, [lead_id for lead_id in looked_up if lead_id]),
        deliveries_together(session),
        # Inside the messages' context: a welcome is queued once its contact is written.
        contacts.contacts_written_together(session),
    ):
        answers = handle_each_once(
            session, tables.inbox, batch, lambda item: (item.consumer, item.event_id), queue, already=0
        )
    counts = [answer.value if isinstance(answer, contacts.Later) else answer for answer in answers]
    given: dict[str, int] = {}  # lead id -> the first event in the batch that wrote its contact
    for i, item in enumerate(batch):
        for lead_id in contacts.leads_given_contacts(item.event):
            given.setdefault(lead_id, i)
    for lead_id, queued in resume(session, awaiting.waiting_for(session, given), plan_of, now).items():
        counts[given[lead_id]] += queued
    return counts


def resume(
    session: Session, waiting: list[awaiting.Waiting], plan_of: Mapping[str, Plan], now: datetime
) -> dict[str, int]:
    """Handle events that waited for their lead's contact; messages queued per lead."""
    queued: dict[str, int] = {}
    done = []
    for w in waiting:
        item = Received(w.consumer, w.event_id, w.event, plan_of[w.consumer], w.trace)
        try:
            answer = _handle(session, item, now)
        except messages.ContactNotYetKnown:
            continue  # merged into a lead whose contact is not here either: waits on
        # Only plans that look a contact up wait, never `lead.received`'s: a count, not a Later.
        assert isinstance(answer, int)
        queued[w.lead_id] = queued.get(w.lead_id, 0) + answer
        done.append(w)
    awaiting.handled(session, done)
    return queued


def _handle(session: Session, item: Received, now: datetime) -> int | contacts.Later:
    token = context.attach(propagate.extract(item.trace))
    try:
        return item.plan(session, item.event, now)
    finally:
        context.detach(token)


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
    notify_plans: list[tuple[str, str, str, Plan]],
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
        for stream, durable, subject, plan in notify_plans
    ]
