"""Run a service's Alembic migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from runway_storage.engine import create_database_engine


def upgrade_to_head(engine: Engine, script_location: Path, revision: str = "head") -> None:
    """Apply every pending migration (up to `revision`) in one transaction: all of them, or none.

    On SQLite the migration runs on an engine that issues BEGIN itself
    (pysqlite's own handling would commit each CREATE/ALTER on the spot, so a
    failing migration would leave half a schema behind).
    """
    if engine.dialect.name == "sqlite":
        engine = create_database_engine(engine.url.render_as_string(hide_password=False), immediate=True)
    config = Config()
    config.set_main_option("script_location", str(script_location))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if engine.dialect.name == "sqlite":
            engine.dispose()
