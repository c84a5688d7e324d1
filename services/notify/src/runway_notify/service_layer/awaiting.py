"""Events about a lead that reached notify before the lead's contact details did.

A lead's match, its deadline reminders and its new-race notices come from matching;
its contact details from intake's `lead.received`. They are separate durable
consumers with backlogs of their own, so after an outage, a restart or under load a
match often arrives first (dozens of 120 in one run of the two-process test). Retried
through JetStream such an event spends its deliveries on waiting and, behind a
backlog longer than its retry delays, ends in the DLQ though nothing is wrong with it.

So it waits here instead, its inbox row written (it is handled once): the batch that
writes the lead's contact handles it in the same transaction, and a sweep every few
seconds handles any whose contact another process wrote at the same moment (each
transaction saw neither the other's contact nor its waiting event).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy.orm import Session

from runway_contracts import Event, event_class_for
from runway_eventbus.unit_of_work import UnitOfWork
from runway_notify.adapters.tables import awaiting_contact, contacts
from runway_storage import insert_if_absent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Waiting:
    consumer: str
    event_id: str
    lead_id: str
    event: Event
    trace: dict[str, str]


def wait_for_contact(session: Session, waiting: Waiting, now: datetime) -> None:
    insert_if_absent(
        session,
        awaiting_contact,
        {
            "consumer": waiting.consumer,
            "event_id": waiting.event_id,
            "lead_id": waiting.lead_id,
            "event_type": waiting.event.TYPE,
            "event": waiting.event.model_dump(mode="json"),
            "trace": waiting.trace,
            "received_at": now,
        },
    )


def _waiting(rows: Iterable[sa.RowMapping]) -> list[Waiting]:
    return [
        Waiting(
            row["consumer"],
            row["event_id"],
            row["lead_id"],
            event_class_for(row["event_type"]).model_validate(row["event"]),
            row["trace"],
        )
        for row in rows
    ]


# Built once: every batch of `lead.received` events asks it.
_WAITING_FOR = (
    sa.select(awaiting_contact)
    .where(awaiting_contact.c.lead_id.in_(sa.bindparam("lead_ids", expanding=True)))
    .order_by(awaiting_contact.c.received_at)
)


def waiting_for(session: Session, lead_ids: Iterable[str]) -> list[Waiting]:
    """The events waiting for these leads' contacts, oldest first."""
    wanted = sorted(set(lead_ids))
    if not wanted:
        return []
    return _waiting(session.execute(_WAITING_FOR, {"lead_ids": wanted}).mappings())


def ready(session: Session, limit: int) -> list[Waiting]:
    """Waiting events whose lead has a contact row now (written, or merged into another)."""
    query = (
        sa.select(awaiting_contact)
        .join(contacts, contacts.c.lead_id == awaiting_contact.c.lead_id)
        .order_by(awaiting_contact.c.received_at)
        .limit(limit)
    )
    return _waiting(session.execute(query).mappings())


def handled(session: Session, done: Iterable[Waiting]) -> None:
    keys = [(w.consumer, w.event_id) for w in done]
    if keys:
        session.execute(
            awaiting_contact.delete().where(
                sa.tuple_(awaiting_contact.c.consumer, awaiting_contact.c.event_id).in_(keys)
            )
        )


class WaitingSweep:
    """Every `seconds`, on its own thread: `resume(uow, waiting)` handles the events that are
    ready and answers how many messages it queued (then `on_queued` wakes the dispatcher);
    the gauges show what still waits."""

    BATCH = 256

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        resume: Callable[[UnitOfWork, list[Waiting]], int],
        seconds: float,
        on_queued: Callable[[], None],
        registry: CollectorRegistry,
    ) -> None:
        self._uow = uow_factory
        self._resume = resume
        self._seconds = seconds
        self._on_queued = on_queued
        self._waiting = Gauge(
            "runway_notify_awaiting_contact",
            "Events waiting for their lead's contact details (lead.received not handled yet)",
            registry=registry,
        )
        self._oldest = Gauge(
            "runway_notify_awaiting_contact_oldest_seconds",
            "How long the oldest event waiting for its lead's contact has waited",
            registry=registry,
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notify-awaiting-contact", daemon=True)

    def sweep(self, now: datetime) -> int:
        """Handle the waiting events whose contact is there (up to a batch); how many
        messages were queued."""
        with self._uow() as uow:
            found = ready(uow.session, self.BATCH)
            queued = self._resume(uow, found) if found else 0
            count, oldest = uow.session.execute(
                sa.select(sa.func.count(), sa.func.min(awaiting_contact.c.received_at))
            ).one()
            uow.commit()
        self._waiting.set(count)
        self._oldest.set((now - oldest).total_seconds() if oldest else 0)
        return queued

    def _run(self) -> None:
        while not self._stop.wait(self._seconds):
            try:
                if self.sweep(datetime.now(UTC)):
                    self._on_queued()
            except Exception:
                log.exception("handling events that waited for a contact failed; trying again")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
