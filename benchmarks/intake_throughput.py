"""Intake benchmark: committed sign-ups per second and p99 latency, beside a bare FastAPI echo.

    .venv/bin/python -m benchmarks.intake_throughput --backend sqlite
    .venv/bin/python -m benchmarks.intake_throughput --backend postgresql

Starts a NATS server (the relay publishes as in production), a fresh database,
the echo reference and intake as separate processes, each with the same number
of serving processes (`--workers`, default 2), drives each on loopback,
then checks that every 202 is a committed submission. Results are written to
benchmarks/results/intake-<backend>.json and appended to intake.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

import sqlalchemy as sa

from benchmarks.harness import Harness, load_server, record_report, report_header, start
from benchmarks.loadgen import render
from runway_devstack.nats_server import free_port
from runway_devstack.processes import ManagedProcess

# A load test posts from one address: rate limits would only measure themselves.
UNLIMITED = {
    "RUNWAY_INTAKE_RATE_PER_IP_PER_MINUTE": "100000000",
    "RUNWAY_INTAKE_RATE_PER_FORM_PER_MINUTE": "100000000",
}


def signup_body(i: int, run_id: str) -> bytes:
    """Realistic traffic: about 1 in 10 sign-ups is a person signing up again."""
    rng = random.Random(i)
    person = rng.randrange(max(i, 1)) if i and rng.random() < 0.1 else i
    body = {
        "first_name": "Sam",
        "last_name": f"Lee{person}",
        "email": f"sam.{person}.{run_id}@example.org",
        "phone": f"+1785{2_000_000 + person % 7_000_000}",
        "zip": "66044",
        "interests": ["school_board", "housing"],
        "consent": {"email": True, "wording": "Email me about running."},
    }
    if rng.random() < 0.5:
        del body["phone"]
    return json.dumps(body).encode()


def measure(
    server: ManagedProcess,
    port: int,
    path: str,
    body: object,
    seconds: float,
    connections: int,
    rate: float | None,
) -> dict[str, object]:
    host = f"127.0.0.1:{port}"
    make = body if callable(body) else (lambda i: body)
    return load_server(
        server,
        port,
        lambda i: render("POST", path, host, make(i)),
        seconds=seconds,
        connections=connections,
        rate=rate,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--latency-rate", type=float, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="serving processes, for echo and intake")
    args = parser.parse_args()

    run_id = os.urandom(3).hex()
    harness = Harness(args.backend, "intake")
    echo_port, intake_port = free_port(), free_port()
    processes = []
    report = report_header(args, "benchmarks.intake_throughput")
    try:
        echo = start(
            "echo",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "benchmarks.echo_app:app",
                "--port",
                str(echo_port),
                "--log-level",
                "warning",
                "--no-access-log",
                "--workers",
                str(args.workers),
            ],
            {},
            harness.root,
            echo_port,
        )
        time.sleep(3)  # uvicorn answers as soon as its first worker is up; let the others start too
        processes.append(echo)
        report["echo"] = measure(
            echo, echo_port, "/echo", signup_body(1, run_id), args.seconds, args.connections, None
        )
        echo.stop()
        intake = harness.serve(intake_port, args.workers, UNLIMITED)
        report["intake_max"] = measure(
            intake,
            intake_port,
            "/v1/signups",
            lambda i: signup_body(i, run_id),
            args.seconds,
            args.connections,
            None,
        )
        offset = 10_000_000
        report["intake_at_rate"] = measure(
            intake,
            intake_port,
            "/v1/signups",
            lambda i: signup_body(offset + i, run_id),
            args.seconds,
            args.connections,
            args.latency_rate,
        )
        accepted = report["intake_max"]["accepted"] + report["intake_at_rate"]["accepted"]  # type: ignore[index,operator]
        engine = harness.databases.engine("intake")
        with engine.connect() as c:
            committed = c.execute(sa.text("SELECT count(*) FROM submissions")).scalar()
        engine.dispose()
        report["every_202_committed"] = committed == accepted
        report["committed_submissions"] = committed
        report["ratio_to_echo"] = round(
            report["intake_max"]["per_second"] / report["echo"]["per_second"],
            3,  # type: ignore[index,operator]
        )
    finally:
        for process in processes:
            process.stop()
        harness.close()
    record_report(f"intake-{args.backend}", report)


if __name__ == "__main__":
    main()
