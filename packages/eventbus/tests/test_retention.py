"""Outbox rows go some days after their event was made and published, inbox rows once no
copy of their event can come back; nothing that may still be needed goes."""

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
from runway_storage.ids import first_id_at

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


def event_id(days: float, n: int = 0) -> str:
    """A time-ordered event id, as `new_id` would have made it `days` before NOW."""
    return f"{first_id_at(days_ago(days))[:13]}-7{n:03x}-8000-000000000000"


def add_outbox(engine: sa.Engine, made_days_ago: float, published: bool = True, n: int = 0) -> str:
    made = days_ago(made_days_ago)
    with engine.begin() as c:
        c.execute(
            outbox.insert().values(
                event_id=(name := event_id(made_days_ago, n)),
                subject="s",
                body=b"{}",
                headers={},
                created_at=made,
                published_at=made + timedelta(seconds=1) if published else None,
            )
        )
    return name


def add_inbox(engine: sa.Engine, consumer: str, made_days_ago: float, suffix: str = "") -> tuple[str, str]:
    key = (consumer, event_id(made_days_ago) + suffix)
    with engine.begin() as c:
        c.execute(inbox.insert().values(consumer=key[0], event_id=key[1], processed_at=NOW))
    return key


def outbox_ids(engine: sa.Engine) -> list[str]:
    with engine.connect() as c:
        return list(c.scalars(sa.select(outbox.c.event_id).order_by(outbox.c.seq)))


def inbox_keys(engine: sa.Engine) -> list[tuple[str, str]]:
    with engine.connect() as c:
        return sorted(c.execute(sa.select(inbox.c.consumer, inbox.c.event_id)).tuples())


def retention(engine: sa.Engine, **options: object) -> Retention:
    settings: dict[str, object] = {"outbox_keep": timedelta(days=7), "inbox_keep": timedelta(days=120)}
    return Retention(engine, outbox, inbox, CollectorRegistry(), **(settings | options))  # type: ignore[arg-type]


def test_what_is_old_enough_goes_and_nothing_else(engine: sa.Engine) -> None:
    add_outbox(engine, 8)
    never_published = add_outbox(engine, 30, published=False)  # still to go out: kept however old
    recent = add_outbox(engine, 6)
    add_inbox(engine, "notify-a", 121)
    add_inbox(engine, "notify-b", 121, suffix=".3")  # one event of a fan-out row
    kept = add_inbox(engine, "notify-a", 119)
    handled_late = add_inbox(engine, "notify-c", 119)  # its age is the event's, not the handling's

    assert retention(engine).prune(NOW) == {"outbox": 1, "inbox": 2}
    assert outbox_ids(engine) == [never_published, recent]
    assert inbox_keys(engine) == sorted([kept, handled_late])
    assert retention(engine).prune(NOW) == {"outbox": 0, "inbox": 0}


def test_rows_go_a_batch_at_a_time_and_a_pass_stops_after_its_batches(engine: sa.Engine) -> None:
    for n in range(5):
        add_outbox(engine, 10, n=n)
        add_inbox(engine, "c", 130, suffix=f".{n}")
    assert retention(engine, batch=2).prune(NOW) == {"outbox": 5, "inbox": 5}

    older = [add_outbox(engine, 10 + n) for n in range(5)]
    limited = retention(engine, batch=2, batches_per_pass=1)
    assert limited.prune(NOW)["outbox"] == 2
    assert sorted(outbox_ids(engine)) == sorted(older[:3])  # the oldest went first
    assert limited.prune(NOW)["outbox"] == 2


def test_a_table_kept_forever_is_left_alone(engine: sa.Engine) -> None:
    add_outbox(engine, 365)
    add_inbox(engine, "c", 365)
    assert retention(engine, outbox_keep=None, inbox_keep=None).prune(NOW) == {"outbox": 0, "inbox": 0}
    assert len(outbox_ids(engine)) == len(inbox_keys(engine)) == 1
