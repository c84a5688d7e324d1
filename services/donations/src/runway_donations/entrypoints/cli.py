"""`runway-donations serve|migrate`."""

from __future__ import annotations

from pathlib import Path

from runway_donations.bootstrap import create_app
from runway_donations.config import Settings
from runway_runtime.cli import service_main

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"

main = service_main(
    "donations",
    load_settings=Settings,
    database_url=lambda s: s.database_url,  # type: ignore[attr-defined]
    default_port=lambda s: s.donations_port,  # type: ignore[attr-defined]
    create_app=create_app,  # type: ignore[arg-type]
    migrations=MIGRATIONS,
)
