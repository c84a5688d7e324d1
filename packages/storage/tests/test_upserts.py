"""Upserting many rows at once writes what upserting them one by one, in order, writes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from runway_storage import upsert, upsert_many, upserted_keys

metadata = sa.MetaData()


def _people(name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("person_id", sa.String(10), primary_key=True),
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("details", sa.JSON),
        sa.Column("merged_into", sa.String(10)),
    )


one_by_one, together = _people("people_one_by_one"), _people("people_together")


@pytest.fixture
def engine(engine_with: Callable[[sa.MetaData], sa.Engine]) -> sa.Engine:
    return engine_with(metadata)


ids = st.sampled_from(["a", "b", "c", "d", "e"])
stored_rows = st.dictionaries(ids, st.booleans(), max_size=4)  # person: merged away?
written_rows = st.lists(
    st.fixed_dictionaries(
        {"person_id": ids, "name": st.sampled_from(["Ann", "Bo", "Cy"]), "details": st.just({"n": 1})}
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(stored=stored_rows, rows=written_rows, many=st.integers(0, 40))
def test_upserted_keys_writes_what_upsert_writes_row_by_row(
    engine: sa.Engine, stored: dict[str, bool], rows: list[dict[str, object]], many: int
) -> None:
    # `many` more distinct rows make the runs cross the statement sizes (1, 2, 3, 4, 6, 8, …).
    rows = rows + [{"person_id": f"n{i}", "name": "Dee", "details": None} for i in range(many)]
    with Session(engine) as session, session.begin():
        for table in (one_by_one, together):
            session.execute(table.delete())
            for person, merged in stored.items():
                session.execute(
                    table.insert().values(person_id=person, name="Old", merged_into="z" if merged else None)
                )
        expected = set()
        for row in rows:
            if upsert(session, one_by_one, row, key=["person_id"], unless_set="merged_into"):
                expected.add((row["person_id"],))
        written = upserted_keys(session, together, rows, key=["person_id"], unless_set="merged_into")

        def contents(table: sa.Table) -> list[tuple[object, ...]]:
            columns = (table.c.person_id, table.c.name, table.c.details, table.c.merged_into)
            return [tuple(r) for r in session.execute(sa.select(*columns).order_by(table.c.person_id))]

        assert written == expected
        assert contents(together) == contents(one_by_one)


def test_a_later_row_for_a_key_wins_and_nothing_is_written_for_no_rows(engine: sa.Engine) -> None:
    with Session(engine) as session, session.begin():
        assert upserted_keys(session, together, [], key=["person_id"]) == set()
        written = upserted_keys(
            session,
            together,
            [
                {"person_id": "a", "name": "First", "details": None},
                {"person_id": "b", "name": "Bo", "details": None},
                {"person_id": "a", "name": "Last", "details": None},
            ],
            key=["person_id"],
        )
        names = dict(session.execute(sa.select(together.c.person_id, together.c.name)).tuples().all())
    assert written == {("a",), ("b",)}
    assert names == {"a": "Last", "b": "Bo"}


def test_upsert_many_inserts_new_rows_and_updates_stored_ones(engine: sa.Engine) -> None:
    with Session(engine) as session, session.begin():
        session.execute(together.delete())
        session.execute(together.insert().values(person_id="a", name="Old", details={"n": 0}))
        upsert_many(
            session,
            together,
            [
                {"person_id": "a", "name": "Ann", "details": {"n": 1}},
                {"person_id": "b", "name": "Bo", "details": None},
            ],
            key=["person_id"],
        )
        upsert_many(session, together, [], key=["person_id"])
        stored = session.execute(
            sa.select(together.c.person_id, together.c.name, together.c.details).order_by(
                together.c.person_id
            )
        ).all()
    assert [tuple(r) for r in stored] == [("a", "Ann", {"n": 1}), ("b", "Bo", None)]
