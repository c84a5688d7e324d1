"""Donations' subscribers: its own stored webhooks, and intake's leads (to link donors to them)."""

from __future__ import annotations

import anyio

from runway_contracts import CloudEvent, Event
from runway_contracts.donations import WEBHOOK_RECEIVED, WebhookReceived
from runway_contracts.intake import LEAD_MERGED, LEAD_RECEIVED, LeadMerged, LeadReceived
from runway_contracts.streams import DONATIONS, INTAKE
from runway_donations.adapters import tables
from runway_donations.service_layer.leads import record_lead
from runway_donations.service_layer.webhooks import ToApply
from runway_eventbus.consumer import Subscription
from runway_eventbus.group_commit import GroupCommit
from runway_eventbus.inbox import Inbox
from runway_runtime.host import ServiceHost

WEBHOOK_RECEIVED_DURABLE = "donations-webhook-received-v1"
LEAD_RECEIVED_DURABLE = "donations-lead-received-v1"
LEAD_MERGED_DURABLE = "donations-lead-merged-v1"


def subscriptions(host: ServiceHost, applier: GroupCommit[ToApply, str]) -> list[Subscription]:
    async def on_webhook_received(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, WebhookReceived)
        # Handled many at a time, applied in groups: one transaction for all waiting.
        await applier.write(ToApply(event.webhook_event_id, envelope.id))

    leads_inbox = Inbox(tables.inbox, LEAD_RECEIVED_DURABLE)
    merges_inbox = Inbox(tables.inbox, LEAD_MERGED_DURABLE)

    async def on_lead_received(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, LeadReceived)
        await anyio.to_thread.run_sync(record_lead, host.unit_of_work(), leads_inbox, envelope.id, event.lead)

    async def on_lead_merged(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, LeadMerged)
        await anyio.to_thread.run_sync(
            record_lead, host.unit_of_work(), merges_inbox, envelope.id, event.lead, event.merged_lead_ids
        )

    return [
        # Whatever is waiting, up to a batch, handled side by side and applied together
        # (decision 0013).
        Subscription(
            DONATIONS,
            WEBHOOK_RECEIVED_DURABLE,
            WEBHOOK_RECEIVED,
            on_webhook_received,
            batch_size=64,
            batched=True,
        ),
        Subscription(INTAKE, LEAD_RECEIVED_DURABLE, LEAD_RECEIVED, on_lead_received),
        Subscription(INTAKE, LEAD_MERGED_DURABLE, LEAD_MERGED, on_lead_merged),
    ]
