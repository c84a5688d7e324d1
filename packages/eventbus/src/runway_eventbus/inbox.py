"""Consumer-side deduplication: one row per (consumer, event id)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_storage import insert_if_absent, inserted_keys

Item = TypeVar("Item")
Result = TypeVar("Result")


class Inbox:
    def __init__(self, table: sa.Table, consumer: str) -> None:
        self._table = table
        self._consumer = consumer

    def first_delivery(self, session: Session, event_id: str) -> bool:
        """Record the event in the caller's transaction; False if already handled.

        Uses INSERT … ON CONFLICT DO NOTHING so a concurrent duplicate waits for
        the first transaction instead of aborting this one.
        """
        values = {"consumer": self._consumer, "event_id": event_id, "processed_at": datetime.now(UTC)}
        return insert_if_absent(session, self._table, values)

    def first_deliveries(self, session: Session, event_ids: Iterable[str]) -> set[str]:
        """`first_delivery` for many events in one statement: those not handled before."""
        keys = first_deliveries(session, self._table, ((self._consumer, e) for e in event_ids))
        return {event_id for _, event_id in keys}

    def already_handled(self, session: Session, event_id: str) -> bool:
        """True if this consumer committed this event before (read-only check)."""
        t = self._table
        found = session.execute(
            sa.select(t.c.event_id).where(t.c.consumer == self._consumer, t.c.event_id == event_id)
        ).first()
        return found is not None


def first_deliveries(
    session: Session, table: sa.Table, keys: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Record many (consumer, event id) pairs in one statement, in the caller's transaction;
    those not handled before (each once, however often it appears in `keys`)."""
    now = datetime.now(UTC)
    rows = [{"consumer": c, "event_id": e, "processed_at": now} for c, e in dict.fromkeys(keys)]
    return inserted_keys(session, table, rows)


def handle_each_once(
    session: Session,
    table: sa.Table,
    items: Sequence[Item],
    key: Callable[[Item], tuple[str, str]],
    handle: Callable[[Item], Result],
    already: Result,
) -> list[Result]:
    """A batch of consumed events in the caller's transaction, each at most once.

    The batch's inbox rows go in one statement; an event handled before (a redelivery,
    or the same event twice in the batch) answers `already`. An exception fails the batch
    (the group-commit writer then writes each event on its own): a savepoint per event
    would isolate it, but costs two statements an event, a quarter of notify's throughput
    on PostgreSQL. An event that cannot be handled yet is the handler's to keep (notify's
    events waiting for a contact), not a failure.
    """
    new = first_deliveries(session, table, [key(item) for item in items])
    answers: list[Result] = []
    for item in items:
        consumer_and_event = key(item)
        if consumer_and_event not in new:
            answers.append(already)
            continue
        new.discard(consumer_and_event)
        answers.append(handle(item))
    return answers
