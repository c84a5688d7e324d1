"""`runway-matching serve|migrate|load-sample|import|import-boundaries`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from runway_eventbus.outbox import Outbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters import sample_catalog, tables
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.adapters.race_files import UnreadableFile, csv_rows, vip_rows
from runway_matching.bootstrap import create_app
from runway_matching.config import Settings
from runway_matching.service_layer.boundary_import import import_boundaries
from runway_matching.service_layer.catalog import import_catalog, import_races
from runway_runtime.cli import service_main
from runway_runtime.settings import CommonSettings
from runway_storage import create_database_engine

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"
READERS = {"csv": csv_rows, "vip": vip_rows}


def _unit_of_work(settings: CommonSettings) -> UnitOfWork:
    # Events staged here go out through the running service's relay, which polls its outbox.
    engine = create_database_engine(settings.database_url)  # type: ignore[attr-defined]
    return UnitOfWork(sessionmaker(engine), Outbox(tables.outbox, source="/runway/matching"), lambda: None)


def load_sample(settings: CommonSettings, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="runway-matching load-sample")
    parser.add_argument("--states", help="comma-separated state codes (default: every state)")
    args = parser.parse_args(argv)
    states = {s.strip().lower() for s in args.states.split(",")} if args.states else None
    divisions = GeographyIndex.load().divisions
    records = list(sample_catalog.generate(divisions, states))
    # Not published: nobody is told about illustrative races appearing.
    report = import_races(_unit_of_work(settings), records, divisions, datetime.now(UTC), publish=False)
    print(
        f"matching: sample catalog loaded ({report.created} new, {report.updated} updated, "
        f"{report.unchanged} unchanged; sample data, dates illustrative)"
    )
    return 0


def import_file(settings: CommonSettings, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="runway-matching import", description="Import races (all or nothing); prints the report as JSON."
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--format", choices=sorted(READERS), help="default: from the file name (.csv, .xml)")
    parser.add_argument("--source", required=True, help="where the races come from, e.g. ks-sos")
    args = parser.parse_args(argv)
    kind = args.format or ("vip" if args.file.suffix.lower() == ".xml" else "csv")
    divisions = GeographyIndex.load().divisions
    rows = READERS[kind](args.file.read_bytes())
    try:
        report = import_catalog(_unit_of_work(settings), rows, args.source, divisions, datetime.now(UTC))
    except UnreadableFile as error:
        print(json.dumps({"applied": False, "file_error": str(error)}), file=sys.stderr)
        return 1
    print(
        json.dumps(report.as_dict(error_limit=len(report.errors)), indent=2),
        file=sys.stdout if report.applied else sys.stderr,
    )
    return 0 if report.applied else 1


def import_boundaries_file(settings: CommonSettings, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="runway-matching import-boundaries",
        description="Import district boundaries from a GeoJSON FeatureCollection (restart matching to use them).",
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--id-property", default="ocd_id", help="the feature property holding the OCD id")
    args = parser.parse_args(argv)
    engine = create_database_engine(settings.database_url)  # type: ignore[attr-defined]
    divisions = GeographyIndex.load().divisions
    with Session(engine) as session, session.begin():
        try:
            written, errors = import_boundaries(
                session,
                args.file.read_bytes(),
                divisions,
                args.file.name,
                datetime.now(UTC),
                args.id_property,
            )
        except UnreadableFile as error:
            print(json.dumps({"applied": False, "file_error": str(error)}), file=sys.stderr)
            return 1
        if errors:
            print(
                json.dumps({"applied": False, "errors": [e.__dict__ for e in errors]}, indent=2),
                file=sys.stderr,
            )
            return 1
    print(json.dumps({"applied": True, "boundaries": written}))
    return 0


main = service_main(
    "matching",
    load_settings=Settings,
    database_url=lambda s: s.database_url,  # type: ignore[attr-defined]
    default_port=lambda s: s.matching_port,  # type: ignore[attr-defined]
    create_app=create_app,  # type: ignore[arg-type]
    migrations=MIGRATIONS,
    extra_commands={
        "load-sample": load_sample,
        "import": import_file,
        "import-boundaries": import_boundaries_file,
    },
)
