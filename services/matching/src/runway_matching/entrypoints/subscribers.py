"""Matching's event subscribers: translate the contract, delegate to the service layer.

New leads, the bulk of the traffic, are pulled in batches and matched by a group-commit
writer: whatever arrived together is matched in one transaction with its inbox rows, one
commit for all (as notify does; decision 0013).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
from opentelemetry import propagate

from runway_contracts import CloudEvent, Event
from runway_contracts.intake import LEAD_MERGED, LEAD_RECEIVED, LeadMerged, LeadReceived
from runway_contracts.matching import RACE_PUBLISHED, RacePublished
from runway_contracts.streams import INTAKE, MATCHING
from runway_eventbus.consumer import Subscription
from runway_eventbus.group_commit import GroupCommit
from runway_eventbus.inbox import Inbox, handle_each_once
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters import tables
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.service_layer.match_lead import RaceFinder, record_matches
from runway_matching.service_layer.merge_leads import merge_leads
from runway_matching.service_layer.reverse_matching import announce_race

LEAD_RECEIVED_DURABLE = "matching-lead-received-v1"
LEAD_MERGED_DURABLE = "matching-lead-merged-v1"
RACE_PUBLISHED_DURABLE = "matching-race-published-v1"


@dataclass(frozen=True)
class NewLead:
    event_id: str
    event: LeadReceived
    trace: dict[str, str]  # the consumer span's context: the matched event continues its trace


def lead_matcher(
    geography: GeographyIndex, reminder_offsets: tuple[int, ...], find_races: RaceFinder
) -> Callable[[UnitOfWork, list[NewLead]], list[bool]]:
    def match_batch(uow: UnitOfWork, batch: list[NewLead]) -> list[bool]:
        """Match the leads not handled before, together, in the caller's transaction: True for
        those matched, False for redeliveries. If matching fails, the whole batch does (the
        writer then retries each lead alone)."""
        new: list[NewLead] = []

        def take(item: NewLead) -> bool:
            new.append(item)
            return True

        answers = handle_each_once(
            uow.session,
            tables.inbox,
            batch,
            lambda item: (LEAD_RECEIVED_DURABLE, item.event_id),
            take,
            already=False,
        )
        leads = [(item.event, propagate.extract(item.trace)) for item in new]
        record_matches(uow, leads, geography, reminder_offsets, datetime.now(UTC), find_races)
        return answers

    return match_batch


def subscriptions(
    unit_of_work: Callable[[], UnitOfWork],
    writer: GroupCommit[NewLead, bool],
    geography: GeographyIndex,
    reminder_offsets: tuple[int, ...],
) -> list[Subscription]:
    merged_inbox = Inbox(tables.inbox, LEAD_MERGED_DURABLE)

    async def on_lead_received(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, LeadReceived)
        trace: dict[str, str] = {}
        propagate.inject(trace)
        await writer.write(NewLead(envelope.id, event, trace))

    async def on_lead_merged(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, LeadMerged)
        await anyio.to_thread.run_sync(
            merge_leads, envelope.id, event, unit_of_work(), merged_inbox, geography
        )

    async def on_race_published(envelope: CloudEvent, event: Event) -> None:
        # No inbox row needed: lead_matches' key makes announcing the same race again a no-op.
        assert isinstance(event, RacePublished)
        await anyio.to_thread.run_sync(
            announce_race,
            unit_of_work(),
            event.race.race_id,
            geography,
            datetime.now(UTC),
            reminder_offsets,
        )

    return [
        Subscription(
            INTAKE, LEAD_RECEIVED_DURABLE, LEAD_RECEIVED, on_lead_received, batch_size=64, batched=True
        ),
        Subscription(INTAKE, LEAD_MERGED_DURABLE, LEAD_MERGED, on_lead_merged),
        Subscription(MATCHING, RACE_PUBLISHED_DURABLE, RACE_PUBLISHED, on_race_published),
    ]
