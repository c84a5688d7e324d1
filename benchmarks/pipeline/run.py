"""The load harness: the whole of Runway on this machine, driven as its users drive it.

    .venv/bin/python -m benchmarks.pipeline.run --backend sqlite --rate 300 --seconds 600

Starts NATS, the four services (`--workers` serving processes each), an SMTP server that
logs when it accepts each message (benchmarks/smtp_counter.py) and the observer
(benchmarks/pipeline/observe.py); registers three forms; then for `--seconds` sends
sign-ups at `--rate` a second through those forms (every tenth a person signing up again
on another form), race lookups at `--lookups` and webhooks at `--webhooks` (signed Stripe
`invoice.paid` and ActBlue contributions with HTTP Basic, alternately), open loop (latency
from the scheduled time). It then waits for the system to settle, runs the checker (benchmarks/pipeline/checker.py) and writes a report with plots
to `--out` (default benchmarks/results/pipeline/<backend>-<rate>[-<fault>]).

`--fault NAME` applies one scenario of the fault schedule during the load
(benchmarks/pipeline/faults.py; `--fault list` lists them), for example

    .venv/bin/python -m benchmarks.pipeline.run --rate 40 --seconds 90 --fault kill-services

`--instances 2` runs two instances of matching and of notify (separate processes and
ports, one database, the same durable consumers) and reports how the work split.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import mkdtemp

import httpx
import nats

from benchmarks.harness import RESULTS, report_header
from benchmarks.loadgen import client_loop
from benchmarks.loadgen import run as drive
from benchmarks.pipeline import report
from benchmarks.pipeline.checker import Accepted, check, refused
from benchmarks.pipeline.faults import SCENARIOS, SERVICES, Fault, System, scenario
from benchmarks.pipeline.workload import FORMS, lookup_request, signup_request, webhook_request
from runway_devstack.nats_server import free_port
from runway_devstack.processes import ManagedProcess, service_process
from runway_devstack.testing import DEFINITIONS, Stack, wait_for
from runway_eventbus.servers import nats_servers
from runway_runtime.settings import DEV_ADMIN_TOKEN

# Scaled out with --instances: the consumers the issue asks to split.
SCALED_OUT = ("matching", "notify")


def start_system(root: Path, args: argparse.Namespace, smtp_log: Path, fault: Fault) -> System:
    own_postgres = fault.own_postgres()
    stack = (
        Stack(root, args.backend, nats_nodes=fault.nats_nodes, postgres_url=own_postgres)
        if own_postgres
        else Stack(root, args.backend, nats_nodes=fault.nats_nodes)
    )
    stack.definitions.write_text(DEFINITIONS.read_text())  # production consumer timing, not the tests'
    smtp_port = free_port()
    smtp = ManagedProcess(
        "smtp counter",
        [
            *(sys.executable, "-m", "benchmarks.smtp_counter", "--port", str(smtp_port)),
            *("--out", str(smtp_log), "--answer-ms", str(args.smtp_answer_ms)),
        ],
        {},
        root / "logs" / "smtp.log",
    )
    smtp.start()
    for service in SERVICES:
        stack.extra_env[service] = {}
    # Sixteen connections to the relay, as a sender of thousands of emails an hour would
    # configure it: with batches of 128 the dispatcher keeps them all busy (pipeline.md).
    stack.extra_env["notify"] |= {"RUNWAY_SMTP_PORT": str(smtp_port), "RUNWAY_SMTP_CONNECTIONS": "16"}
    fault.prepare(stack)
    stack.start(services=())
    system = System(stack, smtp, args.workers, root / "observed" / "faults.tsv")
    for service in SERVICES:
        if args.instances > 1 and service in SCALED_OUT:
            for index in range(args.instances):
                start_instance(stack, service, index, args.instances)
        else:
            stack.start_service(service, args.workers)
    return system


def start_instance(stack: Stack, service: str, index: int, count: int) -> None:
    """One of `count` separately deployed instances: own process and port, shared database and consumers.

    RUNWAY_WORKER_INDEX / RUNWAY_WORKERS give each instance its share of the outbox to relay.
    """
    name = f"{service}-{index}"
    port = stack.ports[service] if index == 0 else free_port()
    stack.ports[name] = port
    env = stack.env(service) | {"RUNWAY_WORKER_INDEX": str(index), "RUNWAY_WORKERS": str(count)}
    process = service_process(service, port, env, stack.root / "logs")
    process.log_path = stack.root / "logs" / f"{name}.log"
    process.start()
    stack.processes[name] = process
    process.wait_ready(timeout=60)
    process.ready_url = f"http://127.0.0.1:{port}/readyz"
    process.wait_ready(timeout=60)


def handled_by_instance(stack: Stack, instances: int) -> dict[str, dict[str, int]]:
    """Events each instance's consumers handled, from its /metrics."""
    split: dict[str, dict[str, int]] = {}
    for service in SCALED_OUT:
        for index in range(instances):
            name = f"{service}-{index}"
            text = httpx.get(f"http://127.0.0.1:{stack.ports[name]}/metrics", timeout=10).text
            total = 0
            for line in text.splitlines():
                if line.startswith("runway_events_consumed_total{") and 'outcome="handled"' in line:
                    total += int(float(line.rsplit(" ", 1)[1]))
            split.setdefault(service, {})[name] = total
    return split


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
            (accepted.refused_signups if refused(status) else accepted.unanswered_signups).add(i)

    def on_webhook(i: int, status: int, _took: float) -> None:
        if status == 200:
            accepted.webhooks.add(i)
        else:
            (accepted.refused_webhooks if refused(status) else accepted.unanswered_webhooks).add(i)

    intake, matching, donations = (stack.ports[s] for s in ("intake", "matching", "donations"))
    signups, lookups, webhooks = await asyncio.gather(
        drive(
            "127.0.0.1",
            intake,
            lambda i: signup_request(run_id, i, f"127.0.0.1:{intake}")[1],
            seconds=args.seconds,
            # Enough connections for the rate, few enough that each is used well within
            # the server's keep-alive time.
            connections=min(64, max(8, int(args.rate))),
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
            lambda i: webhook_request(
                run_id, i, stack.stripe_secret, stack.actblue_credentials, f"127.0.0.1:{donations}"
            ),
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
    pending = asyncio.run(consumer_backlog(stack.nats_url))
    return pending == 0


async def consumer_backlog(url: str) -> int:
    nc = await nats.connect(nats_servers(url))
    try:
        js = nc.jetstream()
        total = 0
        for stream in ("INTAKE", "MATCHING", "NOTIFY", "DONATIONS"):
            for info in await js.consumers_info(stream):
                total += (info.num_pending or 0) + (info.num_ack_pending or 0)
        return total
    finally:
        await nc.close()


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rate", type=float, default=300, help="sign-ups per second")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--lookups", type=float, default=50, help="race lookups per second")
    parser.add_argument(
        "--webhooks", type=float, default=20, help="webhooks per second, Stripe and ActBlue alternately"
    )
    parser.add_argument("--workers", type=int, default=1, help="serving processes per service")
    parser.add_argument("--instances", type=int, default=1, help="instances of matching and of notify")
    parser.add_argument("--fault", default="none", help="a fault scenario, or 'list'")
    parser.add_argument("--fault-every", type=float, default=15.0, help="seconds between repeated faults")
    parser.add_argument(
        "--fault-duration", type=float, help="seconds a lasting fault lasts (each scenario has its default)"
    )
    parser.add_argument(
        "--fault-target", choices=SERVICES, default="matching", help="the partitioned service"
    )
    parser.add_argument("--settle-timeout", type=float, default=300)
    parser.add_argument(
        "--smtp-answer-ms",
        type=float,
        default=0.0,
        help="how long the SMTP server takes to accept each message (a mail provider: 50-300 ms)",
    )
    parser.add_argument("--out", type=Path)
    return parser


def run(args: argparse.Namespace) -> dict[str, object]:
    """One run; returns the summary (with the checker's result under "check")."""
    suffix = "" if args.fault == "none" else f"-{args.fault}"
    suffix += f"-x{args.instances}" if args.instances > 1 else ""
    out = args.out or RESULTS / "pipeline" / f"{args.backend}-{args.rate:g}{suffix}"
    out.mkdir(parents=True, exist_ok=True)
    fault = scenario(
        args.fault,
        seconds=args.seconds,
        every=args.fault_every,
        duration=args.fault_duration,
        target=args.fault_target,
        rate=args.rate,
    )
    run_id = os.urandom(3).hex()
    root = Path(mkdtemp(prefix="runway-pipeline-"))
    observations = root / "observed"
    observations.mkdir()
    smtp = observations / "smtp-accepted.tsv"
    summary = report_header(args, "benchmarks.pipeline.run")
    summary["fault"] = {"name": fault.name, "description": fault.description}
    system = start_system(root, args, smtp, fault)
    stack = system.stack
    observer = None
    try:
        register_forms(stack)
        system.processes_changed()
        observer = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.pipeline.observe",
                "--nats",
                stack.nats_url,
                "--out",
                str(observations),
                "--pids",
                str(system.pids_path),
            ]
        )
        accepted = Accepted()
        began = time.time()
        breaker = threading.Thread(target=fault.run, args=(system,), name="fault", daemon=True)
        breaker.start()
        try:
            summary["load"] = client_loop(load(stack, run_id, args, accepted))
        finally:
            system.stop.set()
            breaker.join()
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
        if args.instances > 1:
            summary["handled_by_instance"] = handled_by_instance(stack, args.instances)
        summary["check"] = check(
            stack,
            run_id,
            accepted,
            smtp,
            poisons=fault.poison_ids(),
            notify_killed=system.logged_at("SIGKILL notify"),
        )
        print(summary["check"]["verdict"], flush=True)  # type: ignore[index]
        summary.update(report.write(out, run_id, began, accepted, observations, summary))
    finally:
        if observer and observer.poll() is None:
            observer.kill()
        stack.stop()
        system.smtp.stop()
        fault.close()
    return summary


def main() -> None:
    args = parser().parse_args()
    if args.fault == "list":
        for name, kind in SCENARIOS.items():
            print(f"{name:15} {kind.description}")
        return
    if args.fault not in SCENARIOS:
        raise SystemExit(f"unknown fault {args.fault!r}; --fault list shows them")
    if args.fault == "postgres-down" and args.backend != "postgresql":
        raise SystemExit("--fault postgres-down needs --backend postgresql")
    summary = run(args)
    print(json.dumps({k: v for k, v in summary.items() if k != "check"}, indent=2, default=str))
    check_result = summary["check"]
    assert isinstance(check_result, dict)
    raise SystemExit(0 if check_result["verdict"].startswith("PASS") else 1)


if __name__ == "__main__":
    main()
