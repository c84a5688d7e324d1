"""The fault schedule: what breaks while the load runs, one scenario at a time.

Each scenario prepares the system before it starts (a proxy in front of NATS, a
cluster instead of one server), then acts from a thread of its own while the load
runs, and logs what it did and when (`faults.tsv`, shown in the report). The checker
then accounts for every accepted input as after a calm run.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import nats

from runway_contracts import CloudEvent
from runway_contracts.intake import LEAD_RECEIVED
from runway_devstack.nats_server import free_port
from runway_devstack.postgres_server import PostgresServer
from runway_devstack.processes import ManagedProcess
from runway_devstack.testing import Stack, wait_for
from runway_eventbus.servers import nats_servers

SERVICES = ("intake", "matching", "notify", "donations")


@dataclass
class System:
    """What a fault can act on: the stack, the SMTP server, how services are started."""

    stack: Stack
    smtp: ManagedProcess
    workers: int
    log_path: Path
    stop: threading.Event = field(default_factory=threading.Event)

    def log(self, what: str) -> None:
        line = f"{time.time():.3f}\t{what}\n"
        with self.log_path.open("a") as out:
            out.write(line)
        print(f"fault: {what}", flush=True)

    def logged_at(self, what: str) -> list[float]:
        """When the schedule logged `what` (just after doing it)."""
        lines = self.log_path.read_text().splitlines() if self.log_path.exists() else []
        return [float(at) for at, logged in (line.split("\t", 1) for line in lines) if logged == what]

    def pause(self, seconds: float) -> bool:
        """Sleep unless the load ended first; True if it is time to go on."""
        return not self.stop.wait(seconds)

    def kill_service(self, service: str) -> None:
        process = self.stack.processes[service].process
        assert process is not None
        # The whole process group: with several serving processes, the supervisor and its workers.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def restart_service(self, service: str) -> None:
        self.stack.spawn_service(service, self.workers)
        self.processes_changed()  # at once: the observer counts its start-up CPU too
        self.stack.wait_service_ready(service, self.workers)

    def processes_changed(self) -> None:
        """Tell the observer which PIDs to measure now (it re-reads the file every second)."""
        pids = {name: p.process.pid for name, p in self.stack.processes.items() if p.process}
        pids |= {f"nats{i}": n.process.pid for i, n in enumerate(self.stack.nats_cluster) if n.process}
        if self.smtp.process:
            pids["smtp"] = self.smtp.process.pid
        staged = self.pids_path.with_suffix(".new")
        staged.write_text("".join(f"{name}\t{pid}\n" for name, pid in pids.items()))
        staged.replace(self.pids_path)  # the observer never reads a half-written file

    @property
    def pids_path(self) -> Path:
        return self.log_path.with_name("pids.tsv")


class Fault:
    name: ClassVar[str] = "none"
    description: ClassVar[str] = "no fault: the load alone"
    default_duration: ClassVar[float] = 30.0

    def __init__(self, seconds: float, every: float, duration: float | None, target: str) -> None:
        self.seconds, self.every, self.target = seconds, every, target
        self.duration = self.default_duration if duration is None else duration

    @property
    def nats_nodes(self) -> int:
        return 1

    def own_postgres(self) -> str | None:
        """A PostgreSQL server for the services' databases, if the scenario needs its own."""
        return None

    def prepare(self, stack: Stack) -> None:
        """Before anything starts."""

    def run(self, system: System) -> None:
        """During the load, in a thread; returns when done or when `system.stop` is set."""

    def close(self) -> None:
        """After the run."""

    def poison_ids(self) -> set[str]:
        return set()


class KillServices(Fault):
    name = "kill-services"
    description = (
        "SIGKILL one service's processes, restart it at once; the next service after --fault-every s"
    )

    def run(self, system: System) -> None:
        # On a clock, not after each restart: a slow restart does not push the next kill back.
        began = time.monotonic()
        for n, service in enumerate(itertools.cycle(SERVICES), start=1):
            if not system.pause(max(0.0, began + n * self.every - time.monotonic())):
                return
            system.kill_service(service)
            system.log(f"SIGKILL {service}")
            system.restart_service(service)
            system.log(f"{service} ready again")


class KillNats(Fault):
    name = "kill-nats"
    description = "SIGKILL the NATS server every --fault-every s, restart it 2 s later (same store)"

    def run(self, system: System) -> None:
        node = system.stack.nats
        while system.pause(self.every):
            node.kill()
            system.log("SIGKILL nats-server")
            time.sleep(2)
            node.start()
            system.processes_changed()
            system.log("nats-server restarted")


class ClusterNodeLoss(Fault):
    name = "cluster"
    default_duration = 15.0
    description = (
        "3-node NATS cluster, every stream and consumer on 3 replicas: SIGKILL the node clients "
        "list first for --fault-duration s, then, once it is back and caught up, another"
    )

    @property
    def nats_nodes(self) -> int:
        return 3

    def run(self, system: System) -> None:
        nodes = system.stack.nats_cluster
        first_at = max(self.seconds / 4, 1)
        if not system.pause(first_at):
            return
        for node in nodes[:2]:
            node.kill()
            system.log(f"SIGKILL {node.name}")
            system.pause(self.duration)
            node.start()
            system.processes_changed()
            system.log(f"{node.name} restarted")
            wait_for(lambda: _cluster_current(system.stack), timeout=60, interval=0.5, message="replicas")
            system.log("every replica current again")
            if not system.pause(self.every):
                return


def _cluster_current(stack: Stack) -> bool:
    """Every stream has all its replicas, and none of them lags."""

    async def probe() -> bool:
        nc = await nats.connect(nats_servers(stack.nats_url), connect_timeout=2, max_reconnect_attempts=1)
        try:
            js = nc.jetstream()
            for info in await js.streams_info():
                cluster = info.cluster
                if cluster is None or cluster.leader is None:
                    return False
                replicas = cluster.replicas or []
                if len(replicas) != len(stack.nats_cluster) - 1:
                    return False
                if any(not r.current or r.offline for r in replicas):
                    return False
            return True
        finally:
            await nc.close()

    try:
        return asyncio.run(probe())
    except Exception:
        return False


class SmtpDown(Fault):
    name = "smtp-down"
    description = (
        "the SMTP server shut down (421 to new mail, then gone) for --fault-duration s,"
        " from a quarter of the way in"
    )

    def run(self, system: System) -> None:
        if not system.pause(max(self.seconds / 4, 1)):
            return
        # Stopped, not SIGKILLed: killed between logging a message and its 250 reaching
        # notify, the server would count a message notify must send again (RFC 1047).
        system.smtp.stop()
        system.log("SMTP server down")
        system.pause(self.duration)
        system.smtp.start()  # appends to the same log of accepted messages
        system.processes_changed()
        system.log("SMTP server back")


class Partition(Fault):
    name = "partition"
    default_duration = 20.0
    description = (
        "--fault-target's traffic to NATS stalls both ways for --fault-duration s "
        "(through a proxy the harness controls), from a quarter of the way in"
    )
    proxy: StallingProxy | None = None  # made in prepare

    def prepare(self, stack: Stack) -> None:
        self.proxy = StallingProxy(stack.nats.host, stack.nats.port)
        self.proxy.start()
        stack.extra_env.setdefault(self.target, {})["RUNWAY_NATS_URL"] = self.proxy.url

    def run(self, system: System) -> None:
        assert self.proxy
        if not system.pause(max(self.seconds / 4, 1)):
            return
        self.proxy.stall()
        system.log(f"{self.target} cut off from NATS")
        system.pause(self.duration)
        self.proxy.resume()
        system.log(f"{self.target} reaches NATS again")

    def close(self) -> None:
        if self.proxy:
            self.proxy.close()


class PostgresDown(Fault):
    name = "postgres-down"
    default_duration = 10.0
    description = (
        "PostgreSQL (a server of the harness's own) stopped as by a crash for --fault-duration s, "
        "from a quarter of the way in; with --backend postgresql"
    )
    server: PostgresServer | None = None  # made in own_postgres

    def own_postgres(self) -> str:
        self.server = PostgresServer()
        self.server.create()
        self.server.start()
        return self.server.url

    def run(self, system: System) -> None:
        assert self.server
        if not system.pause(max(self.seconds / 4, 1)):
            return
        self.server.stop("immediate")
        system.log("PostgreSQL stopped (immediate)")
        system.pause(self.duration)
        self.server.start()
        system.log("PostgreSQL started")

    def close(self) -> None:
        if self.server:
            self.server.destroy()


class StallingProxy:
    """A TCP proxy to NATS whose traffic can be held both ways, as a network partition does.

    While stalled nothing is forwarded and nothing is refused or reset: bytes wait, as
    in a partition where TCP keeps retransmitting, and flow again when it heals.
    """

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = free_port()
        self._flowing: asyncio.Event | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)

    async def _listen(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)

    async def _connect(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(self._pump(client_r, server_w), self._pump(server_r, client_w))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing
        try:
            while chunk := await reader.read(65536):
                await self._flowing.wait()
                writer.write(chunk)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    def stall(self) -> None:
        assert self._flowing
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def resume(self) -> None:
        assert self._flowing
        self._loop.call_soon_threadsafe(self._flowing.set)

    def close(self) -> None:
        if self._server:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


class Poison(Fault):
    name = "poison"
    description = (
        "one malformed intake.lead.received.v1 per 1,000 sign-ups (at least 3), published "
        "straight to NATS: each consumer of it must park it in the DLQ, and nothing else may change"
    )

    def __init__(self, *args: object, rate: float, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.interval = min(1000 / rate, self.seconds / 4)
        self.published: set[str] = set()

    def run(self, system: System) -> None:
        while system.pause(self.interval):
            lead_id = f"poison-{uuid.uuid4().hex[:12]}"
            asyncio.run(_publish_poison(system.stack.nats_url, lead_id))
            self.published.add(lead_id)
            system.log(f"poison {lead_id} published")

    def poison_ids(self) -> set[str]:
        return set(self.published)


async def _publish_poison(url: str, lead_id: str) -> None:
    # A well-formed envelope around a payload that breaks the contract (received_at is
    # no time); the lead it names would be a real one if a consumer took it in.
    envelope = CloudEvent(
        id=lead_id,
        source="/runway/harness",
        type=LEAD_RECEIVED,
        subject=lead_id,
        time=datetime.now(UTC),
        data={
            "submission_id": lead_id,
            "form_key": "runway-site",
            "is_new_lead": True,
            "received_at": "yesterday-ish",
            "lead": {"lead_id": lead_id, "email": f"{lead_id}@example.org", "postal_code": "66044"},
        },
    )
    nc = await nats.connect(nats_servers(url))
    try:
        await nc.jetstream().publish(
            LEAD_RECEIVED,
            json.dumps(envelope.model_dump(mode="json")).encode(),
            headers={"Nats-Msg-Id": lead_id},
        )
    finally:
        await nc.close()


SCENARIOS: dict[str, type[Fault]] = {
    f.name: f
    for f in (Fault, KillServices, KillNats, ClusterNodeLoss, SmtpDown, Partition, PostgresDown, Poison)
}


def scenario(
    name: str, *, seconds: float, every: float, duration: float | None, target: str, rate: float
) -> Fault:
    kind = SCENARIOS[name]
    if kind is Poison:
        return Poison(seconds, every, duration, target, rate=rate)
    return kind(seconds, every, duration, target)
