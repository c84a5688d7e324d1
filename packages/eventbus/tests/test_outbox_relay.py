"""The relay against a real nats-server: each row marked published only once JetStream
acknowledged all it stands for; a row JetStream refuses stays unpublished, the rest of its
batch does not wait for it; a row published twice is stored once. And, with a stand-in
JetStream that acks everything, which rows a relay publishes and what its gauges say when
one or several serving processes share a database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
import sqlalchemy as sa
from nats.js.errors import NoStreamResponseError
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import sessionmaker

from runway_contracts.intake import LeadReceived, LeadView
from runway_devstack.nats_server import NatsServer
from runway_devstack.testing import DEFINITIONS, Databases, require_backend
from runway_eventbus.outbox import Outbox
from runway_eventbus.provisioning import apply_definitions, load_definitions
from runway_eventbus.relay import OutboxRelay
from runway_eventbus.tables import outbox_table

STREAM = "INTAKE"


def received(n: int) -> LeadReceived:
    return LeadReceived(
        submission_id=f"s{n}",
        form_key="signup",
        is_new_lead=True,
        received_at=datetime.now(UTC),
        lead=LeadView(lead_id=f"lead-{n}", email=f"p{n}@example.org"),
    )


async def relay_rounds(tmp_path: Path) -> tuple[list[int], list[str | None], list[str], int, str]:
    server = NatsServer(tmp_path / "nats", name="relay")
    server.start()
    engine = sa.create_engine(f"sqlite:///{tmp_path}/o.db")
    metadata = sa.MetaData()
    table = outbox_table(metadata)
    metadata.create_all(engine)
    sessions = sessionmaker(engine)
    outbox = Outbox(table, source="/runway/intake")
    with sessions.begin() as session:
        for n in range(3):
            outbox.stage(session, received(n), subject_id=f"lead-{n}")
        nowhere = outbox.row(received(9), subject_id="lead-9") | {"subject": "nowhere.test.v1"}
        outbox.stage_rows(session, [nowhere])
        outbox.stage_fan_out(
            session,
            LeadReceived.TYPE,
            [(f"lead-{n}", "all") for n in range(10, 15)],
            {"all": received(10).lead.model_dump_json()},
            subject_field="lead_id",
            variant_field="lead",
            shared={
                "submission_id": "s10",
                "form_key": "signup",
                "is_new_lead": True,
                "received_at": datetime.now(UTC).isoformat(),
            },
        )
    nc = await nats.connect(server.url)
    try:
        await apply_definitions(nc.jetstream(), load_definitions(DEFINITIONS))
        relay = OutboxRelay(engine, table, nc.jetstream(), CollectorRegistry(), publish_timeout=2.0)
        rounds = []
        for _ in range(2):  # the second round retries only the refused row, and fails again
            try:
                rounds.append(await relay.publish_pending())
            except Exception as error:
                rounds.append(-1)
                refusal = type(error).__name__
        with engine.connect() as c:
            marks = c.execute(sa.select(table.c.published_at).order_by(table.c.seq)).scalars().all()
            ids = c.execute(sa.select(table.c.event_id).order_by(table.c.seq)).scalars().all()
        # Published again (a crash between the ack and the mark): JetStream keeps one copy.
        with sessions.begin() as session:
            session.execute(
                table.update().values(published_at=None).where(table.c.subject != "nowhere.test.v1")
            )
        with pytest.raises(NoStreamResponseError):  # the refused row, still refused
            await relay.publish_pending()
        info = await nc.jetstream().stream_info(STREAM)
        return rounds, [str(m) if m else None for m in marks], ids, info.state.messages, refusal
    finally:
        await nc.close()
        engine.dispose()
        server.stop()


def test_rows_are_marked_once_acked_and_a_refused_row_waits_alone(tmp_path: Path) -> None:
    rounds, marks, ids, stored, refusal = asyncio.run(relay_rounds(tmp_path))
    assert rounds == [-1, -1]  # each round publishes what it can, then reports the refusal
    assert refusal == "NoStreamResponseError"
    assert [m is not None for m in marks] == [True, True, True, False, True]
    assert stored == 3 + 5  # three events and the fan-out's five, each once
    assert len(set(ids)) == 5


class AckingJetStream:
    def __init__(self) -> None:
        self.published: list[str] = []

    async def publish_async(self, subject: str, body: bytes, headers: dict[str, str]) -> asyncio.Future[Any]:
        self.published.append(headers["Nats-Msg-Id"])
        acked: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        acked.set_result(object())
        return acked


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    require_backend(request.param)
    made = Databases(request.param, tmp_path)
    yield made
    made.drop()


def outbox_with(databases: Databases, fresh: int, old: int = 0) -> tuple[sa.Engine, sa.Table, list[str]]:
    engine = databases.engine("intake")
    metadata = sa.MetaData()
    table = outbox_table(metadata)
    metadata.create_all(engine)
    outbox = Outbox(table, source="/runway/intake")
    ids = []
    with sessionmaker(engine).begin() as session:
        for n in range(old + fresh):
            ids.append(outbox.stage(session, received(n), subject_id=f"lead-{n}"))
        # The first `old` rows were staged long ago by a process that died before publishing them.
        session.execute(
            table.update()
            .where(table.c.event_id.in_(ids[:old]))
            .values(created_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    return engine, table, ids


def gauge(registry: CollectorRegistry, name: str) -> float | None:
    return registry.get_sample_value(name)


def test_one_relay_publishes_everything_a_batch_at_a_time_and_counts_what_waits(databases: Databases) -> None:
    engine, table, ids = outbox_with(databases, fresh=5)
    js, registry = AckingJetStream(), CollectorRegistry()
    relay = OutboxRelay(engine, table, js, registry, batch_size=3)  # type: ignore[arg-type]

    async def rounds() -> list[tuple[int, float | None]]:
        seen = []
        for _ in range(3):
            published = await relay.publish_pending()
            seen.append((published, gauge(registry, "runway_outbox_pending")))
        return seen

    # The gauge is read before each round's publishing: 5 waiting, then the 2 left, then none.
    assert asyncio.run(rounds()) == [(3, 5), (2, 2), (0, 0)]
    assert js.published == [*ids[:5]]
    assert gauge(registry, "runway_outbox_published_total") == 5


def test_two_relays_split_the_rows_and_either_takes_over_what_a_dead_one_left(databases: Databases) -> None:
    engine, table, ids = outbox_with(databases, fresh=6, old=2)
    first, second = AckingJetStream(), AckingJetStream()
    relays = [
        OutboxRelay(engine, table, js, CollectorRegistry(), partition=(index, 2), orphaned_after=60)  # type: ignore[arg-type]
        for index, js in enumerate((first, second))
    ]

    async def one_round_each() -> None:
        for relay in relays:
            await relay.publish_pending()

    asyncio.run(one_round_each())
    old, fresh = ids[:2], ids[2:]
    # Rows are numbered from 1: the first relay's share is the even ones (the fresh rows 4, 6,
    # 8), and it takes the orphans (1, 2) too; the second publishes its share (3, 5, 7) only.
    assert first.published == [*old, *fresh[1::2]]
    assert second.published == fresh[0::2]
