"""A small HTTP/1.1 load generator for loopback benchmarks (standard library only).

Keep-alive connections, pre-rendered requests, one process. Two modes:
- closed loop (`rate=None`): each connection sends its next request as soon as
  the last answer arrives — the maximum sustained throughput;
- open loop (`rate=R`, R > 0): requests are scheduled at R per second regardless of
  answers, and latency is measured from the scheduled time (no coordinated
  omission), so queueing shows up in the percentiles.
Bounded in count and time; stops by itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


@dataclass
class Result:
    started: float
    finished: float
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        elapsed = self.finished - self.started
        return self.ok / elapsed if elapsed > 0 else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000 if ordered else float("nan")

    def summary(self) -> dict[str, object]:
        return {
            "accepted": self.ok,
            "seconds": round(self.finished - self.started, 2),
            "per_second": round(self.rate, 1),
            "p50_ms": round(self.percentile(0.50), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "max_ms": round(self.percentile(1.0), 2),
            "statuses": self.statuses,
        }


def render(
    method: str,
    path: str,
    host: str,
    body: bytes,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> bytes:
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    return (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n{extra}\r\n"
    ).encode() + body


def client_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run the client on uvloop, as the services run: the client shares the two cores with
    what it measures. At 1,500 requests/s it took 48 % of a core on asyncio's own loop and
    with a task per `wait_for`, 28–32 % on uvloop with `asyncio.timeout` (2026-11-29)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The status, and whether the server is closing the connection after it."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, closing = 0, False
    for line in head.split(b"\r\n"):
        lower = line.lower()
        if lower[:15] == b"content-length:":
            length = int(line[15:])
        elif lower[:11] == b"connection:" and b"close" in lower:
            closing = True
    if length:
        await reader.readexactly(length)
    return status, closing


async def run(
    host: str,
    port: int,
    make_request: Callable[[int], bytes],
    *,
    seconds: float,
    connections: int,
    rate: float | None = None,
    ok_statuses: tuple[int, ...] = (200, 201, 202),
    total: int | None = None,
    on_answer: Callable[[int, int, float], None] | None = None,
    answer_timeout: float = 30.0,
) -> Result:
    """Until `seconds` have passed or, if given, `total` requests have been answered.

    `on_answer(index, status, seconds)` hears of each answer (index as given to
    `make_request`), for callers that must know which requests were accepted; a
    request whose connection broke, or that got no answer within `answer_timeout`,
    is reported with status 0. `rate=0` sends nothing (not a closed loop)."""
    result = Result(time.perf_counter(), 0.0)
    if rate == 0:
        result.finished = result.started
        return result
    deadline = result.started + seconds
    counter = iter(range(10**12))
    schedule: asyncio.Queue[float] = asyncio.Queue()

    async def pace() -> None:
        assert rate
        interval, n = 1.0 / rate, 0
        while True:
            due = result.started + n * interval
            if due >= deadline:
                return
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            schedule.put_nowait(due)
            n += 1

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        # A server being restarted refuses connections for a while: keep trying until the end.
        while time.perf_counter() < deadline:
            try:
                return await asyncio.open_connection(host, port)
            except OSError:
                await asyncio.sleep(0.1)
        return None

    async def worker() -> None:
        connection = await connect()
        if connection is None:
            return
        reader, writer = connection
        try:
            while True:
                if rate:
                    try:
                        async with asyncio.timeout(max(deadline - time.perf_counter(), 0.01)):
                            sent = await schedule.get()
                    except TimeoutError:
                        return
                else:
                    sent = time.perf_counter()
                    if sent >= deadline:
                        return
                if reader.at_eof() or writer.is_closing():
                    # The server closed this connection while it sat idle (uvicorn keeps one
                    # open 5 s): open another instead of sending into a closed socket.
                    writer.close()
                    if (connection := await connect()) is None:
                        return
                    reader, writer = connection
                index = next(counter)
                if total is not None and index >= total:
                    return
                try:
                    writer.write(make_request(index))
                    async with asyncio.timeout(answer_timeout):
                        status, closing = await _read_response(reader)
                except (OSError, RuntimeError, asyncio.IncompleteReadError, TimeoutError):
                    # The server went away mid-request: unanswered (status 0), which may
                    # or may not have taken effect; carry on over a new connection. (uvloop
                    # raises RuntimeError when writing on a connection the server reset.)
                    note(index, 0, time.perf_counter() - sent)
                    writer.close()
                    if (connection := await connect()) is None:
                        return
                    reader, writer = connection
                    continue
                note(index, status, time.perf_counter() - sent)
                if closing:  # e.g. after an error page: the next request needs a new connection
                    writer.close()
                    if (connection := await connect()) is None:
                        return
                    reader, writer = connection
        finally:
            writer.close()

    def note(index: int, status: int, took: float) -> None:
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if status in ok_statuses:
            result.latencies.append(took)
        if on_answer is not None:
            on_answer(index, status, took)

    tasks = [asyncio.create_task(worker()) for _ in range(connections)]
    if rate:
        tasks.append(asyncio.create_task(pace()))
    await asyncio.gather(*tasks)
    result.finished = time.perf_counter()
    return result
