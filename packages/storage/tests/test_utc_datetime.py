"""UtcDateTime: an instant goes in in any offset and comes back aware, in UTC, on SQLite too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from runway_storage import UtcDateTime, create_database_engine

metadata = sa.MetaData()
moments = sa.Table(
    "moments", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", UtcDateTime)
)


def test_an_instant_round_trips_as_aware_utc_and_a_naive_one_is_refused(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path}/t.db")
    metadata.create_all(engine)
    central = datetime(2027, 6, 1, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5)))
    with engine.begin() as c:
        c.execute(moments.insert().values(id=1, at=central))
        stored = c.scalar(sa.select(moments.c.at))
        assert stored == central and stored.tzinfo is UTC and stored.hour == 4
        # Compared in SQL as stored: the same instant in another offset finds it.
        assert c.scalar(sa.select(moments.c.id).where(moments.c.at == central.astimezone(UTC))) == 1
        with pytest.raises(sa.exc.StatementError, match="timezone-aware"):
            c.execute(moments.insert().values(id=2, at=datetime(2027, 6, 1)))
    engine.dispose()
