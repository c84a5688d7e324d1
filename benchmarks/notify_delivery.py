"""Notify benchmark: emails rendered and accepted by a local SMTP server per second, and the
latency from a `matching.lead.matched.v1` event to SMTP acceptance at a fixed rate.

    .venv/bin/python -m benchmarks.notify_delivery --backend sqlite
    .venv/bin/python -m benchmarks.notify_delivery --backend postgresql

Starts NATS, a fresh database, notify and an SMTP server in its own process
(benchmarks/smtp_counter.py, which logs the time each message is accepted).

1. Throughput: publishes `--leads` new-lead events (`intake.lead.received.v1`,
   email consent given) as fast as JetStream takes them; each becomes one
   welcome email. Emails/s = leads / (last acceptance − first publish).
2. Latency: publishes `matching.lead.matched.v1` for those leads at each of
   `--rates` events/s for `--seconds`; latency = SMTP acceptance − publish
   time, per lead.

Checks every message arrived exactly once. Writes benchmarks/results/notify-<backend>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import nats
import sqlalchemy as sa

from benchmarks.harness import Harness, record_report, report_header
from runway_contracts import CloudEvent
from runway_contracts.intake import ChannelConsent, LeadReceived, LeadView
from runway_contracts.matching import LeadMatched, RaceSummary
from runway_devstack.nats_server import free_port

CONSENT = ChannelConsent(granted=True, recorded_at=datetime(2026, 1, 1, tzinfo=UTC), wording="Email me.")
RACES = [
    RaceSummary(
        race_id=f"race-{n}",
        office_name=f"Lawrence City Council seat {n}",
        level="city",
        division_id="ocd-division/country:us/state:ks/place:lawrence",
        division_name="Lawrence, KS",
        election_date=date(2027, 11, 2),
        reason="You live in Lawrence, KS.",
        sample_data=True,
    )
    for n in range(5)
]


def envelope(event: LeadReceived | LeadMatched, subject_id: str) -> bytes:
    return (
        CloudEvent(
            id=str(uuid.uuid4()),
            source="/runway/benchmark",
            type=event.TYPE,
            subject=subject_id,
            time=datetime.now(UTC),
            data=event.model_dump(mode="json"),
        )
        .model_dump_json()
        .encode()
    )


def address(run_id: str, i: int) -> str:
    return f"lead{i}-{run_id}@example.org"


async def publish_leads(url: str, run_id: str, count: int) -> float:
    nc = await nats.connect(url)
    js = nc.jetstream()
    began = time.time()
    pending = []
    for i in range(count):
        view = LeadView(
            lead_id=f"{run_id}-{i}",
            first_name="Maya",
            email=address(run_id, i),
            postal_code="66044",
            email_consent=CONSENT,
        )
        event = LeadReceived(
            submission_id=f"s{i}",
            form_key="signup",
            is_new_lead=True,
            received_at=datetime.now(UTC),
            lead=view,
        )
        pending.append(js.publish(event.TYPE, envelope(event, view.lead_id)))
        if len(pending) == 500:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)
    await nc.close()
    return began


async def publish_matches(
    url: str, run_id: str, offset: int, rate: float, seconds: float
) -> dict[str, float]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    sent: dict[str, float] = {}
    began = time.perf_counter()
    for n in range(int(rate * seconds)):
        i = offset + n
        delay = began + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        event = LeadMatched(
            lead_id=f"{run_id}-{i}",
            postal_code="66044",
            location_resolved=True,
            location_summary="Douglas County, KS",
            total_races=len(RACES),
            races=RACES,
            matched_at=datetime.now(UTC),
        )
        sent[address(run_id, i)] = time.time()
        await js.publish(event.TYPE, envelope(event, event.lead_id))
    await nc.close()
    return sent


def accepted(log: Path) -> list[tuple[float, str, str]]:
    if not log.exists():
        return []
    rows = []
    for line in log.read_text().splitlines():
        at, recipient, kind = line.split("\t")[:3]
        rows.append((float(at), recipient, kind))
    return rows


def wait_for_count(log: Path, kind: str, count: int, timeout: float) -> list[tuple[float, str, str]]:
    deadline = time.time() + timeout
    while True:
        rows = [r for r in accepted(log) if r[2] == kind]
        if len(rows) >= count or time.time() > deadline:
            return rows
        time.sleep(0.5)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument(
        "--rates", default="100,200", help="offered matched events/s for the latency runs, comma-separated"
    )
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--smtp-connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="notify serving processes")
    args = parser.parse_args()
    run_id = os.urandom(3).hex()
    harness = Harness(args.backend, "notify")
    report = report_header(args, "benchmarks.notify_delivery")
    smtp_port, port = free_port(), free_port()
    log = harness.root / "smtp-accepted.tsv"
    sink: subprocess.Popen[bytes] | None = None
    try:
        sink = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.smtp_counter", "--port", str(smtp_port), "--out", str(log)],
            cwd=Path(__file__).resolve().parents[1],
        )
        time.sleep(1.0)
        harness.serve(
            port,
            args.workers,
            {
                "RUNWAY_SMTP_HOST": "127.0.0.1",
                "RUNWAY_SMTP_PORT": str(smtp_port),
                "RUNWAY_SMTP_CONNECTIONS": str(args.smtp_connections),
            },
        )
        began = asyncio.run(publish_leads(harness.nats.url, run_id, args.leads))
        published = time.time() - began
        rows = wait_for_count(log, "welcome", args.leads, timeout=600)
        last = max(at for at, _, _ in rows)
        report["throughput"] = {
            "emails": len(rows),
            "distinct_recipients": len({r for _, r, _ in rows}),
            "publish_seconds": round(published, 2),
            "seconds_to_last_acceptance": round(last - began, 2),
            "emails_per_second": round(len(rows) / (last - began), 1),
        }
        print("throughput:", report["throughput"], flush=True)
        # Latency is measured in a steady state: first let notify publish the sent-events the
        # throughput run left in its outbox, as it would between bursts.
        drained = time.time()
        engine = harness.databases.engine("notify")
        with engine.connect() as connection:
            while connection.execute(
                sa.text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            ).scalar():
                connection.rollback()
                time.sleep(1)
        engine.dispose()
        report["throughput"]["outbox_drained_after_seconds"] = round(time.time() - drained, 1)
        report["latency"] = []
        offset = 0
        for rate in [float(r) for r in args.rates.split(",")]:
            sent = asyncio.run(publish_matches(harness.nats.url, run_id, offset, rate, args.seconds))
            offset += len(sent)
            rows = [r for r in wait_for_count(log, "races_near_you", offset, timeout=300) if r[1] in sent]
            arrivals = {r: at for at, r, _ in rows}
            latencies = [(arrivals[a] - t) * 1000 for a, t in sent.items() if a in arrivals]
            counts = Counter(r for _, r, _ in rows)
            result = {
                "offered_rate": rate,
                "events": len(sent),
                "emails": len(rows),
                "sent_twice": sum(1 for c in counts.values() if c > 1),
                "p50_ms": round(percentile(latencies, 50), 1),
                "p95_ms": round(percentile(latencies, 95), 1),
                "p99_ms": round(percentile(latencies, 99), 1),
                "max_ms": round(max(latencies), 1),
            }
            report["latency"].append(result)
            print("latency:", result, flush=True)
    finally:
        harness.close()
        if sink is not None:
            sink.terminate()
            sink.wait(10)
    record_report(f"notify-{args.backend}", report)


if __name__ == "__main__":
    main()
