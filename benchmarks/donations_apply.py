"""Donations applier benchmark: the cost of applying one stored webhook, without HTTP or NATS.

    .venv/bin/python -m benchmarks.donations_apply --backend sqlite
    .venv/bin/python -m benchmarks.donations_apply --backend postgresql

Stores `--events` realistic Stripe `invoice.paid` events (500 recurring donors, so most
payments are a known donor's next installment), then applies them in batches of 16, as
donations' applier does, in this one process. Reports wall and CPU time and SQL
statements per applied event, and checks every event reached the ledger once. Writes
benchmarks/results/donations-apply-<backend>.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from benchmarks.harness import record_report, report_header
from runway_devstack.testing import Databases

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "donations" / "tests"))
from donation_scenarios import DonationsDatabase  # noqa: E402
from provider_payloads import dumps, stripe_event, stripe_invoice  # noqa: E402

from runway_donations.adapters.tables import webhook_events  # noqa: E402
from runway_donations.service_layer.webhooks import (  # noqa: E402
    Incoming,
    ToApply,
    apply_batch,
    store_batch,
)

DONORS = 500
BATCH = 16  # the applier's max_batch (bootstrap.py)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    report = report_header(args, "benchmarks.donations_apply")
    with tempfile.TemporaryDirectory(prefix="runway-bench-apply-") as directory:
        databases = Databases(args.backend, Path(directory))
        db = DonationsDatabase(databases.urls["donations"])
        try:
            report.update(measure(db, args.events))
        finally:
            db.dispose()
            databases.drop()
    record_report(f"donations-apply-{args.backend}", report)


def measure(db: DonationsDatabase, events: int) -> dict[str, object]:
    incoming = []
    for i in range(events):
        donor = i % DONORS
        invoice = stripe_invoice(
            f"in_{i}", f"sub_{donor}", f"cus_{donor}", f"d{donor}@example.org", 2500, i // DONORS * 30
        )
        body = dumps(stripe_event(f"evt_{i}", "invoice.paid", invoice, i // DONORS * 30))
        incoming.append(Incoming("stripe", f"evt_{i}", "invoice.paid", body))
    for start in range(0, events, 256):
        with db.uow() as uow:
            store_batch(uow, incoming[start : start + 256])
            uow.commit()
    with db.engine.connect() as c:
        ids = list(c.scalars(sa.select(webhook_events.c.id).order_by(webhook_events.c.provider_event_id)))

    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    sa.event.listen(db.engine, "before_cursor_execute", count)
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, events, BATCH):
        with db.uow() as uow:
            batch = [ToApply(webhook_event_id) for webhook_event_id in ids[start : start + BATCH]]
            apply_batch(uow, batch, max_failures=3, inbox=None)
            uow.commit()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sa.event.remove(db.engine, "before_cursor_execute", count)
    ledger = db.rows("SELECT count(*), count(DISTINCT source_event_id) FROM ledger_entries")[0]
    return {
        "events": events,
        "donors": DONORS,
        "batch": BATCH,
        "ms_per_event_wall": round(wall / events * 1000, 3),
        "ms_per_event_cpu": round(cpu / events * 1000, 3),
        "events_per_second": round(events / wall, 1),
        "statements_per_event": round(statements / events, 2),
        "every_event_in_the_ledger_once": tuple(ledger) == (events, events),
    }


if __name__ == "__main__":
    main()
