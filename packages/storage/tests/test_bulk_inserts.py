"""Rows inserted by `insert_rows` and `insert_many_if_absent` are stored exactly as
SQLAlchemy's own INSERT stores them, and JSON columns keep every value `json` could keep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_storage import UtcDateTime, insert_many_if_absent
from runway_storage.bulk import insert_rows

metadata = sa.MetaData()
people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("joined_at", UtcDateTime, nullable=False),
    sa.Column("details", sa.JSON),
    sa.Column("age", sa.Integer),
    sa.Column("photo", sa.LargeBinary),
)
notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False, default="plain"),  # filled by SQLAlchemy
)


@pytest.fixture
def engine(engine_with: Callable[[sa.MetaData], sa.Engine]) -> sa.Engine:
    return engine_with(metadata)


def _rows() -> list[dict[str, Any]]:
    shared = datetime(2027, 6, 1, 23, 59, 59, 123456, tzinfo=timezone(timedelta(hours=-5)))
    return [
        {
            "id": "a",
            "joined_at": shared,
            "details": {"tags": ["x"], "n": 1.5},
            "age": 30,
            "photo": b"\x00\xff",
        },
        {"id": "b", "joined_at": shared, "details": None, "age": None, "photo": None},
        {
            "id": "c",
            "joined_at": datetime(2027, 6, 2, tzinfo=UTC),
            "details": {"name": 'Año \u2028 "q"', "big": 2**80, 7: "seven"},
            "age": 0,
            "photo": b"",
        },
    ]


@pytest.mark.parametrize("write", [insert_rows, insert_many_if_absent])
def test_rows_read_back_as_sqlalchemy_inserted_them(
    engine: sa.Engine, write: Callable[[Session, sa.Table, list[dict[str, Any]]], None]
) -> None:
    with Session(engine) as session, session.begin():
        write(session, people, _rows())
    with engine.connect() as c:
        bulk = [r._asdict() for r in c.execute(sa.select(people).order_by(people.c.id))]
        c.execute(people.delete())
        c.execute(people.insert(), _rows())
        plain = [r._asdict() for r in c.execute(sa.select(people).order_by(people.c.id))]
        c.commit()
    assert bulk == plain
    assert bulk[0]["joined_at"] == datetime(2027, 6, 2, 4, 59, 59, 123456, tzinfo=UTC)
    assert bulk[2]["details"] == {"name": 'Año \u2028 "q"', "big": 2**80, "7": "seven"}


def test_a_taken_key_fails_the_whole_insert_and_keeps_nothing_of_it(engine: sa.Engine) -> None:
    with Session(engine) as session, session.begin():
        insert_rows(session, people, _rows()[:1])
    taken = [*_rows()[1:], _rows()[0]]  # two new rows, then one whose key is held
    with pytest.raises(Exception, match="(?i)unique|duplicate"), Session(engine) as session, session.begin():
        insert_rows(session, people, taken)
    with engine.connect() as c:
        assert c.execute(sa.select(people.c.id)).scalars().all() == ["a"]


def test_a_column_default_is_still_filled_in(engine: sa.Engine) -> None:
    with Session(engine) as session, session.begin():
        insert_rows(session, notes, [{"id": 1}, {"id": 2}])
    with engine.connect() as c:
        assert c.execute(sa.select(notes.c.kind)).scalars().all() == ["plain", "plain"]


def test_json_columns_read_what_json_wrote_before_orjson(tmp_path: Path) -> None:
    from runway_storage import create_database_engine

    engine = create_database_engine(f"sqlite:///{tmp_path}/j.db")
    metadata.create_all(engine)
    with engine.begin() as c:  # NaN, as json.dumps wrote it and as a form may post it
        c.exec_driver_sql(
            "INSERT INTO people (id, joined_at, details) VALUES ('n', '2027-06-01 00:00:00.000000', ?)",
            ('{"score": NaN}',),
        )
        details = c.scalar(sa.select(people.c.details))
    assert details["score"] != details["score"]  # NaN
