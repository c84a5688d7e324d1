"""Database engines and migrations for Runway services (each service its own database)."""

from runway_storage.engine import create_database_engine, database_reachable
from runway_storage.migrate import upgrade_to_head

__all__ = ["create_database_engine", "database_reachable", "upgrade_to_head"]
