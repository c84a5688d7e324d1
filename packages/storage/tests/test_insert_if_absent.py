"""Insert-if-absent, one row or a few together: rows whose key is taken stay as they were."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_devstack.testing import Databases, require_backend
from runway_storage import insert_each_if_absent, insert_if_absent

metadata = sa.MetaData()
aliases = sa.Table(
    "aliases",
    metadata,
    sa.Column("provider", sa.String(20), primary_key=True),
    sa.Column("alias", sa.String(50), primary_key=True),
    sa.Column("payment_ref", sa.String(50), nullable=False),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    require_backend(request.param)
    databases = Databases(request.param, tmp_path)
    engine = databases.engine("donations")
    metadata.create_all(engine)
    yield engine
    engine.dispose()
    databases.drop()


def test_only_the_absent_rows_are_inserted(engine: sa.Engine) -> None:
    with Session(engine) as session, session.begin():
        assert insert_if_absent(
            session, aliases, {"provider": "stripe", "alias": "ch_1", "payment_ref": "in_1"}
        )
        assert not insert_if_absent(
            session, aliases, {"provider": "stripe", "alias": "ch_1", "payment_ref": "in_other"}
        )
        insert_each_if_absent(
            session,
            aliases,
            [
                {"provider": "stripe", "alias": alias, "payment_ref": ref}
                for alias, ref in (("ch_1", "in_other"), ("in_1", "in_1"), ("pi_1", "in_1"))
            ],
        )
        insert_each_if_absent(session, aliases, [])
    with engine.connect() as c:
        rows = c.execute(sa.select(aliases.c.alias, aliases.c.payment_ref).order_by(aliases.c.alias)).all()
    assert [tuple(r) for r in rows] == [("ch_1", "in_1"), ("in_1", "in_1"), ("pi_1", "in_1")]
