"""`serve --workers N`: several processes on one port share the work and never repeat it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from runway_devstack.testing import Stack, require_backend, wait_for

pytestmark = pytest.mark.integration


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def workers_seen(stack: Stack, tries: int = 60) -> set[int]:
    seen = set()
    for _ in range(tries):  # a new connection each time: the kernel picks a process
        with contextlib.suppress(httpx.HTTPError):
            seen.add(httpx.get(f"{stack.url('intake')}/livez", timeout=2).json()["worker"])
    return seen


def post_all(stack: Stack, bodies: list[dict[str, object]]) -> list[int]:
    def post(body: dict[str, object]) -> int:
        with httpx.Client(timeout=15) as client:  # own connection: spread across the processes
            return client.post(f"{stack.url('intake')}/v1/signups", json=body).status_code

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(post, bodies))


def test_two_serving_processes_split_sign_ups_and_publish_each_event_once(
    stack_factory: object, db_backend: str
) -> None:
    stack: Stack = stack_factory(db_backend, services=())  # type: ignore[operator]
    stack.start_service("intake", workers=2)
    assert workers_seen(stack) == {0, 1}

    run = uuid.uuid4().hex[:6]
    people = [f"p{i}-{run}@example.org" for i in range(150)]
    bodies = [{"email": people[i % 150], "zip": "66044"} for i in range(200)]  # 50 sign up twice
    assert Counter(post_all(stack, bodies)) == {202: 200}

    assert stack.count("intake", "SELECT count(*) FROM leads") == 150
    assert stack.count("intake", "SELECT count(*) FROM submissions") == 200
    unique = httpx.get(
        f"{stack.url('intake')}/v1/compliance/unique-leads",
        headers={"Authorization": "Bearer dev-admin-token"},
    ).json()
    assert unique["unique_leads"] == 150

    def published() -> list[str] | None:
        if stack.count("intake", "SELECT count(*) FROM outbox WHERE published_at IS NULL"):
            return None
        ids = [json.loads(m.data)["id"] for m in stack.stream_messages("INTAKE")]
        return ids if len(ids) >= 200 else None

    ids = wait_for(published, timeout=20, message="every sign-up's event published")
    assert len(ids) == len(set(ids)) == 200  # both relays ran; no event went out twice

    # A worker that dies is started again; the port keeps answering meanwhile.
    supervisor = stack.processes["intake"].process
    assert supervisor is not None
    victim = children(supervisor.pid)[0]
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: victim not in children(supervisor.pid) and len(children(supervisor.pid)) == 2,
        timeout=20,
        message="the killed worker replaced",
    )
    wait_for(lambda: workers_seen(stack, 20) == {0, 1}, timeout=30, message="both workers serving again")
    more = [{"email": f"after-{i}-{run}@example.org", "zip": "66044"} for i in range(40)]
    assert Counter(post_all(stack, more)) == {202: 40}

    # SIGTERM to the supervisor stops every worker gracefully.
    workers = children(supervisor.pid)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=30) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert stack.count("intake", "SELECT count(*) FROM submissions") == 240
    assert stack.count("intake", "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


def test_workers_stop_when_their_supervisor_is_killed(stack_factory: object) -> None:
    stack: Stack = stack_factory("sqlite", services=())  # type: ignore[operator]
    stack.start_service("intake", workers=2)
    supervisor = stack.processes["intake"].process
    assert supervisor is not None
    workers = children(supervisor.pid)
    supervisor.kill()  # no chance to pass anything on
    supervisor.wait(timeout=10)
    wait_for(
        lambda: not any(Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) for pid in workers),
        timeout=30,
        message="orphaned workers gone",
    )


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "zombie"


def consumed_per_worker(stack: Stack, service: str, durable: str, tries: int = 80) -> dict[int, float]:
    """`runway_events_consumed_total{outcome="handled"}` of each serving process, by scraping until both answered."""
    handled: dict[int, float] = {}
    for _ in range(tries):  # a new connection each time: the kernel picks a process
        with contextlib.suppress(httpx.HTTPError):
            text = httpx.get(f"{stack.url(service)}/metrics", timeout=2).text
            worker = int(text.split('runway_serving_process{worker="')[1].split('"')[0])
            handled[worker] = sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("runway_events_consumed_total")
                and f'durable="{durable}"' in line
                and 'outcome="handled"' in line
            )
        if len(handled) == 2:
            break
    return handled


def test_two_matching_and_two_notify_processes_split_the_durables_and_do_nothing_twice(
    stack_factory: object,
) -> None:
    require_backend("postgresql")  # several instances of a service share one database: PostgreSQL
    stack: Stack = stack_factory("postgresql", services=())  # type: ignore[operator]
    stack.start_service("intake")
    stack.start_service("matching", workers=2)
    stack.start_service("notify", workers=2)

    run = uuid.uuid4().hex[:6]
    people = [f"split{i}-{run}@example.org" for i in range(120)]
    bodies = [
        {"email": p, "zip": "66044", "consent": {"email": True, "wording": "Email me about running."}}
        for p in people
    ]
    assert Counter(post_all(stack, bodies)) == {202: 120}

    def matched() -> int | None:
        n = stack.count("matching", "SELECT count(*) FROM inbox WHERE consumer = 'matching-lead-received-v1'")
        return n if n >= 120 else None

    wait_for(matched, timeout=60, message="every lead matched")
    wait_for(
        lambda: (
            len({m["To"] for m in stack.mail.messages() if m["X-Runway-Message-Type"] == "races_near_you"})
            >= 120
        ),
        timeout=90,
        message="every races-near-you email",
    )
    time.sleep(3)  # a duplicate would have arrived by now
    races_emails = [m["To"] for m in stack.mail.messages() if m["X-Runway-Message-Type"] == "races_near_you"]
    welcome = [m["To"] for m in stack.mail.messages() if m["X-Runway-Message-Type"] == "welcome"]
    assert Counter(races_emails) == Counter(people) and Counter(welcome) == Counter(people)  # once each
    matched_events = [
        json.loads(m.data)["data"]["lead_id"]
        for m in stack.stream_messages("MATCHING")
        if m.subject == "matching.lead.matched.v1"
    ]
    assert len(matched_events) == len(set(matched_events)) == 120

    # The work split: both processes of each service handled some of it.
    for service, durable in (("matching", "matching-lead-received-v1"), ("notify", "notify-lead-matched-v1")):
        handled = consumed_per_worker(stack, service, durable)
        assert set(handled) == {0, 1}, (service, handled)
        assert all(n > 0 for n in handled.values()) and sum(handled.values()) >= 120, (service, handled)
