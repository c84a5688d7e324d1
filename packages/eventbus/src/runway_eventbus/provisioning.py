"""Streams and durable consumers as code: read deploy/nats/jetstream.json, apply it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from runway_eventbus.consumer import RETRY_DELAYS_KEY

DEFAULT_DEFINITIONS = Path("deploy/nats/jetstream.json")


@dataclass(frozen=True)
class Definitions:
    streams: list[StreamConfig]
    consumers: list[tuple[str, ConsumerConfig]]


def load_definitions(path: Path, *, replicas: int = 1) -> Definitions:
    spec = json.loads(path.read_text())
    streams = [
        StreamConfig(
            name=s["name"],
            subjects=s["subjects"],
            storage=StorageType.FILE,
            max_age=float(s["max_age_seconds"]),
            duplicate_window=float(s["duplicate_window_seconds"]),
            num_replicas=replicas,
        )
        for s in spec["streams"]
    ]
    defaults: dict[str, Any] = spec.get("consumer_defaults", {})
    consumers = []
    for c in spec["consumers"]:
        merged = {**defaults, **c}
        if len(merged["durable"]) >= 32 or "." in merged["durable"]:
            raise ValueError(f"durable name {merged['durable']!r}: no dots, under 32 characters")
        delays = ",".join(str(d) for d in merged["retry_delays_seconds"])
        consumers.append(
            (
                merged["stream"],
                ConsumerConfig(
                    name=merged["durable"],
                    durable_name=merged["durable"],
                    filter_subject=merged["filter_subject"],
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=float(merged["ack_wait_seconds"]),
                    max_deliver=int(merged["max_deliver"]),
                    max_ack_pending=int(merged["max_ack_pending"]),
                    num_replicas=replicas,
                    metadata={RETRY_DELAYS_KEY: delays},
                ),
            )
        )
    return Definitions(streams, consumers)


async def apply_definitions(js: JetStreamContext, definitions: Definitions) -> list[str]:
    """Create or update every stream and consumer; safe to run any number of times."""
    report = []
    for stream in definitions.streams:
        try:
            await js.stream_info(stream.name or "")
        except NotFoundError:
            await js.add_stream(stream)
            report.append(f"created stream {stream.name}")
        else:
            await js.update_stream(stream)
            report.append(f"updated stream {stream.name}")
    for stream_name, consumer in definitions.consumers:
        # CONSUMER.CREATE with an existing name updates the editable fields.
        await js.add_consumer(stream_name, consumer)
        report.append(f"applied consumer {stream_name}/{consumer.durable_name}")
    return report
