"""A migration that fails leaves the database exactly as it was."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from runway_devstack.testing import Databases, require_backend
from runway_storage import create_database_engine, upgrade_to_head

ENV = """
from runway_storage.alembic_env import run_migrations
run_migrations()
"""
FIRST = """
import sqlalchemy as sa
from alembic import op
revision = "0001"
down_revision = None
def upgrade():
    op.create_table("kept", sa.Column("id", sa.Integer, primary_key=True))
def downgrade():
    op.drop_table("kept")
"""
SECOND = """
import sqlalchemy as sa
from alembic import op
revision = "0002"
down_revision = "0001"
def upgrade():
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("kept", sa.Column("note", sa.String(10)))
    op.execute("SELECT * FROM no_such_table")  # fails after two changes
def downgrade():
    pass
"""


def scripts(root: Path, *revisions: str) -> Path:
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(ENV)
    (root / "script.py.mako").write_text("")
    for i, text in enumerate(revisions):
        (root / "versions" / f"{i:04d}.py").write_text(text)
    return root


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_failing_migration_leaves_no_half_applied_schema(backend: str, tmp_path: Path) -> None:
    require_backend(backend)
    databases = Databases(backend, tmp_path)
    engine = databases.engine("intake")
    try:
        upgrade_to_head(engine, scripts(tmp_path / "one", FIRST))
        with pytest.raises(sa.exc.SQLAlchemyError):
            upgrade_to_head(engine, scripts(tmp_path / "two", FIRST, SECOND))
        inspector = sa.inspect(create_database_engine(databases.urls["intake"]))
        assert "half_done" not in inspector.get_table_names()
        assert [c["name"] for c in inspector.get_columns("kept")] == ["id"]
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    finally:
        engine.dispose()
        databases.drop()
