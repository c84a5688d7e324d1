"""Starting, probing and stopping Runway's processes (shared by `runway-dev` and tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVICES = {"intake": 8001, "matching": 8002, "notify": 8003, "donations": 8004}


def venv_command(name: str) -> str:
    """A console script installed beside this Python (the project's virtualenv)."""
    return str(Path(sys.executable).parent / name)


@dataclass
class ManagedProcess:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    ready_url: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child process
        self.process = subprocess.Popen(
            self.argv,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor, which stops children in order
        )

    def wait_ready(self, timeout: float = 30.0, path_ok: tuple[int, ...] = (200,), workers: int = 1) -> None:
        """Until the ready URL answers; with several serving processes, until each has answered.

        Each probe opens a new connection, which the kernel hands to any of
        the processes sharing the port, so every one is seen soon enough.
        """
        if not self.ready_url:
            return
        deadline = time.monotonic() + timeout
        seen: set[object] = set()
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                response = httpx.get(self.ready_url, timeout=1.0)
                if response.status_code in path_ok:
                    if workers == 1:
                        return
                    seen.add(response.json().get("worker"))
                    if len(seen) >= workers:
                        return
            except httpx.HTTPError:
                pass
            time.sleep(0.05 if seen else 0.1)
        raise TimeoutError(
            f"{self.name} not ready at {self.ready_url} within {timeout}s; see {self.log_path}"
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 25.0) -> None:
        if self.running:
            assert self.process
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.running:
            assert self.process
            self.process.kill()
            self.process.wait()


def service_process(
    name: str, port: int, env: dict[str, str], log_dir: Path, workers: int = 1
) -> ManagedProcess:
    return ManagedProcess(
        name=name,
        argv=[venv_command(f"runway-{name}"), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        log_path=log_dir / f"{name}.log",
        ready_url=f"http://127.0.0.1:{port}/livez",
    )


def run_command(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")
