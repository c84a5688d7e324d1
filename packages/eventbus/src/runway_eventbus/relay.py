"""Publishes staged outbox rows to JetStream and marks them only after the ack."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import anyio
import sqlalchemy as sa
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from runway_eventbus.outbox import FAN_OUT_HEADER, messages_of

log = logging.getLogger(__name__)


class OutboxRelay:
    """Moves events from a service's outbox table to JetStream.

    Wakes when a transaction that staged events commits (`wake()`, callable
    from any thread) and polls as a fallback, so events staged by another
    process or left behind by a crash are published too. If NATS is down the
    rows simply wait; the JetStream duplicate window plus consumer inboxes make
    a re-publish after a crash between ack and mark harmless.

    When a service runs several serving processes on one database, each
    relay publishes its own share of the rows (`partition`: this one's index
    and the count) so they do not all publish every event, and any relay
    takes over rows left unpublished longer than `orphaned_after` seconds
    (their process died); a row both publish is deduplicated by JetStream.
    """

    def __init__(
        self,
        engine: Engine,
        table: sa.Table,
        jetstream: JetStreamContext,
        registry: CollectorRegistry,
        *,
        batch_size: int = 200,
        poll_interval: float = 1.0,
        publish_timeout: float = 5.0,
        partition: tuple[int, int] = (0, 1),
        orphaned_after: float = 10.0,
    ) -> None:
        self._engine = engine
        self._table = table
        self._js = jetstream
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._publish_timeout = publish_timeout
        self._partition = partition
        self._orphaned_after = timedelta(seconds=orphaned_after)
        # Built once: building a statement costs more than running it from SQLAlchemy's
        # compiled cache, and at a few events a commit the relay runs a cycle per commit.
        t = table
        unpublished = t.c.published_at.is_(None)
        index, count = partition
        if count > 1:
            mine = sa.or_(t.c.seq % count == index, t.c.created_at < sa.bindparam("orphaned_before"))
            unpublished = sa.and_(unpublished, mine)
        self._unpublished = (
            sa.select(t.c.seq, t.c.event_id, t.c.subject, t.c.body, t.c.headers, t.c.created_at)
            .where(unpublished)
            .order_by(t.c.seq)
            .limit(batch_size)
        )
        self._count_unpublished = sa.select(sa.func.count()).select_from(t).where(t.c.published_at.is_(None))
        # On PostgreSQL the batch's numbers go as one array: one statement text for any
        # count, prepared once (an IN list of each length is a statement of its own).
        seqs = (
            t.c.seq == sa.any_(sa.bindparam("seqs", type_=postgresql.ARRAY(sa.BigInteger)))
            if engine.dialect.name == "postgresql"
            else t.c.seq.in_(sa.bindparam("seqs", expanding=True))
        )
        self._mark = t.update().where(seqs).values(published_at=sa.bindparam("now"))
        self._wakeup = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._published = Counter(
            "runway_outbox_published", "Outbox events acknowledged by JetStream", registry=registry
        )
        self._pending = Gauge("runway_outbox_pending", "Outbox events not yet published", registry=registry)
        self._oldest_age = Gauge(
            "runway_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox event",
            registry=registry,
        )

    def wake(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        backoff = self._poll_interval
        while not self._stopping:
            try:
                published = await self.publish_pending()
                backoff = self._poll_interval
            except Exception as error:  # NATS or database down: keep the rows, try again
                log.warning("outbox relay could not publish: %s", error)
                published = 0
                backoff = min(backoff * 2, 10.0)
            if published >= self._batch_size:
                continue
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=backoff)

    async def stop(self) -> None:
        """Stop after publishing what is pending, batch after batch, for up to the publish
        timeout (a stop that drained a full consumer batch can leave more than one relay
        batch behind); what is left waits in the outbox for the next start."""
        self._stopping = True
        self._wakeup.set()
        try:
            async with asyncio.timeout(self._publish_timeout):
                while await self.publish_pending() >= self._batch_size:
                    pass
        except Exception as error:
            log.warning("outbox relay stopped with events pending: %r", error)

    async def publish_pending(self) -> int:
        rows = await anyio.to_thread.run_sync(self._claim_batch)
        if not rows:
            self._pending.set(0)
            self._oldest_age.set(0)
            return 0
        plain = [row for row in rows if FAN_OUT_HEADER not in row.headers]
        fan_outs = [row for row in rows if FAN_OUT_HEADER in row.headers]
        # One after the other: the first asynchronous publish subscribes to the acks, and
        # nothing else may publish before that subscription is in place.
        results: list[int | BaseException] = []
        try:
            results += await self._publish_plain(plain)
        except Exception as error:
            results += [error] * len(plain)
        for row in fan_outs:
            try:
                results.append(await self._publish_fan_out(row))
            except Exception as error:
                results.append(error)
        done = [*plain, *fan_outs]
        acked = [row.seq for row, result in zip(done, results, strict=True) if isinstance(result, int)]
        if acked:
            await anyio.to_thread.run_sync(self._mark_published, acked)
            self._published.inc(sum(r for r in results if isinstance(r, int)))
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]
        return len(acked)

    async def _publish_plain(self, rows: list[sa.Row[tuple[object, ...]]]) -> list[int | BaseException]:
        """Publish one event per row, all at once; for each row 1 (acked) or why not.

        JetStream's asynchronous publish: every message goes out with a reply subject
        of one shared subscription and its ack arrives on a future, instead of a
        request, its own inbox, timer and task per message (a quarter of intake's event
        loop at full load went to those).
        """
        acks = [
            await self._send(row.subject, row.body, row.headers, row.event_id)  # type: ignore[arg-type]
            for row in rows
        ]
        return await self._acknowledged(acks)

    async def _publish_fan_out(self, row: sa.Row[tuple[object, ...]]) -> int:
        """A fan-out row's thousands of events, a batch at a time: all acked, or the row
        stays unpublished and is published again (duplicates are dropped by their ids)."""
        messages = await anyio.to_thread.run_sync(messages_of, row.event_id, row.body, row.headers)
        for start in range(0, len(messages), self._batch_size):
            acks = [
                await self._send(row.subject, body, row.headers, message_id)  # type: ignore[arg-type]
                for message_id, body in messages[start : start + self._batch_size]
            ]
            for result in await self._acknowledged(acks):
                if isinstance(result, BaseException):
                    raise result
        return len(messages)

    async def _send(
        self, subject: str, body: bytes, headers: dict[str, str], message_id: str
    ) -> asyncio.Future[object]:
        """The message on its way; the future of its ack (or of the error sending it)."""
        sent = {k: v for k, v in headers.items() if k != FAN_OUT_HEADER} | {"Nats-Msg-Id": message_id}
        try:
            # No stall timeout: it would cost a timer and a task per message, and a relay
            # never has more than a batch (200) of the client's 4,000 places in flight.
            return await self._js.publish_async(subject, body, headers=sent)
        except Exception as error:
            failed: asyncio.Future[object] = asyncio.get_running_loop().create_future()
            failed.set_exception(error)
            return failed

    async def _acknowledged(self, acks: list[asyncio.Future[object]]) -> list[int | BaseException]:
        if acks:
            await asyncio.wait(acks, timeout=self._publish_timeout)
        results: list[int | BaseException] = []
        for ack in acks:
            if not ack.done() or ack.cancelled():
                ack.cancel()  # frees its place among the pending publishes
                results.append(TimeoutError(f"no ack from JetStream in {self._publish_timeout} s"))
            else:
                error = ack.exception()
                results.append(error if error is not None else 1)
        return results

    def _claim_batch(self) -> list[sa.Row[tuple[object, ...]]]:
        index, count = self._partition
        params = {"orphaned_before": datetime.now(UTC) - self._orphaned_after} if count > 1 else {}
        with self._engine.connect() as connection:
            rows = connection.execute(self._unpublished, params).all()
            if count == 1 and len(rows) < self._batch_size:
                pending = len(rows)  # all there is: no need to count them again
            else:
                pending = connection.scalar(self._count_unpublished) or 0
        self._pending.set(pending)
        if rows:
            oldest = rows[0].created_at
            if oldest.tzinfo is None:  # SQLite returns naive datetimes
                oldest = oldest.replace(tzinfo=UTC)
            self._oldest_age.set((datetime.now(UTC) - oldest).total_seconds())
        return list(rows)

    def _mark_published(self, seqs: list[int]) -> None:
        with self._engine.begin() as connection:
            connection.execute(self._mark, {"seqs": seqs, "now": datetime.now(UTC)})
