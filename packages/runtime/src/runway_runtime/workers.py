"""`serve --workers N`: N serving processes of one service sharing one port.

One Python process spends its single GIL on HTTP parsing, validation and
database writes alike; on a machine with more than one core a service serves
more by running several processes. Each binds the port with SO_REUSEPORT, so
the kernel spreads incoming connections across them, and each knows its index
(`RUNWAY_WORKER_INDEX` of `RUNWAY_WORKERS`) so processes sharing a database
split work (outbox relay, count shards) instead of repeating it.

The supervisor only starts, restarts and stops them: a worker that dies is
started again; SIGTERM or SIGINT is passed on, and each worker shuts down
gracefully on its own.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1


def reuse_port_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _stop_with_parent() -> None:
    """In the worker, before exec: SIGTERM when the supervisor dies, however it dies (Linux).

    Without it, a SIGKILLed supervisor leaves its workers serving on the port forever.
    """
    if sys.platform == "linux":
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class WorkerSupervisor:
    def __init__(self, argv: Sequence[str], count: int, *, restart_delay: float = 1.0) -> None:
        self._argv = list(argv)
        self._count = count
        self._restart_delay = restart_delay
        self._workers: dict[int, subprocess.Popen[bytes]] = {}
        self._stopping = False

    def _start(self, index: int) -> None:
        env = {**os.environ, "RUNWAY_WORKER_INDEX": str(index), "RUNWAY_WORKERS": str(self._count)}
        self._workers[index] = subprocess.Popen(self._argv, env=env, preexec_fn=_stop_with_parent)
        log.info("started worker %d of %d (pid %d)", index, self._count, self._workers[index].pid)

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        if self._stopping:
            return
        self._stopping = True
        for worker in self._workers.values():
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)

    def run(self, grace: float = 30.0) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for index in range(self._count):
            self._start(index)
        while not self._stopping:
            time.sleep(0.2)
            for index, worker in list(self._workers.items()):
                if worker.poll() is not None and not self._stopping:
                    log.warning("worker %d exited with %s; starting it again", index, worker.returncode)
                    time.sleep(self._restart_delay)
                    self._start(index)
        deadline = time.monotonic() + grace
        for worker in self._workers.values():
            try:
                worker.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        return 0
