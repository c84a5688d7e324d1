"""Replay 250,000 sign-ups (about 1 in 10 a person signing up again), timed end to end.

    .venv/bin/python -m benchmarks.intake_replay --backend sqlite
    .venv/bin/python -m benchmarks.intake_replay --backend postgresql

Starts NATS, a fresh database and intake (`--workers` serving processes), posts
every sign-up as fast as intake answers, then waits until every event is in
JetStream. "End to end" is the time from the first request until the last
sign-up's `intake.lead.received.v1` is acknowledged by JetStream. Then it checks
the outcome: every sign-up 202, one submission each, one lead per distinct
person, the compliance count equal to it, one event per sign-up in the stream.
Writes benchmarks/results/intake-replay-<backend>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time

import httpx
import nats
import sqlalchemy as sa

from benchmarks.harness import Harness, record_report, report_header
from benchmarks.intake_throughput import UNLIMITED, signup_body
from benchmarks.loadgen import client_loop, render, run
from runway_devstack.nats_server import free_port


def distinct_people(total: int) -> int:
    """The people among `total` sign-ups, by the same rule that `signup_body` draws them."""
    people = set()
    for i in range(total):
        rng = random.Random(i)
        people.add(rng.randrange(max(i, 1)) if i and rng.random() < 0.1 else i)
    return len(people)


async def stream_count(url: str, stream: str) -> int:
    nc = await nats.connect(url)
    try:
        return int((await nc.jetstream().stream_info(stream)).state.messages)
    finally:
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--leads", type=int, default=250_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()

    run_id = os.urandom(3).hex()
    harness = Harness(args.backend, "intake")
    port = free_port()
    expected_people = distinct_people(args.leads)
    report = report_header(args, "benchmarks.intake_replay") | {"distinct_people": expected_people}
    engine = harness.databases.engine("intake")
    try:
        harness.serve(port, args.workers, UNLIMITED)
        host = f"127.0.0.1:{port}"
        began = time.perf_counter()
        posted = client_loop(
            run(
                "127.0.0.1",
                port,
                lambda i: render("POST", "/v1/signups", host, signup_body(i, run_id)),
                seconds=3600,
                connections=args.connections,
                total=args.leads,
            )
        )
        accepted_after = time.perf_counter() - began
        while True:
            with engine.connect() as c:
                pending = c.execute(
                    sa.text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                ).scalar()
            if not pending:
                break
            time.sleep(0.2)
        published_after = time.perf_counter() - began
        with engine.connect() as c:
            submissions = c.execute(sa.text("SELECT count(*) FROM submissions")).scalar()
            leads = c.execute(sa.text("SELECT count(*) FROM leads")).scalar()
        unique = httpx.get(
            f"http://{host}/v1/compliance/unique-leads", headers={"Authorization": "Bearer dev-admin-token"}
        ).json()["unique_leads"]
        in_stream = asyncio.run(stream_count(harness.nats.url, "INTAKE"))
        report |= {
            "requests": posted.summary(),
            "all_accepted_seconds": round(accepted_after, 1),
            "end_to_end_seconds": round(published_after, 1),
            "end_to_end_per_second": round(args.leads / published_after, 1),
            "checks": {
                "every_request_202": posted.statuses == {202: args.leads},
                "submissions": submissions,
                "leads": leads,
                "leads_equal_distinct_people": leads == expected_people,
                "compliance_unique_leads": unique,
                "events_in_stream": in_stream,
                "one_event_per_sign_up": in_stream == args.leads,
            },
        }
    finally:
        engine.dispose()
        harness.close()
    record_report(f"intake-replay-{args.backend}", report)


if __name__ == "__main__":
    main()
