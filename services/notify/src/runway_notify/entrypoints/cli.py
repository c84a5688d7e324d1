"""`runway-notify serve|migrate`."""

from __future__ import annotations

from pathlib import Path

from runway_notify.bootstrap import create_app
from runway_notify.config import Settings
from runway_runtime.cli import service_main

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"

main = service_main(
    "notify",
    load_settings=Settings,
    database_url=lambda s: s.database_url,  # type: ignore[attr-defined]
    default_port=lambda s: s.notify_port,  # type: ignore[attr-defined]
    create_app=create_app,  # type: ignore[arg-type]
    migrations=MIGRATIONS,
)
