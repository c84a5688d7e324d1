"""`CoreSession` runs Core statements on its transaction's connection, answering exactly as
`Session` does, and leaves to `Session` whatever the ORM would act on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from runway_storage.sessions import CoreSession, core_sessions

metadata = sa.MetaData()
people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("joined_at", sa.DateTime(timezone=True)),
    sa.Column("details", sa.JSON),
)
ROWS = [
    {"id": 1, "name": "Ann", "joined_at": datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC), "details": {"a": [1]}},
    {"id": 2, "name": "Bo", "joined_at": None, "details": None},
]
BY_NAME = sa.select(people).where(people.c.name == sa.bindparam("name"))


@pytest.fixture
def engine(engine_with: Callable[[sa.MetaData], sa.Engine]) -> sa.Engine:
    return engine_with(metadata)


def _answers(session: Session) -> list[Any]:
    session.execute(people.insert(), ROWS)  # executemany
    return [
        [r._asdict() for r in session.execute(sa.select(people).order_by(people.c.id))],
        session.execute(BY_NAME, {"name": "Ann"}).mappings().one()["details"],
        session.scalar(sa.select(sa.func.count()).select_from(people)),
        session.scalar(sa.select(people.c.name).where(people.c.id == 3)),
        list(session.scalars(sa.select(people.c.name).order_by(people.c.name.desc()))),
        session.execute(sa.text("SELECT name FROM people WHERE id = :id"), {"id": 2}).scalar_one(),
        session.execute(people.update().where(people.c.id == 2).values(name="Bea")).rowcount,
    ]


def test_answers_as_a_plain_session_does(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with Session(engine) as plain:
        expected = _answers(plain)
        plain.rollback()
    # The short way taken: the ORM's execution path is not entered for Core statements.
    monkeypatch.setattr(Session, "_execute_internal", _refuse)
    with core_sessions(engine)() as session:
        assert isinstance(session, CoreSession)
        assert _answers(session) == expected
        session.rollback()  # on the session's own transaction: nothing was kept
    with engine.connect() as c:
        assert c.scalar(sa.select(sa.func.count()).select_from(people)) == 0


def test_what_the_orm_would_act_on_still_goes_through_it(engine: sa.Engine) -> None:
    sessions = core_sessions(engine)
    seen: list[str] = []

    with sessions() as session, session.begin():
        session.execute(people.insert(), ROWS)
        # Execution options: Session applies them.
        assert session.execute(BY_NAME, {"name": "Bo"}, execution_options={"yield_per": 1}).one().id == 2

    def note(state: ORMExecuteState) -> None:
        seen.append(type(state.statement).__name__)

    with sessions() as session:
        event.listen(session, "do_orm_execute", note)
        assert session.scalar(sa.select(sa.func.count()).select_from(people)) == 2
        assert list(session.scalars(sa.select(people.c.id).order_by(people.c.id))) == [1, 2]
    assert seen == ["Select", "Select"]  # a listener sees every statement, as with Session


def _refuse(*_: object, **__: object) -> None:
    raise AssertionError("a Core statement went through the ORM's execution path")
