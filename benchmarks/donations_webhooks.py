"""Donations benchmark: verified Stripe webhook events accepted per second, and p99 latency.

    .venv/bin/python -m benchmarks.donations_webhooks --backend sqlite
    .venv/bin/python -m benchmarks.donations_webhooks --backend postgresql

Starts NATS, a fresh database and donations (`--workers` serving processes),
posts realistic `invoice.paid` events, each freshly signed, as fast as
donations answers (closed loop), then at a fixed rate (open loop, latency from
the scheduled time); then checks that every 200 is exactly one stored event and
waits until every stored event has been applied. Writes
benchmarks/results/donations-<backend>.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from benchmarks.harness import Harness, load_server, record_report, report_header
from benchmarks.loadgen import render
from runway_devstack.nats_server import free_port
from runway_devstack.processes import ManagedProcess

SECRET = "whsec_benchmark"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "donations" / "tests"))
from provider_payloads import dumps, stripe_event, stripe_invoice, stripe_signature  # noqa: E402


def request(i: int, host: str, run_id: str) -> bytes:
    invoice = stripe_invoice(
        f"in_{run_id}_{i}", f"sub_{run_id}_{i % 5000}", f"cus_{i % 5000}", f"d{i % 5000}@example.org", 2500, 0
    )
    body = dumps(stripe_event(f"evt_{run_id}_{i}", "invoice.paid", invoice, 0))
    signature = stripe_signature(body, SECRET, int(time.time()))
    return render("POST", "/v1/webhooks/stripe", host, body, headers={"Stripe-Signature": signature})


def measure(
    server: ManagedProcess,
    port: int,
    run_id: str,
    offset: int,
    seconds: float,
    connections: int,
    rate: float | None,
) -> dict[str, object]:
    host = f"127.0.0.1:{port}"
    return load_server(
        server,
        port,
        lambda i: request(offset + i, host, run_id),
        seconds=seconds,
        connections=connections,
        rate=rate,
        ok_statuses=(200,),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=1500, help="offered events/s for the latency run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--apply-timeout", type=float, default=120, help="seconds to wait for the backlog")
    args = parser.parse_args()

    run_id = os.urandom(3).hex()
    harness = Harness(args.backend, "donations")
    port = free_port()
    report = report_header(args, "benchmarks.donations_webhooks")
    engine = harness.databases.engine("donations")
    try:
        server = harness.serve(port, args.workers, {"RUNWAY_STRIPE_WEBHOOK_SECRET": SECRET})
        report["max"] = measure(server, port, run_id, 0, args.seconds, args.connections, None)
        print("max:", report["max"], flush=True)
        report["at_rate"] = measure(
            server, port, run_id, 10_000_000, args.seconds, args.connections, args.rate
        )
        print("at rate:", report["at_rate"], flush=True)
        report["offered_rate"] = args.rate
        accepted = report["max"]["accepted"] + report["at_rate"]["accepted"]  # type: ignore[index,operator]
        began = time.perf_counter()
        while True:
            with engine.connect() as c:
                stored = c.execute(sa.text("SELECT count(*) FROM webhook_events")).scalar()
                waiting = c.execute(
                    sa.text("SELECT count(*) FROM webhook_events WHERE status = 'received'")
                ).scalar()
                ledger = c.execute(sa.text("SELECT count(*) FROM ledger_entries")).scalar()
            if not waiting or time.perf_counter() - began > args.apply_timeout:
                break
            time.sleep(1)
        report["still_to_apply"] = waiting
        report["every_200_stored_once"] = stored == accepted
        report["stored_events"] = stored
        report["applied_after_load_seconds"] = round(time.perf_counter() - began, 1)
        report["ledger_entries"] = ledger
    finally:
        engine.dispose()
        harness.close()
    record_report(f"donations-{args.backend}", report)


if __name__ == "__main__":
    main()
