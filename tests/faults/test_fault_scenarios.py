"""The short fault schedule CI runs: each scenario of benchmarks/pipeline/faults.py, briefly.

Each runs the whole system (real processes, real NATS, real databases) under a light
load through the load harness, breaks one thing while the load runs, and passes only
if the checker accounts for every accepted input: nothing lost, nothing twice, no
accepted request without its effects, nothing in the DLQ that should not be there.
The longer runs, with their figures, are in benchmarks/results/pipeline.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.pipeline.run import parser, run
from runway_devstack.postgres_server import postgres_bindir
from runway_devstack.testing import require_backend

pytestmark = pytest.mark.integration


def scenario(backend: str, tmp_path: Path, *options: str) -> dict[str, Any]:
    require_backend(backend)
    args = parser().parse_args(
        [
            "--backend",
            backend,
            "--rate",
            "20",
            "--lookups",
            "5",
            "--webhooks",
            "5",
            "--settle-timeout",
            "150",
            "--out",
            str(tmp_path / "report"),
            *options,
        ]
    )
    summary = run(args)
    check = summary["check"]
    assert check["verdict"].startswith("PASS"), check
    for kind in ("signups", "webhooks"):  # refused with 503 during a fault, never a 500
        statuses = summary["load"][kind]["statuses"]
        assert not [s for s in statuses if int(s) >= 500 and int(s) != 503], statuses
    return summary


def faults(summary: dict[str, Any], word: str) -> list[str]:
    return [what for _at, what in summary["fault_log"] if word in what]


def test_services_killed_and_restarted_one_after_another(tmp_path: Path) -> None:
    summary = scenario(
        "sqlite", tmp_path, "--seconds", "40", "--fault", "kill-services", "--fault-every", "7"
    )
    assert len(faults(summary, "SIGKILL")) >= 4  # every service at least once


def test_nats_killed_and_restarted_repeatedly(tmp_path: Path) -> None:
    summary = scenario("sqlite", tmp_path, "--seconds", "30", "--fault", "kill-nats", "--fault-every", "9")
    assert len(faults(summary, "SIGKILL nats-server")) >= 2


def test_a_three_node_cluster_loses_one_node_then_another(tmp_path: Path) -> None:
    summary = scenario(
        "sqlite",
        tmp_path,
        "--seconds",
        "45",
        "--fault",
        "cluster",
        "--fault-duration",
        "8",
        "--fault-every",
        "3",
    )
    assert len(faults(summary, "SIGKILL test-nats")) == 2


def test_smtp_unreachable_for_a_while(tmp_path: Path) -> None:
    summary = scenario(
        "sqlite", tmp_path, "--seconds", "36", "--fault", "smtp-down", "--fault-duration", "15"
    )
    assert faults(summary, "SMTP server back")


def test_a_service_partitioned_from_nats(tmp_path: Path) -> None:
    summary = scenario(
        "postgresql",
        tmp_path,
        "--seconds",
        "30",
        "--fault",
        "partition",
        "--fault-target",
        "intake",
        "--fault-duration",
        "10",
    )
    assert faults(summary, "reaches NATS again")


def test_postgresql_stopped_for_ten_seconds(tmp_path: Path) -> None:
    if postgres_bindir() is None:
        pytest.skip("PostgreSQL's binaries (initdb, pg_ctl) are not installed")
    summary = scenario("postgresql", tmp_path, "--seconds", "30", "--fault", "postgres-down")
    assert faults(summary, "PostgreSQL started")
    assert summary["load"]["signups"]["statuses"].get(503), "no sign-up met the outage"


def test_poison_messages_end_in_the_dlq_and_nowhere_else(tmp_path: Path) -> None:
    summary = scenario("sqlite", tmp_path, "--seconds", "20", "--fault", "poison")
    check = summary["check"]
    assert check["poisons_published"] >= 3
    assert check["poisons_parked"] == 3 * check["poisons_published"]  # by each of three consumers


def test_two_instances_of_matching_and_notify_split_the_work(tmp_path: Path) -> None:
    summary = scenario("sqlite", tmp_path, "--seconds", "20", "--instances", "2")
    for service, counts in summary["handled_by_instance"].items():
        total = sum(counts.values())
        assert all(n > total / 5 for n in counts.values()), (service, counts)
