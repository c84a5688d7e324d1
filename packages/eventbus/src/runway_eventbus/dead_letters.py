"""Reading and replaying parked messages.

Two kinds are parked: messages a handler gave up on (published to `dlq.>` with
their error), and messages the server stopped delivering after `max_deliver`
without a verdict (e.g. the consumer process crashed every time), recorded as
advisories in the ADVISORIES stream.

Replay republishes the original CloudEvent to its original subject under a new
`Nats-Msg-Id`. Every consumer of that subject sees it again; those that had
already handled the event find it in their inbox and change nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from runway_contracts.streams import DLQ

ADVISORIES = "ADVISORIES"


@dataclass(frozen=True)
class DeadLetter:
    kind: str  # "failed" (handler error) or "max_deliveries" (no verdict)
    parked_stream: str
    parked_seq: int
    consumer: str
    original_subject: str
    original_stream: str
    original_seq: int
    attempts: int
    error: str


async def _stream_messages(js: JetStreamContext, stream: str):  # type: ignore[no-untyped-def]
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        return
    if not info.state.messages:
        return
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            yield await js.get_msg(stream, seq)
        except NotFoundError:
            continue


async def list_dead_letters(js: JetStreamContext) -> list[DeadLetter]:
    letters = []
    async for msg in _stream_messages(js, DLQ):
        h = msg.headers or {}
        letters.append(
            DeadLetter(
                kind="failed",
                parked_stream=DLQ,
                parked_seq=msg.seq or 0,
                consumer=h.get("Runway-Consumer", "?"),
                original_subject=h.get("Runway-Original-Subject", "?"),
                original_stream=h.get("Runway-Original-Stream", "?"),
                original_seq=int(h.get("Runway-Original-Sequence", "0")),
                attempts=int(h.get("Runway-Attempts", "0")),
                error=h.get("Runway-Error", ""),
            )
        )
    async for msg in _stream_messages(js, ADVISORIES):
        advisory = json.loads(msg.data or b"{}")
        if "MAX_DELIVERIES" not in (msg.subject or ""):
            continue
        letters.append(
            DeadLetter(
                kind="max_deliveries",
                parked_stream=ADVISORIES,
                parked_seq=msg.seq or 0,
                consumer=advisory.get("consumer", "?"),
                original_subject="",
                original_stream=advisory.get("stream", "?"),
                original_seq=int(advisory.get("stream_seq", 0)),
                attempts=int(advisory.get("deliveries", 0)),
                error="delivered max_deliver times without an ack (consumer crashed or hung)",
            )
        )
    return letters


async def replay(js: JetStreamContext, letter: DeadLetter) -> None:
    """Republish the original event, then remove the parked copy."""
    if letter.kind == "failed":
        parked = await js.get_msg(letter.parked_stream, letter.parked_seq)
        subject, data = letter.original_subject, parked.data or b""
        carried = {k: v for k, v in (parked.headers or {}).items() if not k.startswith(("Runway-", "Nats-"))}
    else:
        original = await js.get_msg(letter.original_stream, letter.original_seq)
        subject, data = original.subject or "", original.data or b""
        carried = {k: v for k, v in (original.headers or {}).items() if not k.startswith("Nats-")}
    msg_id = f"replay:{letter.parked_stream}:{letter.parked_seq}"
    await js.publish(subject, data, headers={**carried, "Nats-Msg-Id": msg_id})
    await js.delete_msg(letter.parked_stream, letter.parked_seq)
