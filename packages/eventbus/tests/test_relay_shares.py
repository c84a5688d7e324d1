"""Which rows a relay publishes, and what its gauges say, when one or several serving
processes share a database (a stand-in JetStream that acks everything)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import sessionmaker

from runway_contracts.intake import LeadReceived, LeadView
from runway_devstack.testing import Databases, require_backend
from runway_eventbus.outbox import Outbox
from runway_eventbus.relay import OutboxRelay
from runway_eventbus.tables import outbox_table


class AckingJetStream:
    def __init__(self) -> None:
        self.published: list[str] = []

    async def publish_async(self, subject: str, body: bytes, headers: dict[str, str]) -> asyncio.Future[Any]:
        self.published.append(headers["Nats-Msg-Id"])
        acked: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        acked.set_result(object())
        return acked


def received(n: int) -> LeadReceived:
    return LeadReceived(
        submission_id=f"s{n}",
        form_key="signup",
        is_new_lead=True,
        received_at=datetime.now(UTC),
        lead=LeadView(lead_id=f"lead-{n}", email=f"p{n}@example.org"),
    )


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
