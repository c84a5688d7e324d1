"""`runway-donations serve|migrate|reprocess`."""

from __future__ import annotations

import argparse
from pathlib import Path

import sqlalchemy as sa

from runway_donations.adapters import tables
from runway_donations.bootstrap import create_app
from runway_donations.config import Settings
from runway_donations.service_layer.webhooks import process
from runway_runtime.cli import service_main
from runway_runtime.host import create_host
from runway_runtime.settings import CommonSettings

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def reprocess(settings: CommonSettings, argv: list[str]) -> int:
    """Apply stored webhook events again (applying is idempotent): after a fix, or a migration."""
    assert isinstance(settings, Settings)
    parser = argparse.ArgumentParser(prog="runway-donations reprocess", description=reprocess.__doc__)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every stored event, oldest first")
    which.add_argument("--status", choices=["received", "failed", "ignored", "processed"])
    parser.add_argument("--provider", choices=["stripe", "actblue", "anedot"])
    args = parser.parse_args(argv)
    host = create_host("donations", settings, settings.database_url, tables.outbox, tables.inbox)
    query = sa.select(tables.webhook_events.c.id).order_by(tables.webhook_events.c.received_at)
    if args.status:
        query = query.where(tables.webhook_events.c.status == args.status)
    if args.provider:
        query = query.where(tables.webhook_events.c.provider == args.provider)
    with host.sessions() as session:
        ids = list(session.scalars(query))
    outcomes: dict[str, int] = {}
    for event_id in ids:
        # Events staged here go out through the outbox when the service next runs.
        outcome = process(host.unit_of_work(), event_id, max_failures=settings.donations_max_failed_payments)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    host.engine.dispose()
    print(f"reprocessed {len(ids)} stored events: {outcomes}")
    return 0


main = service_main(
    "donations",
    load_settings=Settings,
    database_url=lambda s: s.database_url,  # type: ignore[attr-defined]
    default_port=lambda s: s.donations_port,  # type: ignore[attr-defined]
    create_app=create_app,  # type: ignore[arg-type]
    migrations=MIGRATIONS,
    extra_commands={"reprocess": reprocess},
)
