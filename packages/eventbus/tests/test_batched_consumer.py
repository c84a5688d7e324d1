"""A batched subscription against a real nats-server: every message of a pulled batch is
settled on its own — acked once handled, retried after a failure, parked when it cannot be
parsed or keeps failing — and its handler runs inside a span continuing the producer's trace."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import nats
import pytest
from faststream.nats import NatsBroker
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from runway_contracts import CloudEvent, Event
from runway_contracts.intake import LeadReceived, LeadView
from runway_contracts.streams import INTAKE
from runway_devstack.nats_server import NatsServer
from runway_devstack.testing import DEFINITIONS, TEST_CONSUMER_TIMING
from runway_eventbus.consumer import BatchedPull, ReliableConsumers, Subscription
from runway_eventbus.provisioning import apply_definitions, load_definitions

DURABLE = "notify-lead-received-v1"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def lead_received(n: int) -> CloudEvent:
    event = LeadReceived(
        submission_id=f"s{n}",
        form_key="signup",
        is_new_lead=True,
        received_at=datetime.now(UTC),
        lead=LeadView(lead_id=f"lead-{n}", email=f"p{n}@example.org"),
    )
    return CloudEvent(
        id=str(uuid.uuid4()),
        source="/test",
        type=event.TYPE,
        subject=f"lead-{n}",
        time=datetime.now(UTC),
        data=event.model_dump(mode="json"),
    )


async def streams_applied(server: NatsServer, tmp_path: Path) -> None:
    spec = json.loads(DEFINITIONS.read_text())
    spec["consumer_defaults"] |= TEST_CONSUMER_TIMING  # 4 attempts, short delays
    definitions = tmp_path / "jetstream.json"
    definitions.write_text(json.dumps(spec))
    nc = await nats.connect(server.url)
    await apply_definitions(nc.jetstream(), load_definitions(definitions))
    await nc.close()


async def started(
    server: NatsServer, sub: Subscription, provider: TracerProvider | None = None
) -> tuple[NatsBroker, ReliableConsumers]:
    broker = NatsBroker(server.url)
    consumers = ReliableConsumers(broker, CollectorRegistry(), provider)
    consumers.subscribe(sub)
    await broker.connect()
    await consumers.load_policies(broker.connection.jetstream(), [sub])
    await broker.start()
    for pull in consumers.batched:
        await pull.start(broker.connection.jetstream())
    return broker, consumers


async def run_batched(tmp_path: Path) -> tuple[Counter[str], Counter[str], list[bytes], int, list]:
    server = NatsServer(tmp_path / "nats", name="batched")
    server.start()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    attempts: Counter[str] = Counter()
    handled: Counter[str] = Counter()
    running = 0
    try:
        await streams_applied(server, tmp_path)
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        events = [lead_received(n) for n in range(40)]
        for n, envelope in enumerate(events):
            headers = {"Nats-Msg-Id": envelope.id}
            if n == 0:
                headers["traceparent"] = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"
            await js.publish(envelope.type, envelope.model_dump_json().encode(), headers=headers)
        await js.publish(LeadReceived.TYPE, b"{not a cloudevent", headers={"Nats-Msg-Id": "garbage"})

        async def handler(envelope: CloudEvent, event: Event) -> None:
            nonlocal running
            assert isinstance(event, LeadReceived)
            lead = event.lead.lead_id
            attempts[lead] += 1
            if lead == "lead-0":
                handled["trace:" + format(trace.get_current_span().get_span_context().trace_id, "032x")] += 1
            if lead == "lead-7":
                raise RuntimeError("this one never works")
            if lead in ("lead-3", "lead-21") and attempts[lead] == 1:
                raise RuntimeError("a passing failure")
            running += 1
            handled["most at once"] = max(handled["most at once"], running)
            try:
                await asyncio.sleep(0.01)
            finally:
                running -= 1
            handled[lead] += 1

        sub = Subscription(INTAKE, DURABLE, LeadReceived.TYPE, handler, batch_size=16, batched=True)
        broker, consumers = await started(server, sub, provider)
        for _ in range(200):
            if sum(1 for n in range(40) if handled[f"lead-{n}"]) == 39 and attempts["lead-7"] == 4:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # anything settled twice would show by now
        for pull in consumers.batched:
            await pull.stop(graceful_timeout=5)
        await broker.stop()

        dlq = await js.pull_subscribe("dlq.>", durable="test-dlq-reader", stream="DLQ")
        parked = [m.data for m in await dlq.fetch(10, timeout=2)]
        info = await js.consumer_info(INTAKE, DURABLE)
        await nc.close()
        return attempts, handled, parked, info.num_ack_pending, exporter.get_finished_spans()
    finally:
        server.stop()


def test_each_message_of_a_batch_is_settled_on_its_own(tmp_path: Path) -> None:
    attempts, handled, parked, unacked, spans = asyncio.run(run_batched(tmp_path))

    assert [f"lead-{n}" for n in range(40) if handled[f"lead-{n}"] != 1] == ["lead-7"]
    assert attempts["lead-3"] == attempts["lead-21"] == 2  # retried once, then done
    assert attempts["lead-7"] == TEST_CONSUMER_TIMING["max_deliver"]
    assert len(parked) == 2
    assert b"{not a cloudevent" in parked
    assert any(b'"lead-7"' in p for p in parked)
    assert unacked == 0
    assert 1 < handled["most at once"] <= 16  # a batch's handlers ran side by side, a batch at most
    # The message that carried a traceparent was handled inside that trace, in a consumer span.
    assert handled["trace:" + CALLER_TRACE] == 1
    consumer_spans = [s for s in spans if s.name == f"{LeadReceived.TYPE} process"]
    assert any(format(s.context.trace_id, "032x") == CALLER_TRACE for s in consumer_spans)
    assert all(s.kind is trace.SpanKind.CONSUMER for s in consumer_spans)


async def stop_mid_batch(tmp_path: Path) -> tuple[int, int, int, int, int]:
    server = NatsServer(tmp_path / "nats", name="batched-stop")
    server.start()
    begun: list[str] = []
    finished: list[str] = []
    try:
        await streams_applied(server, tmp_path)
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        for n in range(100):
            envelope = lead_received(n)
            await js.publish(
                envelope.type, envelope.model_dump_json().encode(), headers={"Nats-Msg-Id": envelope.id}
            )

        async def slow(envelope: CloudEvent, event: Event) -> None:
            begun.append(envelope.id)
            await asyncio.sleep(0.5)
            finished.append(envelope.id)

        sub = Subscription(INTAKE, DURABLE, LeadReceived.TYPE, slow, batch_size=16, batched=True)
        broker, consumers = await started(server, sub)
        while not begun:
            await asyncio.sleep(0.01)
        # The batch's handlers start within moments of each other and take 0.5 s; the next
        # batch is pulled only after they finish. So 0.1 s on, `begun` is the batch in hand.
        await asyncio.sleep(0.1)
        in_hand = len(begun)
        for pull in consumers.batched:
            await pull.stop(graceful_timeout=5)
        await broker.stop()
        info = await js.consumer_info(INTAKE, DURABLE)
        await nc.close()
        return in_hand, len(begun), len(finished), info.num_ack_pending, info.num_pending
    finally:
        server.stop()


def test_stopping_finishes_the_batch_in_hand_and_leaves_the_rest_for_later(tmp_path: Path) -> None:
    in_hand, begun, finished, unacked, not_yet_delivered = asyncio.run(stop_mid_batch(tmp_path))

    # The batch in hand, all of it, and no new batch after the stop. Its size is what the
    # first pulls found waiting: 16 on a quiet machine, fewer on a busy one.
    assert 1 <= in_hand <= 16
    assert begun == finished == in_hand
    assert unacked == 0
    assert not_yet_delivered == 100 - in_hand


def test_stopping_also_handles_what_arrived_after_a_pull_stopped_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a busy machine the "anything else waiting?" pull gives up before the server's
    answer arrives; the messages wait in the subscription's queue for the next pull. A stop
    in between handles them too, instead of leaving them unacknowledged until the ack wait
    (CI once found 5 so after SIGTERM). A pull that waits 0.1 ms makes that happen here."""
    monkeypatch.setattr(BatchedPull, "MORE_WAIT_SECONDS", 0.0001)
    in_hand, begun, finished, unacked, not_yet_delivered = asyncio.run(stop_mid_batch(tmp_path))
    assert unacked == 0
    assert begun == finished
    assert not_yet_delivered == 100 - finished
    assert in_hand < begun, "every message came in time: the case was not made"
