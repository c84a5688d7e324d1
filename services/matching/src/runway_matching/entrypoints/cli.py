"""`runway-matching serve|migrate|load-sample`."""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy.orm import Session

from runway_matching.adapters import sample_catalog
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.bootstrap import create_app
from runway_matching.config import Settings
from runway_runtime.cli import service_main
from runway_runtime.settings import CommonSettings
from runway_storage import create_database_engine

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def load_sample(settings: CommonSettings, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="runway-matching load-sample")
    parser.add_argument("--states", help="comma-separated state codes (default: every state)")
    args = parser.parse_args(argv)
    states = {s.strip().lower() for s in args.states.split(",")} if args.states else None
    engine = create_database_engine(settings.database_url)  # type: ignore[attr-defined]
    with Session(engine) as session, session.begin():
        written = sample_catalog.load(session, GeographyIndex.load().divisions, states)
    print(f"matching: sample catalog loaded ({written} new races; sample data, dates illustrative)")
    return 0


main = service_main(
    "matching",
    load_settings=Settings,
    database_url=lambda s: s.database_url,  # type: ignore[attr-defined]
    default_port=lambda s: s.matching_port,  # type: ignore[attr-defined]
    create_app=create_app,  # type: ignore[arg-type]
    migrations=MIGRATIONS,
    extra_commands={"load-sample": load_sample},
)
