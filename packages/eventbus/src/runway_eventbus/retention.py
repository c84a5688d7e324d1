"""Removes outbox and inbox rows once nothing can need them.

Both tables gain a row for every event a service publishes or handles: at 250,000 sign-ups
a day intake's outbox alone grows by about half a gigabyte a day. A published outbox row
is needed by nobody (JetStream holds the event, and drops a re-publish within its
duplicate window); it is kept a while for looking into what was sent. An inbox row is what
makes a second copy of an event harmless, so it is kept for as long as a copy can come
back: the streams keep events 30 days and the dead-letter stream 90 (deploy/nats), whence
a replay re-publishes them — hence the defaults, 7 and 90 days.

Rows go a batch per transaction, oldest first, so that writers waiting for SQLite's write
lock wait for one short DELETE at most. Neither table has an index on its time column:
the outbox is walked by its sequence (the oldest rows come first) and the inbox in storage
order, which is the order rows were written in, so each batch finds its rows at the start.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.engine import Engine

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
        """`outbox_keep`, `inbox_keep`: how long after publishing / handling a row goes
        (None: never). `every`: seconds between passes; a pass deletes at most
        `batches_per_pass` batches of each table and the next pass goes on."""
        self._engine = engine
        self._keep = {"outbox": outbox_keep, "inbox": inbox_keep}
        self._every = every
        self._batch = batch
        self._batches_per_pass = batches_per_pass
        before = sa.bindparam("before", type_=outbox.c.published_at.type)
        oldest_published = (
            sa.select(outbox.c.seq).where(outbox.c.published_at < before).order_by(outbox.c.seq).limit(batch)
        )
        handled_long_ago = (
            sa.select(inbox.c.consumer, inbox.c.event_id)
            .where(inbox.c.processed_at < sa.bindparam("before", type_=inbox.c.processed_at.type))
            .limit(batch)
        )
        self._deletes = {
            "outbox": outbox.delete().where(outbox.c.seq.in_(oldest_published)),
            "inbox": inbox.delete().where(
                sa.tuple_(inbox.c.consumer, inbox.c.event_id).in_(handled_long_ago)
            ),
        }
        self._deleted = Counter(
            "runway_retention_deleted",
            "Outbox rows published, and inbox rows handled, longer ago than they are kept",
            ["table"],
            registry=registry,
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)

    def prune(self, now: datetime | None = None) -> dict[str, int]:
        """One pass: how many rows of each table went."""
        now = now or datetime.now(UTC)
        deleted = {}
        for table, keep in self._keep.items():
            deleted[table] = 0
            if keep is None:
                continue
            for _ in range(self._batches_per_pass):
                with self._engine.begin() as connection:
                    gone = connection.execute(self._deletes[table], {"before": now - keep}).rowcount
                deleted[table] += gone
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
