"""Nothing accepted is lost, nothing happens twice — shown with real processes and real faults."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import httpx
import nats
import pytest
import sqlalchemy as sa

from runway_contracts import CloudEvent
from runway_contracts.intake import LeadReceived, LeadView
from runway_contracts.matching import LeadMatched
from runway_devstack.processes import venv_command
from runway_devstack.testing import Stack, wait_for

pytestmark = pytest.mark.integration


def post_signups(stack: Stack, count: int, tag: str) -> list[str]:
    addresses = [f"{tag}-{i}-{uuid.uuid4().hex[:4]}@example.org" for i in range(count)]
    with httpx.Client(timeout=10) as client:
        for address in addresses:
            response = client.post(
                f"{stack.url('intake')}/v1/signups",
                json={"email": address, "zip": "66044", "consent": {"email": True, "wording": "Email me."}},
            )
            assert response.status_code == 202, f"{response.text}\n{stack.log_tail('intake')}"
    return addresses


def recipients(stack: Stack, message_type: str = "races_near_you") -> Counter[str]:
    """How many emails of one type each address received."""
    return Counter(str(m["To"]) for m in stack.mail.messages() if m["X-Runway-Message-Type"] == message_type)


def test_signups_accepted_while_nats_is_down_reach_notify_once(stack_factory, db_backend: str) -> None:
    stack = stack_factory(db_backend)
    stack.nats.stop()
    addresses = post_signups(stack, 20, "offline")  # every one answered 202 with NATS down
    assert stack.count("intake", "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 20
    stack.nats.start()
    wait_for(lambda: all(recipients(stack)[a] for a in addresses), timeout=60, message="all 20 emails")
    time.sleep(3)  # give any duplicate time to arrive
    counts, welcomes = recipients(stack), recipients(stack, "welcome")
    assert [a for a in addresses if counts[a] != 1 or welcomes[a] != 1] == []
    assert stack.count("intake", "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


def test_a_consumer_killed_mid_batch_applies_each_event_exactly_once(stack_factory, db_backend: str) -> None:
    stack = stack_factory(db_backend, services=("intake", "notify", "donations"))
    total = 300
    addresses = post_signups(stack, total, "crash")
    wait_for(lambda: len(stack.stream_messages("INTAKE")) >= total, timeout=30, message="events in INTAKE")
    stack.start_service("matching")
    handled = "SELECT count(*) FROM inbox WHERE consumer = 'matching-lead-received-v1'"
    wait_for(
        lambda: stack.count("matching", handled) >= 5, timeout=30, interval=0.01, message="matching under way"
    )
    stack.processes["matching"].kill()  # SIGKILL: no drain, no goodbye
    done_before_crash = stack.count("matching", handled)
    assert done_before_crash < total, "the batch finished before the kill; nothing was interrupted"
    stack.start_service("matching")
    wait_for(lambda: stack.count("matching", handled) == total, timeout=90, message="every event handled")
    # Exactly one matched event per lead, staged and published once each.
    assert stack.count("matching", "SELECT count(*) FROM outbox") == total
    assert stack.count("matching", "SELECT count(DISTINCT event_id) FROM outbox") == total
    assert stack.count("matching", "SELECT count(*) FROM lead_locations") == total
    wait_for(lambda: all(recipients(stack)[a] for a in addresses), timeout=90, message="every email")
    time.sleep(3)
    counts = recipients(stack)
    assert [a for a in addresses if counts[a] != 1] == []
    assert len(stack.stream_messages("MATCHING")) == total


async def _publish(url: str, subject: str, envelope: CloudEvent) -> None:
    nc = await nats.connect(url)
    await nc.jetstream().publish(
        subject, envelope.model_dump_json().encode(), headers={"Nats-Msg-Id": envelope.id}
    )
    await nc.close()


def _envelope(event: LeadMatched | LeadReceived, source: str, lead_id: str) -> CloudEvent:
    return CloudEvent(
        id=str(uuid.uuid4()),
        source=source,
        type=event.TYPE,
        subject=lead_id,
        time=datetime.now(UTC),
        data=event.model_dump(mode="json"),
    )


def runway_nats(stack: Stack, *args: str) -> str:
    result = subprocess.run(
        [venv_command("runway-nats"), "--url", stack.nats.url, *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _rename_notify_table(stack: Stack, old: str, new: str) -> None:
    engine = stack.databases.engine("notify")
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"ALTER TABLE {old} RENAME TO {new}"))
    finally:
        engine.dispose()


def test_an_event_before_its_lead_waits_and_an_always_failing_one_is_parked_then_replayed(
    stack_factory,
) -> None:
    stack = stack_factory("sqlite", services=("notify",))  # this test plays intake and matching
    lead_id = str(uuid.uuid4())
    address = f"late-{uuid.uuid4().hex[:6]}@example.org"
    matched = LeadMatched(
        lead_id=lead_id,
        postal_code="66044",
        location_resolved=True,
        location_summary="Douglas County, KS",
        total_races=0,
        races=[],
        matched_at=datetime.now(UTC),
    )
    # notify has not heard of this lead yet: the match waits for it, in notify's database,
    # without spending its deliveries (four here) on retries.
    asyncio.run(_publish(stack.nats.url, matched.TYPE, _envelope(matched, "/runway/matching", lead_id)))
    waiting = f"SELECT count(*) FROM awaiting_contact WHERE lead_id = '{lead_id}'"
    wait_for(lambda: stack.count("notify", waiting) == 1, timeout=20, message="the match waiting")
    time.sleep(3)  # longer than the test consumers' retry delays (0.2 + 0.5 + 1 s)
    assert "no dead letters" in runway_nats(stack, "dlq", "list")

    # The lead arrives while notify's database is broken (its queue table gone): handling
    # fails on every delivery and the event is parked.
    _rename_notify_table(stack, "deliveries", "deliveries_away")
    received = LeadReceived(
        submission_id=str(uuid.uuid4()),
        form_key="signup",
        is_new_lead=True,
        received_at=datetime.now(UTC),
        lead=LeadView(
            lead_id=lead_id,
            email=address,
            postal_code="66044",
            email_consent={"granted": True, "recorded_at": datetime.now(UTC), "wording": "Email me."},
        ),
    )
    asyncio.run(_publish(stack.nats.url, received.TYPE, _envelope(received, "/runway/intake", lead_id)))
    listing = wait_for(
        lambda: (out := runway_nats(stack, "dlq", "list")) and "notify-lead-received-v1" in out and out,
        timeout=30,
        message="the event in the DLQ",
    )
    assert "deliveries" in listing  # the error: no such table
    assert "attempts=4" in listing  # max_deliver in the test consumer timing
    parked = stack.stream_messages("DLQ")[0]
    assert json.loads(parked.data)["data"]["lead"]["lead_id"] == lead_id
    terminated = [m for m in stack.stream_messages("ADVISORIES") if "MSG_TERMINATED" in m.subject]
    assert terminated, "the termination advisory is captured"
    assert stack.count("notify", f"SELECT count(*) FROM contacts WHERE lead_id = '{lead_id}'") == 0

    # The database is repaired; an operator replays the dead letter: the lead's welcome, and
    # the match that waited for it, go out once.
    _rename_notify_table(stack, "deliveries_away", "deliveries")
    out = runway_nats(stack, "dlq", "replay", "--consumer", "notify-lead-received-v1")
    assert "replayed DLQ#" in out
    wait_for(lambda: recipients(stack)[address] == 1, timeout=20, message="the waiting match's email")
    wait_for(lambda: recipients(stack, "welcome")[address] == 1, timeout=20, message="the welcome")
    assert "no dead letters" in runway_nats(stack, "dlq", "list", "--consumer", "notify-lead-received-v1")
    assert stack.count("notify", waiting) == 0
    time.sleep(2)
    assert recipients(stack)[address] == 1 and recipients(stack, "welcome")[address] == 1


async def _consumer_state(url: str, stream: str, durable: str) -> tuple[int, int]:
    nc = await nats.connect(url)
    info = await nc.jetstream().consumer_info(stream, durable)
    await nc.close()
    return info.num_ack_pending, info.num_pending


async def _publish_all(url: str, subject: str, envelopes: list[CloudEvent]) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    for envelope in envelopes:
        await js.publish(subject, envelope.model_dump_json().encode(), headers={"Nats-Msg-Id": envelope.id})
    await nc.close()


def test_sigterm_finishes_in_flight_handlers_before_the_process_exits(stack_factory) -> None:
    stack = stack_factory("sqlite", services=())  # this test plays intake
    # Enough new leads that matching cannot get through them all between noticing it has
    # begun and the SIGTERM reaching its consumer (300 sign-ups were sometimes all done).
    total = 2000
    envelopes = []
    for i in range(total):
        lead = LeadView(lead_id=str(uuid.uuid4()), email=f"drain-{i}@example.org", postal_code="66044")
        received = LeadReceived(
            submission_id=str(uuid.uuid4()),
            form_key="signup",
            is_new_lead=True,
            received_at=datetime.now(UTC),
            lead=lead,
        )
        envelopes.append(_envelope(received, "/runway/intake", lead.lead_id))
    asyncio.run(_publish_all(stack.nats.url, LeadReceived.TYPE, envelopes))
    wait_for(lambda: len(stack.stream_messages("INTAKE")) >= total, timeout=30, message="events in INTAKE")
    stack.start_service("matching")
    handled = "SELECT count(*) FROM inbox WHERE consumer = 'matching-lead-received-v1'"
    wait_for(
        lambda: stack.count("matching", handled) >= 5, timeout=30, interval=0.01, message="matching under way"
    )
    stack.processes["matching"].stop()  # SIGTERM
    # uvicorn re-raises SIGTERM once its shutdown is complete, so the log is the witness.
    assert "Application shutdown complete." in stack.log_tail("matching", 10)
    in_flight, not_yet_delivered = asyncio.run(
        _consumer_state(stack.nats.url, "INTAKE", "matching-lead-received-v1")
    )
    done = stack.count("matching", handled)
    assert done < total, "the batch finished before the stop; nothing was in flight"
    assert in_flight == 0, "a delivered message was left unacknowledged"
    assert done + not_yet_delivered == total
    # What the handlers staged before the stop was published, not left behind.
    assert stack.count("matching", "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
