"""The load harness: the whole of Runway on this machine, driven as its users drive it.

    .venv/bin/python -m benchmarks.pipeline.run --backend sqlite --rate 300 --seconds 600

Starts NATS, the four services (`--workers` serving processes each), an SMTP server that
logs when it accepts each message (benchmarks/smtp_counter.py) and the observer
(benchmarks/pipeline/observe.py); registers three forms; then for `--seconds` sends
sign-ups at `--rate` a second through those forms (every tenth a person signing up again
on another form), race lookups at `--lookups` and signed Stripe `invoice.paid` webhooks at
`--webhooks`, open loop (latency from the scheduled time). It then waits for the system to
settle, runs the checker (benchmarks/pipeline/checker.py) and writes a report with plots
to `--out` (default benchmarks/results/pipeline/<backend>-<rate>).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from tempfile import mkdtemp

import httpx
import nats

from benchmarks.harness import RESULTS, report_header
from benchmarks.loadgen import run as drive
from benchmarks.pipeline import report
from benchmarks.pipeline.checker import Accepted, check
from benchmarks.pipeline.workload import FORMS, lookup_request, signup_request, stripe_request
from runway_devstack.nats_server import free_port
from runway_devstack.processes import ManagedProcess
from runway_devstack.testing import DEFINITIONS, Stack, wait_for
from runway_runtime.settings import DEV_ADMIN_TOKEN

SERVICES = ("intake", "matching", "notify", "donations")


def start_system(root: Path, backend: str, workers: int, smtp_log: Path) -> tuple[Stack, ManagedProcess]:
    stack = Stack(root, backend)
    stack.definitions.write_text(DEFINITIONS.read_text())  # production consumer timing, not the tests'
    smtp_port = free_port()
    smtp = ManagedProcess(
        "smtp counter",
        [sys.executable, "-m", "benchmarks.smtp_counter", "--port", str(smtp_port), "--out", str(smtp_log)],
        {},
        root / "logs" / "smtp.log",
    )
    smtp.start()
    stack.extra_env["notify"] = {"RUNWAY_SMTP_PORT": str(smtp_port), "RUNWAY_SMTP_CONNECTIONS": "8"}
    stack.start(services=())
    for service in SERVICES:
        stack.start_service(service, workers)
    return stack, smtp


def register_forms(stack: Stack) -> None:
    for key, spec in FORMS.items():
        response = httpx.post(
            f"{stack.url('intake')}/v1/admin/forms",
            json={"key": key, "name": key.replace("-", " ").title(), "owner": "Runway", **spec},
            headers={"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"},
            timeout=10,
        )
        response.raise_for_status()


async def load(stack: Stack, run_id: str, args: argparse.Namespace, accepted: Accepted) -> dict[str, object]:
    def on_signup(i: int, status: int, _took: float) -> None:
        if 200 <= status < 300:
            accepted.signups[i] = time.time()
        else:
            accepted.unanswered_signups.add(i)

    def on_webhook(i: int, status: int, _took: float) -> None:
        (accepted.webhooks if status == 200 else accepted.unanswered_webhooks).add(i)

    intake, matching, donations = (stack.ports[s] for s in ("intake", "matching", "donations"))
    signups, lookups, webhooks = await asyncio.gather(
        drive(
            "127.0.0.1",
            intake,
            lambda i: signup_request(run_id, i, f"127.0.0.1:{intake}")[1],
            seconds=args.seconds,
            connections=64,
            rate=args.rate,
            on_answer=on_signup,
        ),
        drive(
            "127.0.0.1",
            matching,
            lambda i: lookup_request(i, f"127.0.0.1:{matching}"),
            seconds=args.seconds,
            connections=8,
            rate=args.lookups,
            ok_statuses=(200,),
        ),
        drive(
            "127.0.0.1",
            donations,
            lambda i: stripe_request(run_id, i, stack.stripe_secret, f"127.0.0.1:{donations}"),
            seconds=args.seconds,
            connections=8,
            rate=args.webhooks,
            on_answer=on_webhook,
            ok_statuses=(200,),
        ),
    )
    return {"signups": signups.summary(), "lookups": lookups.summary(), "webhooks": webhooks.summary()}


def settled(stack: Stack) -> bool:
    """Nothing waiting in any outbox, consumer or delivery queue."""
    for service in SERVICES:
        if stack.count(service, "SELECT count(*) FROM outbox WHERE published_at IS NULL"):
            return False
    if stack.count("notify", "SELECT count(*) FROM deliveries WHERE status IN ('queued', 'sending')"):
        return False
    if stack.count("donations", "SELECT count(*) FROM webhook_events WHERE status = 'received'"):
        return False
    pending = asyncio.run(consumer_backlog(stack.nats.url))
    return pending == 0


async def consumer_backlog(url: str) -> int:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        total = 0
        for stream in ("INTAKE", "MATCHING", "NOTIFY", "DONATIONS"):
            for info in await js.consumers_info(stream):
                total += (info.num_pending or 0) + (info.num_ack_pending or 0)
        return total
    finally:
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rate", type=float, default=300, help="sign-ups per second")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--lookups", type=float, default=50, help="race lookups per second")
    parser.add_argument("--webhooks", type=float, default=20, help="Stripe webhooks per second")
    parser.add_argument("--workers", type=int, default=1, help="serving processes per service")
    parser.add_argument("--settle-timeout", type=float, default=300)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or RESULTS / "pipeline" / f"{args.backend}-{args.rate:g}"
    out.mkdir(parents=True, exist_ok=True)
    run_id = os.urandom(3).hex()
    root = Path(mkdtemp(prefix="runway-pipeline-"))
    observations = root / "observed"
    observations.mkdir()
    smtp = observations / "smtp-accepted.tsv"
    summary = report_header(args, "benchmarks.pipeline.run")
    stack, counter = start_system(root, args.backend, args.workers, smtp)
    observer = None
    try:
        register_forms(stack)
        pids = [f"{name}={stack.processes[name].process.pid}" for name in SERVICES]  # type: ignore[union-attr]
        pids += [f"nats={stack.nats.process.pid}", f"smtp={counter.process.pid}"]  # type: ignore[union-attr]
        observer = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.pipeline.observe",
                "--nats",
                stack.nats.url,
                "--out",
                str(observations),
                *(a for p in pids for a in ("--process", p)),
            ]
        )
        accepted = Accepted()
        began = time.time()
        summary["load"] = asyncio.run(load(stack, run_id, args, accepted))
        print("load:", json.dumps(summary["load"]), flush=True)
        settle_began = time.time()
        try:
            wait_for(
                lambda: settled(stack),
                timeout=args.settle_timeout,
                interval=1.0,
                message="the system to settle",
            )
            summary["settled_after_seconds"] = round(time.time() - settle_began, 1)
        except AssertionError:
            summary["settled_after_seconds"] = None
        observer.terminate()
        observer.wait(30)
        summary["check"] = check(stack, run_id, accepted, smtp)
        print(summary["check"]["verdict"], flush=True)  # type: ignore[index]
        summary.update(report.write(out, run_id, began, accepted, observations, summary))
    finally:
        if observer and observer.poll() is None:
            observer.kill()
        stack.stop()
        counter.stop()
    print(json.dumps({k: v for k, v in summary.items() if k != "check"}, indent=2, default=str))


if __name__ == "__main__":
    main()
