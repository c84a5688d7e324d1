"""What every benchmark sets up: a fresh NATS with Runway's streams, fresh databases, service processes."""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from tempfile import mkdtemp

from benchmarks.loadgen import client_loop, run
from benchmarks.pipeline.observe import process_tree, usage
from runway_devstack.nats_server import NatsServer
from runway_devstack.processes import ManagedProcess, run_command, venv_command
from runway_devstack.testing import DEFINITIONS, Databases

RESULTS = Path(__file__).parent / "results"


def start(
    name: str, argv: list[str], env: dict[str, str], root: Path, port: int, workers: int = 1
) -> ManagedProcess:
    """Start a process and wait until each of its `workers` serving processes answers."""
    process = ManagedProcess(
        name, argv, env, root / f"{name}.log", ready_url=f"http://127.0.0.1:{port}/livez"
    )
    process.start()
    process.wait_ready(60, path_ok=(200, 404), workers=workers)
    return process


def cpu_seconds(process: ManagedProcess) -> float:
    """CPU seconds used so far by `process` and its children (a supervisor's serving processes)."""
    assert process.process is not None
    return usage(process_tree(process.process.pid))[0]


def load_server(
    server: ManagedProcess,
    port: int,
    make_request: Callable[[int], bytes],
    *,
    seconds: float,
    connections: int,
    rate: float | None,
    ok_statuses: tuple[int, ...] = (200, 201, 202),
) -> dict[str, object]:
    """Drive `server` with the load generator; the summary, with what the server spent on
    each accepted request (its relay and anything else it did meanwhile included): the
    figure to compare changes by, whatever the machine's speed that day."""
    cpu_before = cpu_seconds(server)
    result = client_loop(
        run(
            "127.0.0.1",
            port,
            make_request,
            seconds=seconds,
            connections=connections,
            rate=rate,
            ok_statuses=ok_statuses,
        )
    )
    summary = result.summary()
    summary["server_cpu_ms_per_accepted"] = round(
        1000 * (cpu_seconds(server) - cpu_before) / max(summary["accepted"], 1),
        3,  # type: ignore[arg-type]
    )
    return summary


def machine_speed_ms() -> float:
    """How fast this machine runs Python right now: the best of 20 `sum(range(1e6))`, in ms.
    The same VM has measured 9.7 to 27 ms on different days; figures are read against it."""
    return round(min(timeit.repeat("sum(range(1_000_000))", number=1, repeat=20)) * 1000, 1)


class Harness:
    def __init__(self, backend: str, service: str) -> None:
        # A benchmark stopped by SIGTERM (a `timeout`, Ctrl-C in a CI job) still runs its
        # `finally`, so no service process is left serving after it.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        self.root = Path(mkdtemp(prefix=f"runway-bench-{service}-"))
        self.nats = NatsServer(self.root / "nats", name="bench")
        self.nats.start()
        run_command(
            [venv_command("runway-nats"), "--url", self.nats.url, "apply", "--file", str(DEFINITIONS)], {}
        )
        self.databases = Databases(backend, self.root)
        self.service = service
        self.env = {
            "RUNWAY_NATS_URL": self.nats.url,
            f"RUNWAY_{service.upper()}_DATABASE_URL": self.databases.urls[service],
            "RUNWAY_LOG_LEVEL": "WARNING",
        }
        self._processes: list[ManagedProcess] = []

    def serve(self, port: int, workers: int, extra_env: dict[str, str]) -> ManagedProcess:
        self.env |= extra_env
        run_command([venv_command(f"runway-{self.service}"), "migrate"], self.env)
        argv = [
            venv_command(f"runway-{self.service}"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
        process = start(self.service, argv, self.env, self.root, port, workers)
        self._processes.append(process)
        return process

    def close(self) -> None:
        for process in self._processes:
            process.stop()
        self.nats.stop()
        self.databases.drop()


def record_report(name: str, report: dict[str, object]) -> None:
    """Write the report to benchmarks/results/<name>.json (the recorded figures) and print it."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


def report_header(args: argparse.Namespace, module: str) -> dict[str, object]:
    return {
        **{k: v for k, v in vars(args).items()},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine_speed_ms": machine_speed_ms(),
        "command": " ".join([".venv/bin/python", "-m", module, *sys.argv[1:]]),
    }
