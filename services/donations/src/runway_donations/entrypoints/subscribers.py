"""Donations' subscribers: its own stored webhooks, and intake's leads (to link donors to them).

Both are pulled in batches and written by group-commit writers, many events to a
transaction (decision 0013).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from runway_contracts import CloudEvent, Event
from runway_contracts.donations import WEBHOOK_RECEIVED, WebhookReceived
from runway_contracts.intake import LEAD_MERGED, LEAD_RECEIVED, LeadMerged, LeadReceived, LeadView
from runway_contracts.streams import DONATIONS, INTAKE
from runway_donations.adapters import tables
from runway_donations.service_layer.leads import link_lead, link_leads
from runway_donations.service_layer.webhooks import ToApply
from runway_eventbus.consumer import Subscription
from runway_eventbus.group_commit import GroupCommit
from runway_eventbus.inbox import handle_each_once
from runway_eventbus.unit_of_work import UnitOfWork

WEBHOOK_RECEIVED_DURABLE = "donations-webhook-received-v1"
LEAD_RECEIVED_DURABLE = "donations-lead-received-v1"
LEAD_MERGED_DURABLE = "donations-lead-merged-v1"


@dataclass(frozen=True)
class LeadFact:
    """A lead event for the lead writer, under its consumer's inbox."""

    consumer: str
    event_id: str
    lead: LeadView
    merged_lead_ids: list[str]


def write_leads(uow: UnitOfWork, batch: list[LeadFact]) -> list[bool]:
    """Each lead event not handled before, in the caller's transaction (True), or a
    redelivery (False). A failure fails the batch; the writer then writes each event alone."""
    now = datetime.now(UTC)
    first_time: list[LeadFact] = []

    def collect(item: LeadFact) -> bool:
        first_time.append(item)
        return True

    answers = handle_each_once(
        uow.session, tables.inbox, batch, lambda item: (item.consumer, item.event_id), collect, already=False
    )
    if any(item.merged_lead_ids for item in first_time):  # rare: each in turn, merges included
        for item in first_time:
            link_lead(uow.session, item.lead, item.merged_lead_ids, now)
    else:
        link_leads(uow.session, [item.lead for item in first_time], now)
    return answers


def subscriptions(
    applier: GroupCommit[ToApply, str], leads: GroupCommit[LeadFact, bool]
) -> list[Subscription]:
    async def on_webhook_received(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, WebhookReceived)
        # Handled many at a time, applied in groups: one transaction for all waiting.
        await applier.write(ToApply(event.webhook_event_id, envelope.id))

    async def on_lead_received(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, LeadReceived)
        await leads.write(LeadFact(LEAD_RECEIVED_DURABLE, envelope.id, event.lead, []))

    async def on_lead_merged(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, LeadMerged)
        await leads.write(LeadFact(LEAD_MERGED_DURABLE, envelope.id, event.lead, event.merged_lead_ids))

    return [
        # Whatever is waiting, up to a batch, handled side by side and written together
        # (decision 0013).
        Subscription(
            DONATIONS,
            WEBHOOK_RECEIVED_DURABLE,
            WEBHOOK_RECEIVED,
            on_webhook_received,
            batch_size=64,
            batched=True,
        ),
        Subscription(
            INTAKE, LEAD_RECEIVED_DURABLE, LEAD_RECEIVED, on_lead_received, batch_size=64, batched=True
        ),
        Subscription(INTAKE, LEAD_MERGED_DURABLE, LEAD_MERGED, on_lead_merged, batch_size=64, batched=True),
    ]
