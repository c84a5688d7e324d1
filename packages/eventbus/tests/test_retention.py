"""Outbox rows go some days after they were published, inbox rows once no copy of their
event can come back; nothing that may still be needed goes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from runway_devstack.testing import Databases, require_backend
from runway_eventbus.retention import Retention
from runway_eventbus.tables import inbox_table, outbox_table

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
metadata = sa.MetaData()
outbox, inbox = outbox_table(metadata), inbox_table(metadata)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    require_backend(request.param)
    databases = Databases(request.param, tmp_path)
    made = databases.engine("notify")
    metadata.create_all(made)
    yield made
    made.dispose()
    databases.drop()


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def add_outbox(engine: sa.Engine, name: str, created: datetime, published: datetime | None) -> None:
    with engine.begin() as c:
        c.execute(
            outbox.insert().values(
                event_id=name, subject="s", body=b"{}", headers={}, created_at=created, published_at=published
            )
        )


def add_inbox(engine: sa.Engine, consumer: str, event_id: str, processed: datetime) -> None:
    with engine.begin() as c:
        c.execute(inbox.insert().values(consumer=consumer, event_id=event_id, processed_at=processed))


def outbox_ids(engine: sa.Engine) -> list[str]:
    with engine.connect() as c:
        return list(c.scalars(sa.select(outbox.c.event_id).order_by(outbox.c.seq)))


def inbox_keys(engine: sa.Engine) -> list[tuple[str, str]]:
    with engine.connect() as c:
        return sorted(c.execute(sa.select(inbox.c.consumer, inbox.c.event_id)).tuples())


def retention(engine: sa.Engine, **options: object) -> Retention:
    settings: dict[str, object] = {"outbox_keep": timedelta(days=7), "inbox_keep": timedelta(days=90)}
    return Retention(engine, outbox, inbox, CollectorRegistry(), **(settings | options))  # type: ignore[arg-type]


def test_what_is_old_enough_goes_and_nothing_else(engine: sa.Engine) -> None:
    add_outbox(engine, "published-8-days-ago", days_ago(8), days_ago(8))
    add_outbox(engine, "never-published", days_ago(30), None)  # still to go out: kept however old
    add_outbox(engine, "published-6-days-ago", days_ago(8), days_ago(6))
    add_inbox(engine, "notify-a", "handled-91-days-ago", days_ago(91))
    add_inbox(engine, "notify-b", "handled-91-days-ago", days_ago(91))
    add_inbox(engine, "notify-a", "handled-89-days-ago", days_ago(89))

    assert retention(engine).prune(NOW) == {"outbox": 1, "inbox": 2}
    assert outbox_ids(engine) == ["never-published", "published-6-days-ago"]
    assert inbox_keys(engine) == [("notify-a", "handled-89-days-ago")]
    assert retention(engine).prune(NOW) == {"outbox": 0, "inbox": 0}


def test_rows_go_a_batch_at_a_time_and_a_pass_stops_after_its_batches(engine: sa.Engine) -> None:
    for n in range(5):
        add_outbox(engine, f"old-{n}", days_ago(10), days_ago(10))
        add_inbox(engine, "c", f"old-{n}", days_ago(100))
    assert retention(engine, batch=2).prune(NOW) == {"outbox": 5, "inbox": 5}

    for n in range(5):
        add_outbox(engine, f"older-{n}", days_ago(10), days_ago(10))
    limited = retention(engine, batch=2, batches_per_pass=1)
    assert limited.prune(NOW)["outbox"] == 2
    assert outbox_ids(engine) == ["older-2", "older-3", "older-4"]  # the oldest went first
    assert limited.prune(NOW)["outbox"] == 2


def test_a_table_kept_forever_is_left_alone(engine: sa.Engine) -> None:
    add_outbox(engine, "published-a-year-ago", days_ago(365), days_ago(365))
    add_inbox(engine, "c", "handled-a-year-ago", days_ago(365))
    assert retention(engine, outbox_keep=None, inbox_keep=None).prune(NOW) == {"outbox": 0, "inbox": 0}
    assert len(outbox_ids(engine)) == len(inbox_keys(engine)) == 1
