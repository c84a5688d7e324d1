"""Database engines and migrations for Runway services (each service its own database)."""

from runway_storage.engine import create_database_engine, database_reachable
from runway_storage.migrate import upgrade_to_head
from runway_storage.types import UtcDateTime
from runway_storage.upserts import (
    insert_if_absent,
    insert_many_if_absent,
    insert_selected_if_absent,
    inserted_keys,
    upsert,
    upsert_many,
    upserted_keys,
)

__all__ = [
    "create_database_engine",
    "database_reachable",
    "insert_if_absent",
    "insert_many_if_absent",
    "inserted_keys",
    "insert_selected_if_absent",
    "UtcDateTime",
    "upgrade_to_head",
    "upsert",
    "upsert_many",
    "upserted_keys",
]
