"""`write_together`: several tables' inserts and keyed updates, all or nothing, stored
exactly as SQLAlchemy's own statements store them (on PostgreSQL, as one statement)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_storage import UtcDateTime
from runway_storage.bulk import Add, Insert, Update, write_together

metadata = sa.MetaData()
people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.String(8), primary_key=True),
    sa.Column("joined_at", UtcDateTime, nullable=False),
    sa.Column("details", sa.JSON),
    sa.Column("age", sa.Integer),
    sa.Column("photo", sa.LargeBinary),
    sa.Column("balance", sa.Numeric(10, 2)),
    sa.Column("active", sa.Boolean),
    sa.Column("points", sa.Numeric),
)
counts = sa.Table(
    "counts",
    metadata,
    sa.Column("shard", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("count", sa.BigInteger, nullable=False),
)
visits = sa.Table(
    "visits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("person_id", sa.String(8), sa.ForeignKey("people.id"), nullable=False),
)


@pytest.fixture
def engine(engine_with: Callable[[sa.MetaData], sa.Engine]) -> sa.Engine:
    return engine_with(metadata)


def _people() -> list[dict[str, Any]]:
    shared = datetime(2027, 6, 1, 23, 59, 59, 123456, tzinfo=timezone(timedelta(hours=-5)))
    return [
        {
            "id": "a",
            "joined_at": shared,
            "details": {"tags": ["x"], "n": 1.5, "big": 2**80, 7: "seven"},
            "age": 30,
            "photo": b"\x00\xff\\x",
            "balance": Decimal("12.34"),
            "active": True,
            "points": 2**70,  # beyond orjson's 64 bits
        },
        {
            "id": "b",
            "joined_at": shared,
            "details": None,
            "age": None,
            "photo": None,
            "balance": None,
            "active": None,
            "points": None,
        },
        {
            "id": "c",
            "joined_at": datetime(2027, 6, 2, tzinfo=UTC),
            "details": {"name": 'Año \u2028 "q" \\ \t', "list": [None, False]},
            "age": 0,
            "photo": b"",
            "balance": Decimal("-0.50"),
            "active": False,
            "points": Decimal("1e-5"),
        },
    ]


def _read(engine: sa.Engine) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with engine.connect() as c:
        return (
            [r._asdict() for r in c.execute(sa.select(people).order_by(people.c.id))],
            [r._asdict() for r in c.execute(sa.select(visits).order_by(visits.c.id))],
        )


def _clear(engine: sa.Engine) -> None:
    with engine.begin() as c:
        c.execute(visits.delete())
        c.execute(people.delete())


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The statements `write_together` sends itself on PostgreSQL."""
    sent: list[str] = []
    execute = psycopg.RawCursor.execute

    def counted(self: psycopg.RawCursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.RawCursor, "execute", counted)
    yield sent


def test_inserts_and_updates_store_what_sqlalchemy_stores(engine: sa.Engine, statements: list[str]) -> None:
    changes = [
        {
            "id": "a",
            "details": {"n": 2},
            "age": 31,
            "photo": b"\x01",
            "balance": Decimal("0.01"),
            "active": False,
        },
        {"id": "c", "details": None, "age": None, "photo": None, "balance": None, "active": None},
    ]
    kept = _people()[2]["details"]
    with Session(engine) as session, session.begin():
        session.connection()  # BEGIN goes first, on its own
        before = len(statements)
        write_together(session, [Insert(people, _people()), Insert(visits, [{"id": 1, "person_id": "a"}])])
        write_together(session, [Insert(visits, [{"id": 2, "person_id": "c"}])])
        write_together(session, [Update(people, ("id",), changes)])
        sent = len(statements) - before
    together = _read(engine)

    _clear(engine)
    with engine.begin() as c:
        c.execute(people.insert(), _people())
        c.execute(visits.insert(), [{"id": 1, "person_id": "a"}, {"id": 2, "person_id": "c"}])
        for change in changes:
            c.execute(people.update().where(people.c.id == change["id"]).values(change))
    assert together == _read(engine)
    assert together[0][0]["details"] == {"n": 2}
    assert together[0][2]["details"] is None
    assert kept["name"] == 'Año \u2028 "q" \\ \t'
    with Session(engine) as session, session.begin():
        write_together(session, [Update(people, ("id",), [{"id": "b", "details": kept}])])
        assert session.scalar(sa.select(people.c.details).where(people.c.id == "b")) == kept
    if engine.dialect.name == "postgresql":
        assert sent == 3  # one for each write_together, whatever it held


def test_a_failing_write_keeps_nothing_of_any(engine: sa.Engine) -> None:
    with Session(engine) as session, session.begin():
        write_together(session, [Insert(people, _people()[:1])])
    taken = [
        Insert(people, _people()[1:]),
        Insert(visits, [{"id": 1, "person_id": "b"}]),
        Insert(people, _people()[:1]),
    ]
    with pytest.raises(Exception, match="(?i)unique|duplicate"), Session(engine) as session, session.begin():
        write_together(session, taken)
    assert _read(engine) == ([_read(engine)[0][0]], [])
    assert [p["id"] for p in _read(engine)[0]] == ["a"]


def test_a_row_pointing_nowhere_fails_the_whole_write(engine: sa.Engine) -> None:
    with pytest.raises(Exception, match="(?i)foreign key"), Session(engine) as session, session.begin():
        write_together(
            session, [Insert(people, _people()[:1]), Insert(visits, [{"id": 1, "person_id": "zz"}])]
        )
    assert _read(engine) == ([], [])


def test_a_value_too_long_for_its_column_is_refused_never_cut(engine: sa.Engine) -> None:
    too_long = {**_people()[0], "id": "abcdefghi"}  # nine characters for a VARCHAR(8)
    if engine.dialect.name == "sqlite":  # no lengths there: kept whole, as its own INSERT keeps it
        with Session(engine) as session, session.begin():
            write_together(session, [Insert(people, [too_long])])
        assert [p["id"] for p in _read(engine)[0]] == ["abcdefghi"]
        return
    with pytest.raises(Exception, match="(?i)too long"), Session(engine) as session, session.begin():
        write_together(session, [Insert(people, [too_long])])
    assert _read(engine) == ([], [])


def test_an_add_adds_to_what_is_stored(engine: sa.Engine) -> None:
    with Session(engine) as session, session.begin():
        write_together(session, [Insert(counts, [{"shard": 0, "count": 5}, {"shard": 1, "count": 0}])])
    with Session(engine) as session, session.begin():
        write_together(
            session, [Add(counts, ("shard",), [{"shard": 0, "count": 3}, {"shard": 1, "count": -2}])]
        )
        write_together(
            session, [Insert(people, _people()[:1]), Add(counts, ("shard",), [{"shard": 0, "count": 1}])]
        )
    with engine.connect() as c:
        assert c.execute(sa.select(counts.c.count).order_by(counts.c.shard)).scalars().all() == [9, -2]
