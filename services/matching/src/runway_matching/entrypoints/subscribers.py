"""Matching's event subscribers: translate the contract, delegate to the service layer."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio

from runway_contracts import CloudEvent, Event
from runway_contracts.intake import LEAD_MERGED, LEAD_RECEIVED, LeadMerged, LeadReceived
from runway_contracts.matching import RACE_PUBLISHED, RacePublished
from runway_contracts.streams import INTAKE, MATCHING
from runway_eventbus.consumer import Subscription
from runway_eventbus.inbox import Inbox
from runway_matching.adapters import tables
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.service_layer.match_lead import match_lead
from runway_matching.service_layer.merge_leads import merge_leads
from runway_matching.service_layer.reverse_matching import announce_race
from runway_runtime.host import ServiceHost

LEAD_RECEIVED_DURABLE = "matching-lead-received-v1"
LEAD_MERGED_DURABLE = "matching-lead-merged-v1"
RACE_PUBLISHED_DURABLE = "matching-race-published-v1"


def subscriptions(
    host: ServiceHost, geography: GeographyIndex, reminder_offsets: tuple[int, ...]
) -> list[Subscription]:
    inbox = Inbox(tables.inbox, LEAD_RECEIVED_DURABLE)
    merged_inbox = Inbox(tables.inbox, LEAD_MERGED_DURABLE)

    async def on_lead_received(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, LeadReceived)
        await anyio.to_thread.run_sync(
            match_lead, envelope.id, event, host.unit_of_work(), inbox, geography, reminder_offsets
        )

    async def on_lead_merged(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, LeadMerged)
        await anyio.to_thread.run_sync(
            merge_leads, envelope.id, event, host.unit_of_work(), merged_inbox, geography
        )

    async def on_race_published(envelope: CloudEvent, event: Event) -> None:
        # No inbox row needed: lead_matches' key makes announcing the same race again a no-op.
        assert isinstance(event, RacePublished)
        await anyio.to_thread.run_sync(
            announce_race,
            host.unit_of_work(),
            event.race.race_id,
            geography,
            datetime.now(UTC),
            reminder_offsets,
        )

    return [
        Subscription(INTAKE, LEAD_RECEIVED_DURABLE, LEAD_RECEIVED, on_lead_received),
        Subscription(INTAKE, LEAD_MERGED_DURABLE, LEAD_MERGED, on_lead_merged),
        Subscription(MATCHING, RACE_PUBLISHED_DURABLE, RACE_PUBLISHED, on_race_published),
    ]
