"""Pytest fixtures that run Runway for real: nats-server, databases, SMTP, OTLP, processes.

Registered by the repository's root conftest.py. Delivery guarantees are only
ever tested here, against real servers, never against an in-memory broker.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
import sqlalchemy as sa
import uvicorn
from aiosmtpd.controller import Controller

from runway_devstack.mail_sink import SaveToDirectory
from runway_devstack.nats_server import NatsServer, free_port
from runway_devstack.processes import SERVICES, ManagedProcess, service_process
from runway_devstack.sms_sink import create_app as create_sms_sink
from runway_eventbus.provisioning import apply_definitions, load_definitions
from runway_eventbus.servers import nats_servers
from runway_storage import create_database_engine

REPO = Path(__file__).resolve().parents[4]
DEFINITIONS = REPO / "deploy" / "nats" / "jetstream.json"
POSTGRES_URL = os.environ.get("RUNWAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Fast retries for tests: same mechanism as production, shorter clocks.
TEST_CONSUMER_TIMING = {"max_deliver": 4, "ack_wait_seconds": 3, "retry_delays_seconds": [0.2, 0.5, 1.0]}


def postgres_available() -> bool:
    try:
        engine = create_database_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def require_backend(backend: str) -> None:
    if backend == "postgresql" and not postgres_available():
        if os.environ.get("RUNWAY_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but not reachable at {POSTGRES_URL}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")


class Databases:
    """One database per service, as in production: SQLite files or fresh PostgreSQL databases."""

    def __init__(self, backend: str, directory: Path, server_url: str = POSTGRES_URL) -> None:
        self.backend = backend
        self.server_url = server_url
        self.urls: dict[str, str] = {}
        self._created: list[str] = []
        prefix = f"runway_test_{uuid.uuid4().hex[:8]}"
        admin = (
            create_database_engine(server_url, isolation_level="AUTOCOMMIT")
            if backend == "postgresql"
            else None
        )
        for service in SERVICES:
            if admin is not None:
                name = f"{prefix}_{service}"
                with admin.connect() as connection:
                    connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
                self._created.append(name)
                self.urls[service] = str(sa.engine.make_url(server_url).set(database=name))
            else:
                self.urls[service] = f"sqlite:///{directory}/{service}.db"
        if admin is not None:
            admin.dispose()

    def engine(self, service: str) -> sa.Engine:
        return create_database_engine(self.urls[service])

    def drop(self) -> None:
        if not self._created:
            return
        admin = create_database_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in self._created:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class OtlpCollector:
    """Receives OTLP/HTTP protobuf trace exports and keeps the spans."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        spans: list[dict[str, Any]] = []
        self.spans = spans

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                request = ExportTraceServiceRequest.FromString(body)
                for resource_spans in request.resource_spans:
                    service = next(
                        (
                            a.value.string_value
                            for a in resource_spans.resource.attributes
                            if a.key == "service.name"
                        ),
                        "?",
                    )
                    for scope in resource_spans.scope_spans:
                        for span in scope.spans:
                            spans.append(
                                {"service": service, "name": span.name, "trace_id": span.trace_id.hex()}
                            )
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


class MailSink:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.controller: Controller | None = None
        self._parsed: dict[str, EmailMessage] = {}  # a delivered file never changes

    def start(self) -> None:
        self.controller = Controller(SaveToDirectory(self.directory), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[EmailMessage]:
        for path in sorted(self.directory.glob("*.eml")):
            if path.name not in self._parsed:
                self._parsed[path.name] = email.message_from_bytes(  # type: ignore[assignment]
                    path.read_bytes(), policy=email.policy.default
                )
        return [self._parsed[name] for name in sorted(self._parsed)]


class SmsSink:
    """The stand-in SMS provider (runway_devstack.sms_sink), served from a thread of the test process."""

    def __init__(self) -> None:
        self.port = free_port()
        self.account_sid = "AC" + uuid.uuid4().hex
        self.auth_token = uuid.uuid4().hex
        self.sender = "+15005550006"
        self.inbound_url: str | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, inbound_url: str) -> None:
        app = create_sms_sink(self.account_sid, self.auth_token, inbound_url)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_for(lambda: self._server is not None and self._server.started, timeout=10, message="SMS sink")

    def stop(self) -> None:
        if self._server and self._thread:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None

    def messages(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.url}/messages", timeout=10).json()

    def text_in(self, phone: str, body: str) -> dict[str, Any]:
        """A person texts `body` from `phone`; returns notify's answer."""
        return httpx.post(
            f"{self.url}/simulate/inbound", json={"from": phone, "body": body}, timeout=10
        ).json()


def wait_for(
    condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1, message: str = ""
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message or condition}")


class Stack:
    """Runway's services as real processes against a real NATS server."""

    def __init__(
        self,
        root: Path,
        backend: str,
        *,
        trace: bool = False,
        nats_nodes: int = 1,
        postgres_url: str = POSTGRES_URL,
    ) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.databases = Databases(backend, root / "db", postgres_url)
        if nats_nodes == 1:
            self.nats_cluster = [NatsServer(root / "nats", name="test-nats")]
        else:  # a cluster: every stream and consumer replicated on every node
            routes = [free_port() for _ in range(nats_nodes)]
            self.nats_cluster = [
                NatsServer(root / f"nats-{i}", name=f"test-nats-{i}", cluster_port=port, routes=routes)
                for i, port in enumerate(routes)
            ]
        self.nats = self.nats_cluster[0]
        self.mail = MailSink(root / "mail")
        self.sms = SmsSink()
        self.collector = OtlpCollector() if trace else None
        self.ports = {name: free_port() for name in SERVICES}
        self.stripe_secret = "whsec_test_" + uuid.uuid4().hex
        self.actblue_credentials = ("actblue-test", uuid.uuid4().hex)
        self.anedot_secret = "anedot_test_" + uuid.uuid4().hex
        self.processes: dict[str, ManagedProcess] = {}
        # Per-service settings a test adds (before starting that service).
        self.extra_env: dict[str, dict[str, str]] = {}
        self.definitions = root / "jetstream.json"
        spec = json.loads(DEFINITIONS.read_text())
        spec["consumer_defaults"] |= TEST_CONSUMER_TIMING
        self.definitions.write_text(json.dumps(spec))

    @property
    def nats_url(self) -> str:
        """Every node, as services are configured (`RUNWAY_NATS_URL`)."""
        return ",".join(node.url for node in self.nats_cluster)

    def env(self, service: str) -> dict[str, str]:
        env = {
            "RUNWAY_NATS_URL": self.nats_url,
            "RUNWAY_DATA_DIR": str(self.root / "data"),
            f"RUNWAY_{service.upper()}_DATABASE_URL": self.databases.urls[service],
            "RUNWAY_SMTP_HOST": "127.0.0.1",
            "RUNWAY_SMTP_PORT": str(self.mail.port),
            "RUNWAY_SMTP_TIMEOUT_SECONDS": "3",
            "RUNWAY_STRIPE_WEBHOOK_SECRET": self.stripe_secret,
            "RUNWAY_ACTBLUE_USERNAME": self.actblue_credentials[0],
            "RUNWAY_ACTBLUE_PASSWORD": self.actblue_credentials[1],
            "RUNWAY_ANEDOT_WEBHOOK_SECRET": self.anedot_secret,
            "RUNWAY_NOTIFY_PUBLIC_URL": f"http://127.0.0.1:{self.ports['notify']}",
            "RUNWAY_SMS_API_BASE_URL": self.sms.url,
            "RUNWAY_SMS_ACCOUNT_SID": self.sms.account_sid,
            "RUNWAY_SMS_AUTH_TOKEN": self.sms.auth_token,
            "RUNWAY_SMS_FROM": self.sms.sender,
            # The tests post hundreds of sign-ups from one address, as a load test does.
            "RUNWAY_INTAKE_RATE_PER_IP_PER_MINUTE": "1000000",
        }
        if self.collector:
            env |= {
                "RUNWAY_OTEL_EXPORTER_OTLP_ENDPOINT": self.collector.url,
                "OTEL_BSP_SCHEDULE_DELAY": "100",
            }
        env |= self.extra_env.get(service, {})
        return env

    def log_tail(self, service: str, lines: int = 40) -> str:
        path = self.root / "logs" / f"{service}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, services: tuple[str, ...] = tuple(SERVICES)) -> Stack:
        for node in self.nats_cluster:
            node.start()
        self.apply_streams()
        self.mail.start()
        self.sms.start(f"{self.url('notify')}/v1/sms/inbound")
        from runway_devstack.processes import run_command, venv_command

        for service in SERVICES:
            run_command([venv_command(f"runway-{service}"), "migrate"], self.env(service))
        run_command(
            [venv_command("runway-matching"), "load-sample", "--states", "ks,mo"], self.env("matching")
        )
        for service in services:
            self.start_service(service)
        return self

    def apply_streams(self, timeout: float = 30.0) -> None:
        replicas = len(self.nats_cluster)

        async def apply() -> None:
            nc = await nats.connect(nats_servers(self.nats_url))
            try:
                # A new cluster elects its JetStream leader a few seconds after it starts.
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        definitions = load_definitions(self.definitions, replicas=replicas)
                        await apply_definitions(nc.jetstream(), definitions)
                        return
                    except nats.errors.Error:
                        if time.monotonic() > deadline:
                            raise
                        await asyncio.sleep(0.5)
            finally:
                await nc.close()

        asyncio.run(apply())

    def start_service(self, service: str, workers: int = 1) -> None:
        self.spawn_service(service, workers)
        self.wait_service_ready(service, workers)

    def spawn_service(self, service: str, workers: int = 1) -> None:
        """Start the service's processes without waiting for them to serve."""
        process = service_process(
            service, self.ports[service], self.env(service), self.root / "logs", workers
        )
        process.start()
        self.processes[service] = process

    def wait_service_ready(self, service: str, workers: int = 1) -> None:
        process = self.processes[service]
        process.wait_ready(timeout=60, workers=workers)  # /livez: every serving process is up
        process.ready_url = f"{self.url(service)}/readyz"
        process.wait_ready(timeout=60)

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()
        self.mail.stop()
        self.sms.stop()
        for node in self.nats_cluster:
            node.stop()
        if self.collector:
            self.collector.close()
        self.databases.drop()

    def stream_messages(self, stream: str) -> list[Any]:
        async def read() -> list[Any]:
            nc = await nats.connect(nats_servers(self.nats_url))
            js = nc.jetstream()
            info = await js.stream_info(stream)
            found: list[Any] = []
            if not info.state.messages:
                await nc.close()
                return found
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                try:
                    found.append(await js.get_msg(stream, seq))
                except nats.js.errors.NotFoundError:
                    continue
            await nc.close()
            return found

        return asyncio.run(read())

    def count(self, service: str, sql: str) -> int:
        engine = self.databases.engine(service)
        try:
            with engine.connect() as connection:
                return int(connection.execute(sa.text(sql)).scalar() or 0)
        finally:
            engine.dispose()


def _backend_params() -> list[str]:
    return ["sqlite", "postgresql"]


@pytest.fixture(params=_backend_params())
def db_backend(request: pytest.FixtureRequest) -> str:
    require_backend(request.param)
    return str(request.param)


@pytest.fixture
def stack_factory(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    stacks: list[Stack] = []

    def make(backend: str, *, trace: bool = False, services: tuple[str, ...] = tuple(SERVICES)) -> Stack:
        stack = Stack(tmp_path / f"stack{len(stacks)}", backend, trace=trace)
        stacks.append(stack)
        return stack.start(services)

    yield make
    for stack in stacks:
        stack.stop()
