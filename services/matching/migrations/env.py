from runway_matching.adapters.tables import metadata
from runway_storage.alembic_env import run_migrations

run_migrations(metadata)
