"""Notify's event subscribers: translate the contract, delegate to the service layer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.message import EmailMessage

import anyio

from runway_contracts import CloudEvent, Event, donations, intake, matching, streams
from runway_eventbus.consumer import Subscription
from runway_eventbus.inbox import Inbox
from runway_notify.adapters import tables
from runway_notify.service_layer.contacts import record_lead
from runway_notify.service_layer.email_delivery import EmailComposer, deliver_email
from runway_notify.service_layer.messages import donation_receipt, payment_failed, races_near_you
from runway_runtime.host import ServiceHost

LEAD_RECEIVED = "notify-lead-received-v1"
LEAD_MATCHED = "notify-lead-matched-v1"
CONTRIBUTION_SUCCEEDED = "notify-contrib-succeeded-v1"
CONTRIBUTION_FAILED = "notify-contrib-failed-v1"


def subscriptions(
    host: ServiceHost,
    composer: EmailComposer,
    send: Callable[[EmailMessage], Awaitable[None]],
    org: dict[str, str],
) -> list[Subscription]:
    tracer = host.tracer_provider.get_tracer("runway-notify")
    inboxes = {
        name: Inbox(tables.inbox, name)
        for name in (LEAD_RECEIVED, LEAD_MATCHED, CONTRIBUTION_SUCCEEDED, CONTRIBUTION_FAILED)
    }

    async def on_lead_received(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, intake.LeadReceived)
        await anyio.to_thread.run_sync(
            record_lead, envelope.id, event, host.unit_of_work(), inboxes[LEAD_RECEIVED]
        )

    async def on_lead_matched(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, matching.LeadMatched)
        note = await races_near_you(envelope.id, event, host.unit_of_work, inboxes[LEAD_MATCHED], org)
        if note:
            await deliver_email(
                envelope.id, note, host.unit_of_work, inboxes[LEAD_MATCHED], composer, send, tracer
            )

    async def on_contribution_succeeded(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, donations.ContributionSucceeded)
        note = donation_receipt(event, org)
        if note:
            await deliver_email(
                envelope.id, note, host.unit_of_work, inboxes[CONTRIBUTION_SUCCEEDED], composer, send, tracer
            )

    async def on_contribution_failed(envelope: CloudEvent, event: Event) -> None:
        assert isinstance(event, donations.ContributionFailed)
        note = payment_failed(event, org)
        if note:
            await deliver_email(
                envelope.id, note, host.unit_of_work, inboxes[CONTRIBUTION_FAILED], composer, send, tracer
            )

    return [
        Subscription(streams.INTAKE, LEAD_RECEIVED, intake.LEAD_RECEIVED, on_lead_received),
        Subscription(streams.MATCHING, LEAD_MATCHED, matching.LEAD_MATCHED, on_lead_matched),
        Subscription(
            streams.DONATIONS,
            CONTRIBUTION_SUCCEEDED,
            donations.CONTRIBUTION_SUCCEEDED,
            on_contribution_succeeded,
        ),
        Subscription(
            streams.DONATIONS, CONTRIBUTION_FAILED, donations.CONTRIBUTION_FAILED, on_contribution_failed
        ),
    ]
