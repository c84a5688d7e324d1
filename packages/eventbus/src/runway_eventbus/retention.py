"""Removes outbox and inbox rows once nothing can need them.

Both tables gain a row for every event a service publishes or handles: at 250,000 sign-ups
a day intake's outbox alone grows by about half a gigabyte a day. A published outbox row
is needed by nobody (JetStream holds the event, and drops a re-publish within its
duplicate window); it is kept a while for looking into what was sent. An inbox row is what
makes a second copy of an event harmless, so it is kept for as long as a copy can come
back: a stream keeps an event 30 days, and a copy parked in the dead-letter stream within
those may be replayed for 90 days more (deploy/nats) — hence the defaults, 7 and 120 days.

Age is the event's: event ids are time-ordered (`runway_storage.ids`), so "events made
before the cutoff" is a range of the id's index, and a pass reads only the rows it
deletes — however large the tables, however few of their rows are old. Rows go a batch
per transaction, so that writers waiting for SQLite's write lock wait for one short
DELETE at most. (Ids made before time-ordered ids existed, 2026-11-29, are random and
may go early or late.)
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.engine import Engine

from runway_storage.ids import first_id_at

log = logging.getLogger(__name__)


class Retention:
    def __init__(
        self,
        engine: Engine,
        outbox: sa.Table,
        inbox: sa.Table,
        registry: CollectorRegistry,
        *,
        outbox_keep: timedelta | None,
        inbox_keep: timedelta | None,
        every: float = 600.0,
        batch: int = 2000,
        batches_per_pass: int = 100,
    ) -> None:
        """`outbox_keep`, `inbox_keep`: how old an event's rows get before they go (None:
        never; an outbox row not yet published never goes). `every`: seconds between
        passes; a pass deletes at most `batches_per_pass` batches of each table (of each
        consumer's inbox rows), and the next pass goes on."""
        self._engine = engine
        self._keep = {"outbox": outbox_keep, "inbox": inbox_keep}
        self._every = every
        self._batch = batch
        self._batches_per_pass = batches_per_pass
        before = sa.bindparam("before")
        old_published = (
            sa.select(outbox.c.seq)
            .where(outbox.c.event_id < before, outbox.c.published_at.is_not(None))
            .order_by(outbox.c.event_id)
            .limit(batch)
        )
        consumer = sa.bindparam("consumer")
        old_handled = (
            sa.select(inbox.c.event_id)
            .where(inbox.c.consumer == consumer, inbox.c.event_id < before)
            .order_by(inbox.c.event_id)
            .limit(batch)
        )
        self._outbox_delete = outbox.delete().where(outbox.c.seq.in_(old_published))
        self._inbox_delete = inbox.delete().where(
            inbox.c.consumer == consumer, inbox.c.event_id.in_(old_handled)
        )
        # Each consumer once, by the primary key's leading column (a loose index scan: one
        # probe per consumer, not a read of every row).
        name = engine.dialect.identifier_preparer.format_table(inbox)
        self._consumers = sa.text(
            f"WITH RECURSIVE c(consumer) AS (SELECT MIN(consumer) FROM {name} UNION ALL "
            f"SELECT (SELECT MIN(consumer) FROM {name} WHERE consumer > c.consumer) FROM c "
            "WHERE c.consumer IS NOT NULL) SELECT consumer FROM c WHERE consumer IS NOT NULL"
        )
        self._deleted = Counter(
            "runway_retention_deleted",
            "Outbox rows (published) and inbox rows of events older than they are kept",
            ["table"],
            registry=registry,
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)

    def prune(self, now: datetime | None = None) -> dict[str, int]:
        """One pass: how many rows of each table went."""
        now = now or datetime.now(UTC)
        deleted = {"outbox": 0, "inbox": 0}
        if (keep := self._keep["outbox"]) is not None:
            deleted["outbox"] = self._in_batches(
                "outbox", self._outbox_delete, {"before": first_id_at(now - keep)}
            )
        if (keep := self._keep["inbox"]) is not None:
            with self._engine.connect() as connection:
                consumers = list(connection.scalars(self._consumers))
            before = first_id_at(now - keep)
            for consumer in consumers:
                deleted["inbox"] += self._in_batches(
                    "inbox", self._inbox_delete, {"before": before, "consumer": consumer}
                )
        return deleted

    def _in_batches(self, table: str, delete: sa.Delete, params: dict[str, str]) -> int:
        deleted = 0
        for _ in range(self._batches_per_pass):
            with self._engine.begin() as connection:
                gone = connection.execute(delete, params).rowcount
            deleted += gone
            self._deleted.labels(table).inc(gone)
            if gone < self._batch or self._stop.is_set():
                break
        return deleted

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                deleted = self.prune()
                if any(deleted.values()):
                    log.info("retention: deleted %s", deleted)
            except Exception:
                log.exception("retention pass failed; trying again at the next")
