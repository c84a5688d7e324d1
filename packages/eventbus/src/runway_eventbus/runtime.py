"""Messaging lifecycle of one service process: broker, consumers, outbox relay.

Starting never waits for NATS: when the server is down the service still
starts and accepts work (it lands in the outbox), and connects in the
background; `/readyz` reports NATS unreachable until it is.
"""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from faststream.nats import NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

from runway_eventbus.consumer import ReliableConsumers, Subscription
from runway_eventbus.relay import OutboxRelay
from runway_eventbus.servers import nats_servers

log = logging.getLogger(__name__)


class Messaging:
    def __init__(
        self,
        nats_url: str,
        engine: Engine,
        outbox: sa.Table,
        registry: CollectorRegistry,
        tracer_provider: TracerProvider,
        *,
        graceful_timeout: float = 15.0,
        relay_partition: tuple[int, int] = (0, 1),
    ) -> None:
        self._relay_partition = relay_partition
        self._graceful_timeout = graceful_timeout
        self.broker = NatsBroker(
            nats_servers(nats_url),
            middlewares=[NatsTelemetryMiddleware(tracer_provider=tracer_provider)],
            graceful_timeout=graceful_timeout,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=2,
            logger=logging.getLogger("runway.faststream"),  # through the service's JSON log handler
            # "Received"/"Processed" for every message: DEBUG, not INFO. At thousands of events a
            # second they cost CPU and drown the log; runway_events_consumed counts them instead.
            log_level=logging.DEBUG,
        )
        self._engine = engine
        self._outbox = outbox
        self._registry = registry
        self._subscriptions: list[Subscription] = []
        self._consumers = ReliableConsumers(self.broker, registry, tracer_provider)
        self.relay: OutboxRelay | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self._consuming_stopped = False

    def add_subscription(self, subscription: Subscription) -> None:
        self._subscriptions.append(subscription)
        self._consumers.subscribe(subscription)

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._connect_then_run()))

    async def wait_connected(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def _connect_then_run(self) -> None:
        delay = 0.2
        while True:
            try:
                await self.broker.connect()
                break
            except Exception as error:
                log.warning("NATS not reachable yet (%s); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        js = self.broker.connection.jetstream()
        self.relay = OutboxRelay(
            self._engine, self._outbox, js, self._registry, partition=self._relay_partition
        )
        self._tasks.append(asyncio.create_task(self.relay.run()))
        while True:
            try:
                await self._consumers.load_policies(js, self._subscriptions)
                await self.broker.start()
                break
            except Exception as error:  # streams not applied yet, or NATS flapping
                log.warning("cannot start consumers yet (%s); retrying", error)
                await asyncio.sleep(1.0)
        while True:
            try:
                for pull in self._consumers.batched:
                    await pull.start(js)  # a pull already started is left as it is
                break
            except Exception as error:
                log.warning("cannot start batched consumers yet (%s); retrying", error)
                await asyncio.sleep(1.0)
        self._connected.set()

    def is_connected(self) -> bool:
        return self._connected.is_set() and self.broker.connection.is_connected

    async def stop_consuming(self) -> None:
        """Stop taking messages; return once the handlers in flight have finished (each
        subscriber waits up to graceful_timeout). The service's writers, which those
        handlers wait on, are stopped after this, and the relay after them."""
        if self._connected.is_set() and not self._consuming_stopped:
            self._consuming_stopped = True
            await asyncio.gather(
                *(sub.stop() for sub in self.broker.subscribers),
                *(pull.stop(self._graceful_timeout) for pull in self._consumers.batched),
                return_exceptions=True,
            )

    async def stop(self) -> None:
        """Finish in-flight handlers, publish what they staged, then disconnect.

        Order matters: subscribers stop first (`stop_consuming`, if not done yet), the
        relay then flushes the outbox over the still-open connection, and only then is
        the connection drained. Anything left unpublished stays in the outbox for the
        next start.
        """
        connected = self._connected.is_set()
        await self.stop_consuming()
        if self.relay is not None:
            await self.relay.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if connected:
            try:
                await self.broker.stop()
            except Exception as error:  # already closed by the server going away
                log.warning("closing the NATS connection: %s", error)
