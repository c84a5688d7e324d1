"""Insert-if-absent, one row or a few together: rows whose key is taken stay as they were."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_storage import insert_if_absent, insert_many_if_absent, inserted_keys
from runway_storage.upserts import ROWS_PER_INSERT

metadata = sa.MetaData()
aliases = sa.Table(
    "aliases",
    metadata,
    sa.Column("provider", sa.String(20), primary_key=True),
    sa.Column("alias", sa.String(50), primary_key=True),
    sa.Column("payment_ref", sa.String(50), nullable=False),
)


@pytest.fixture
def engine(engine_with: Callable[[sa.MetaData], sa.Engine]) -> sa.Engine:
    return engine_with(metadata)


def test_only_the_absent_rows_are_inserted(engine: sa.Engine) -> None:
    with Session(engine) as session, session.begin():
        assert insert_if_absent(
            session, aliases, {"provider": "stripe", "alias": "ch_1", "payment_ref": "in_1"}
        )
        assert not insert_if_absent(
            session, aliases, {"provider": "stripe", "alias": "ch_1", "payment_ref": "in_other"}
        )
        insert_many_if_absent(
            session,
            aliases,
            [
                {"provider": "stripe", "alias": alias, "payment_ref": ref}
                for alias, ref in (("ch_1", "in_other"), ("in_1", "in_1"), ("pi_1", "in_1"))
            ],
        )
        insert_many_if_absent(session, aliases, [])
    with engine.connect() as c:
        rows = c.execute(sa.select(aliases.c.alias, aliases.c.payment_ref).order_by(aliases.c.alias)).all()
    assert [tuple(r) for r in rows] == [("ch_1", "in_1"), ("in_1", "in_1"), ("pi_1", "in_1")]


def test_of_rows_sharing_a_key_in_one_call_the_first_is_kept(engine: sa.Engine) -> None:
    def row(alias: str, ref: str) -> dict[str, str]:
        return {"provider": "stripe", "alias": alias, "payment_ref": ref}

    with Session(engine) as session, session.begin():
        insert_many_if_absent(
            session, aliases, [row("ch_1", "in_first"), row("ch_2", "in_2"), row("ch_1", "in_x")]
        )
    with engine.connect() as c:
        rows = c.execute(sa.select(aliases.c.alias, aliases.c.payment_ref).order_by(aliases.c.alias)).all()
    assert [tuple(r) for r in rows] == [("ch_1", "in_first"), ("ch_2", "in_2")]


def test_inserted_keys_names_exactly_the_rows_inserted_across_chunks_and_repeats(engine: sa.Engine) -> None:
    def row(alias: str, ref: str) -> dict[str, str]:
        return {"provider": "stripe", "alias": alias, "payment_ref": ref}

    with Session(engine) as session, session.begin():
        assert inserted_keys(session, aliases, [row("ch_taken", "in_0")]) == {("stripe", "ch_taken")}
        twice = [row("ch_twice", "in_first"), row("ch_twice", "in_second")]  # in one statement
        assert inserted_keys(session, aliases, twice) == {("stripe", "ch_twice")}
    # More rows than one statement takes, a key already taken, and a key twice in the batch.
    rows = [row(f"ch_{i:04d}", "in_1") for i in range(ROWS_PER_INSERT + 40)]
    rows += [row("ch_taken", "in_1"), row("ch_0003", "in_again")]
    with Session(engine) as session, session.begin():
        inserted = inserted_keys(session, aliases, rows)
        assert inserted_keys(session, aliases, []) == set()
    assert inserted == {("stripe", f"ch_{i:04d}") for i in range(ROWS_PER_INSERT + 40)}
    with engine.connect() as c:
        stored = dict(c.execute(sa.select(aliases.c.alias, aliases.c.payment_ref)).tuples().all())
    assert len(stored) == ROWS_PER_INSERT + 42
    assert stored["ch_taken"] == "in_0" and stored["ch_0003"] == "in_1"
    assert stored["ch_twice"] in ("in_first", "in_second")


def test_any_row_count_is_written_exactly_by_a_few_statements_per_table(engine: sa.Engine) -> None:
    from runway_storage.upserts import ROW_COUNTS, _insert_rows_statement

    made_before = _insert_rows_statement.cache_info().currsize
    with Session(engine) as session, session.begin():
        for count in [*range(1, 70), 191, 193, 300]:
            rows = [
                {"provider": f"p{count}", "alias": f"a{i}", "payment_ref": "r"}
                if i % 2
                else {"payment_ref": "r", "alias": f"a{i}", "provider": f"p{count}"}  # another key order
                for i in range(count)
            ]
            assert inserted_keys(session, aliases, rows) == {(f"p{count}", f"a{i}") for i in range(count)}
            assert inserted_keys(session, aliases, rows[:3]) == set()  # padded with taken keys: none new
    with engine.connect() as c:
        assert (
            c.scalar(sa.select(sa.func.count()).select_from(aliases)) == sum(range(1, 70)) + 191 + 193 + 300
        )
    assert _insert_rows_statement.cache_info().currsize - made_before <= len(ROW_COUNTS)
