"""Putting a notification in the delivery queue, or recording why it is not sent.

The unique notification key makes a second queueing of the same message a
no-op. SMS waits for the recipient's sending window; email does not. A
suppression or opt-out is not looked up here: the dispatcher checks them for a
whole batch at once when it takes messages for sending, which is also the only
check that sees a STOP arriving while a message waits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from opentelemetry import propagate
from sqlalchemy.orm import Session

from runway_notify.adapters.tables import deliveries
from runway_notify.domain import quiet_hours
from runway_notify.domain.message_types import ALL
from runway_notify.domain.notifications import Notification, message_id
from runway_notify.domain.rules import reason_not_to_queue
from runway_storage import insert_if_absent, insert_many_if_absent
from runway_storage.ids import new_id

# Where the queued row keeps the W3C trace context of the event that caused it,
# so the send continues the sign-up's trace.
TRACE_KEY = "_trace"
_TOGETHER = "notify.deliveries_together"


@contextmanager
def deliveries_together(session: Session) -> Iterator[None]:
    """Every message queued inside goes into the queue in one statement, at the end.

    For a batch of consumed events: one multi-row INSERT instead of a round trip per
    message (on PostgreSQL most of the event writer's time). A message whose key is
    already queued is skipped as before; `enqueue` answers whether it may be sent,
    not whether it was new, which only decides whether the dispatcher is woken.
    """
    session.info[_TOGETHER] = []
    try:
        yield
        write_queued(session)
    finally:
        del session.info[_TOGETHER]


def write_queued(session: Session) -> None:
    """Insert what `deliveries_together` holds now: before anything changes queued rows
    (a merge moving a lead's messages to the survivor), as handling each event alone would."""
    rows = session.info.get(_TOGETHER)
    if rows:
        insert_many_if_absent(session, deliveries, rows)
        rows.clear()


def enqueue(
    session: Session,
    note: Notification,
    *,
    consent: dict[str, Any] | None,
    time_zone: str | None,
    now: datetime,
    not_before: datetime | None = None,
) -> bool:
    """True if the message was queued for sending (False: already known, or not allowed)."""
    if not note.recipient:
        return False  # nowhere to send it: nothing to record against
    reason = reason_not_to_queue(ALL[note.message_type], note.recipient, consent)
    due = max(now, not_before or now)
    if note.channel == "sms":
        due = quiet_hours.next_allowed(due, time_zone)
    trace: dict[str, str] = {}
    propagate.inject(trace)
    row = {
        "id": new_id(),
        "notification_key": note.key,
        "message_type": note.message_type,
        "channel": note.channel,
        "lead_id": note.lead_id,
        "recipient": note.recipient,
        "transactional": note.transactional,
        "context": note.context | {"time_zone": time_zone, TRACE_KEY: trace},
        "status": "skipped" if reason else "queued",
        "due_at": due,
        "message_id": message_id(note.key) if note.channel == "email" else None,
        "attempts": 0,
        "last_error": reason,
        "created_at": now,
        "finished_at": now if reason else None,
    }
    together = session.info.get(_TOGETHER)
    if together is not None:
        together.append(row)
        return reason is None
    return insert_if_absent(session, deliveries, row) and reason is None
