"""Schemathesis fuzzes intake's OpenAPI document against a running intake process: no 5xx."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runway_devstack.nats_server import free_port
from runway_devstack.processes import ManagedProcess, run_command, venv_command

ADMIN_TOKEN = "fuzz-admin-token"


@pytest.fixture(scope="module")
def running_intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    env = {
        "RUNWAY_INTAKE_DATABASE_URL": f"sqlite:///{root}/intake.db",
        "RUNWAY_NATS_URL": f"nats://127.0.0.1:{free_port()}",  # unreachable: work waits in the outbox
        "RUNWAY_ADMIN_TOKEN": ADMIN_TOKEN,
        "RUNWAY_INTAKE_RATE_PER_IP_PER_MINUTE": "1000000",
    }
    run_command([venv_command("runway-intake"), "migrate"], env)
    process = ManagedProcess(
        "intake",
        [venv_command("runway-intake"), "serve", "--port", str(port)],
        env,
        Path(root) / "intake.log",
        ready_url=f"http://127.0.0.1:{port}/livez",
    )
    process.start()
    try:
        process.wait_ready()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


@pytest.mark.integration
def test_no_input_makes_intake_answer_5xx(running_intake: str, tmp_path: Path) -> None:
    # The CLI, not the pytest plugin: the plugin does not run under pytest 9.
    result = subprocess.run(
        [
            venv_command("schemathesis"),
            "run",
            f"{running_intake}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "60",
            "--generation-deterministic",
            "--header",
            f"Authorization: Bearer {ADMIN_TOKEN}",
            # /readyz answers 503 by design here (no NATS); it is not driven by input.
            "--exclude-tag",
            "operations",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=500,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    generated = re.search(r"(\d+) generated", result.stdout)
    assert generated and int(generated.group(1)) >= 500, result.stdout[-2000:]  # it really fuzzed
