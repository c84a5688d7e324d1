"""The load generator counts a request as unanswered only when the server really did not answer.

A server closes a keep-alive connection that sat idle (uvicorn after 5 s); at a low rate
over many connections, every connection sits idle that long between requests. Sending
into such a connection would be reported as "unanswered" and fail a fault scenario's
verdict for nothing.
"""

from __future__ import annotations

import asyncio

from benchmarks.loadgen import render
from benchmarks.loadgen import run as drive

IDLE_CLOSE = 0.1


async def _serve_closing_idle(answered: list[int]) -> asyncio.Server:
    """A minimal HTTP/1.1 server that answers 202 and drops connections idle for IDLE_CLOSE s."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_CLOSE)
                except (TimeoutError, asyncio.IncompleteReadError):
                    return
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                answered.append(1)
                writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def drive_closing_server(*, seconds: float, rate: float) -> tuple[dict[int, int], int]:
    """The load generator against that server over 2 connections: its statuses, and how
    many requests the server answered."""

    async def scenario() -> tuple[dict[int, int], int]:
        answered: list[int] = []
        server = await _serve_closing_idle(answered)
        port = server.sockets[0].getsockname()[1]
        async with server:
            result = await drive(
                "127.0.0.1",
                port,
                lambda i: render("POST", "/", f"127.0.0.1:{port}", b"{}"),
                seconds=seconds,
                connections=2,
                rate=rate,
            )
        return result.statuses, len(answered)

    return asyncio.run(scenario())


def test_connections_closed_while_idle_are_reopened_not_counted_unanswered() -> None:
    # 2 connections at 4/s: each waits 0.25 s or more between requests, well past the
    # idle limit (a wide margin, so a busy machine does not make it a race).
    statuses, answered = drive_closing_server(seconds=2.0, rate=4)
    assert set(statuses) == {202}, statuses  # none unanswered (0)
    assert statuses[202] == answered >= 7


def test_a_rate_of_zero_sends_nothing() -> None:
    """`--webhooks 0` in the pipeline harness means no webhooks, not as many as the server takes."""
    assert drive_closing_server(seconds=0.5, rate=0) == ({}, 0)
