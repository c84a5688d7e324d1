"""A batch of consumed events in one transaction: each handled at most once; a failure
fails the batch and keeps nothing of it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from runway_devstack.testing import Databases, require_backend
from runway_eventbus.inbox import handle_each_once
from runway_eventbus.tables import inbox_table
from runway_storage import create_database_engine

CONSUMER = "test-consumer"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_each_event_of_a_batch_is_handled_once_and_a_failure_keeps_nothing_of_the_batch(
    backend: str, tmp_path: Path
) -> None:
    require_backend(backend)
    databases = Databases(backend, tmp_path)
    # The writer engine services use (on SQLite, BEGIN IMMEDIATE: savepoints behave).
    engine = create_database_engine(databases.urls["notify"], immediate=True)
    metadata = sa.MetaData()
    inbox = inbox_table(metadata)
    effects = sa.Table("effects", metadata, sa.Column("event_id", sa.String(64), primary_key=True))
    try:
        metadata.create_all(engine)
        sessions = sessionmaker(engine)

        def handle(session: sa.orm.Session, event_id: str) -> str:
            if event_id == "broken":
                raise ValueError("a bug")
            session.execute(effects.insert().values(event_id=event_id))
            return f"handled {event_id}"

        def batch(event_ids: list[str]) -> list[object]:
            with sessions() as session, session.begin():
                return handle_each_once(
                    session,
                    inbox,
                    event_ids,
                    lambda e: (CONSUMER, e),
                    lambda e: handle(session, e),
                    "already",
                )

        first = batch(["e1", "e2", "e2", "e4"])
        assert first == ["handled e1", "handled e2", "already", "handled e4"]  # e2 twice: once
        assert batch(["e3", "e1"]) == ["handled e3", "already"]  # a redelivery
        with pytest.raises(ValueError, match="a bug"):
            batch(["e5", "broken"])  # the whole batch fails: nothing of it is kept
        with engine.connect() as c:
            assert sorted(c.scalars(sa.select(effects.c.event_id))) == ["e1", "e2", "e3", "e4"]
            assert sorted(c.scalars(sa.select(inbox.c.event_id))) == ["e1", "e2", "e3", "e4"]
    finally:
        engine.dispose()
        databases.drop()
