"""JetStream subscribers that retry with backoff, then park poison messages in DLQ.

FastStream's default for NATS terminates a message when its handler raises
once. Runway subscribes with manual acks instead:

- success: ack;
- failure before the last attempt: nak with the delay configured for that
  attempt (consumer metadata `runway.retry_delays`, from deploy/nats);
- failure on the last attempt, or a message that cannot be parsed: publish it
  with its error to `dlq.<durable>.<subject>`, then term it.

Handlers get the parsed CloudEvent and its contract, and must do their effects
and their inbox row in one transaction, so a redelivery changes nothing.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from runway_contracts import CloudEvent, Event
from runway_contracts.catalogue import UnknownEventType
from runway_contracts.streams import dlq_subject

log = logging.getLogger(__name__)

Handler = Callable[[CloudEvent, Event], Awaitable[None]]

RETRY_DELAYS_KEY = "runway.retry_delays"


@dataclass(frozen=True)
class Subscription:
    stream: str
    durable: str
    subject: str
    handler: Handler
    batch_size: int = 16
    # Messages handled at once; more than one lets a handler group its writes
    # with other messages' (see group_commit.GroupCommit).
    max_workers: int = 1
    # A pull returns when `batch_size` messages came or this many seconds passed,
    # so it bounds the latency a partly filled batch adds when traffic is light.
    max_wait: float = 1.0


@dataclass
class RetryPolicy:
    max_deliver: int
    delays: list[float]

    def delay_after(self, attempt: int) -> float:
        return self.delays[min(attempt - 1, len(self.delays) - 1)] if self.delays else 1.0


class ReliableConsumers:
    """Registers Runway subscriptions on a FastStream NATS broker."""

    def __init__(self, broker: NatsBroker, registry: CollectorRegistry) -> None:
        self._broker = broker
        self._policies: dict[str, RetryPolicy] = {}
        self._outcomes = Counter(
            "runway_events_consumed",
            "Events handled by outcome",
            ["durable", "outcome"],
            registry=registry,
        )

    def subscribe(self, sub: Subscription) -> None:
        subscriber = self._broker.subscriber(
            sub.subject,
            stream=JStream(sub.stream, declare=False),
            durable=sub.durable,
            pull_sub=PullSub(batch_size=sub.batch_size, timeout=sub.max_wait),
            ack_policy=AckPolicy.MANUAL,
            **({"max_workers": sub.max_workers} if sub.max_workers > 1 else {}),
        )

        async def on_message(message: NatsMessage) -> None:
            await self._deliver(sub, message)

        on_message.__name__ = f"on_{sub.durable.replace('-', '_')}"
        subscriber(on_message)

    async def load_policies(self, jetstream: JetStreamContext, subs: list[Subscription]) -> None:
        """Read max_deliver and retry delays from the provisioned consumers."""
        for sub in subs:
            info = await jetstream.consumer_info(sub.stream, sub.durable)
            raw = (info.config.metadata or {}).get(RETRY_DELAYS_KEY, "")
            delays = [float(d) for d in raw.split(",") if d]
            self._policies[sub.durable] = RetryPolicy(info.config.max_deliver or 1, delays)

    async def _deliver(self, sub: Subscription, message: NatsMessage) -> None:
        raw = message.raw_message
        attempt = raw.metadata.num_delivered
        policy = self._policies.get(sub.durable) or RetryPolicy(1, [])
        try:
            envelope = CloudEvent.model_validate_json(raw.data)
            event = envelope.payload()
        except (ValidationError, UnknownEventType, ValueError) as error:
            await self._park(sub, message, error, attempt, reason="unparseable")
            return
        try:
            await sub.handler(envelope, event)
        except Exception as error:
            if attempt >= policy.max_deliver:
                await self._park(sub, message, error, attempt, reason="retries exhausted")
            else:
                delay = policy.delay_after(attempt)
                log.warning(
                    "handler %s failed on attempt %d/%d for event %s, retrying in %.1fs: %r",
                    sub.durable,
                    attempt,
                    policy.max_deliver,
                    envelope.id,
                    delay,
                    error,
                )
                self._outcomes.labels(sub.durable, "retried").inc()
                await message.nack(delay=delay)
            return
        await message.ack()
        self._outcomes.labels(sub.durable, "handled").inc()

    async def _park(
        self, sub: Subscription, message: NatsMessage, error: BaseException, attempt: int, reason: str
    ) -> None:
        raw = message.raw_message
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()[:2000]
        headers = {
            **{k: v for k, v in (raw.headers or {}).items() if k != "Nats-Msg-Id"},
            "Nats-Msg-Id": f"{sub.durable}:{raw.metadata.stream}:{raw.metadata.sequence.stream}",
            "Runway-Consumer": sub.durable,
            "Runway-Original-Subject": raw.subject,
            "Runway-Original-Stream": raw.metadata.stream,
            "Runway-Original-Sequence": str(raw.metadata.sequence.stream),
            "Runway-Attempts": str(attempt),
            "Runway-Reason": reason,
            "Runway-Error": detail.replace("\r", " ").replace("\n", " "),
        }
        js = self._broker.connection.jetstream()
        await js.publish(dlq_subject(sub.durable, raw.subject), raw.data, headers=headers)
        await message.reject()
        self._outcomes.labels(sub.durable, "dead_lettered").inc()
        log.error("parked message in DLQ: consumer=%s reason=%s error=%s", sub.durable, reason, detail)
