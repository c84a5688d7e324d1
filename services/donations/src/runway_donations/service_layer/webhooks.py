"""Provider webhooks: store the verified raw event once, then apply it through the outbox.

`store` runs in the request: it keeps the raw body under the provider's event
identity and stages `donations.webhook.received.v1` in the same transaction,
so the provider gets its 2xx only once the event is safe. `process` runs in
donations' own subscriber (retries, then the dead-letter stream) or from the
`reprocess` command: it reads the stored event, turns it into facts and
applies them; applying twice changes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from runway_contracts.donations import WebhookReceived
from runway_donations.adapters.tables import webhook_events
from runway_donations.domain import actblue_events, anedot_events, stripe_events
from runway_donations.domain.facts import Interpretation, MalformedEvent
from runway_donations.service_layer.facts import Facts
from runway_eventbus.inbox import Inbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_storage import inserted_keys
from runway_storage.ids import new_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    provider: str
    provider_event_id: str
    event_type: str
    body: bytes


def store_batch(uow: UnitOfWork, batch: list[Incoming]) -> list[str]:
    """Each incoming event `stored` or `duplicate`, in the caller's transaction.

    Meant for a group-commit writer: the caller commits once for the whole
    batch, and only then answers the providers.
    """
    now = datetime.now(UTC)
    rows = [
        {
            "id": new_id(),
            "provider": incoming.provider,
            "provider_event_id": incoming.provider_event_id,
            "event_type": incoming.event_type,
            "payload": incoming.body,
            "received_at": now,
            "status": "received",
        }
        for incoming in batch
    ]
    # One statement for the batch; an event told twice (even twice in this batch) is stored once.
    stored = {row_id for (row_id,) in inserted_keys(uow.session, webhook_events, rows)}
    events = [
        uow.outbox.row(
            WebhookReceived(
                webhook_event_id=row["id"],
                provider=incoming.provider,
                provider_event_id=incoming.provider_event_id,
                event_type=incoming.event_type,
                received_at=now,
            ),
            subject_id=row["id"],
        )
        for row, incoming in zip(rows, batch, strict=True)
        if row["id"] in stored
    ]
    uow.outbox.stage_rows(uow.session, events)
    return ["stored" if row["id"] in stored else "duplicate" for row in rows]


def store(uow: UnitOfWork, incoming: Incoming) -> str:
    """`stored` or `duplicate`, committed (one event, its own transaction)."""
    with uow:
        (outcome,) = store_batch(uow, [incoming])
        uow.commit()
        return outcome


def interpret(provider: str, event_type: str, body: bytes) -> Interpretation:
    try:
        payload: Any = json.loads(body)
    except ValueError as error:
        raise MalformedEvent(f"not JSON: {error}") from None
    if provider == "stripe":
        return stripe_events.interpret(payload)
    if provider == "actblue":
        return actblue_events.interpret(event_type, payload)
    if provider == "anedot":
        return anedot_events.interpret(payload)
    raise MalformedEvent(f"unknown provider {provider!r}")


STORED_EVENTS = sa.select(webhook_events).where(webhook_events.c.id.in_(sa.bindparam("ids", expanding=True)))
# (An UPDATE's parameters named like columns are what it sets; the row is picked by `the_event`.)
MARK_EVENT = webhook_events.update().where(webhook_events.c.id == sa.bindparam("the_event"))


@dataclass(frozen=True)
class ToApply:
    webhook_event_id: str
    message_id: str | None = None  # the NATS message that asked, for the inbox


def apply_batch(
    uow: UnitOfWork, batch: list[ToApply], *, max_failures: int, inbox: Inbox | None
) -> list[str]:
    """Apply stored events in the caller's transaction: each `processed`, `ignored`, `failed`
    (unreadable: kept, with the reason, for `reprocess`) or `redelivery`.

    The batch's inbox rows, stored events, status marks and announced events each take
    one statement for the whole batch; the facts take theirs one by one.
    """
    session = uow.session
    asked = [item.message_id for item in batch if item.message_id is not None]
    first_time = inbox.first_deliveries(session, asked) if inbox is not None else set(asked)
    outcomes = ["redelivery"] * len(batch)
    to_apply = []  # (position in the batch, item)
    for position, item in enumerate(batch):
        if item.message_id is None:
            to_apply.append((position, item))
        elif item.message_id in first_time:
            first_time.discard(item.message_id)  # a message twice in the batch is applied once
            to_apply.append((position, item))
    ids = [item.webhook_event_id for _, item in to_apply]
    stored = {row.id: row for row in session.execute(STORED_EVENTS, {"ids": ids})} if ids else {}
    facts = Facts(session, uow.outbox, max_failures=max_failures)
    marks = []
    for position, item in to_apply:
        row = stored[item.webhook_event_id]
        error = None
        try:
            meaning = interpret(row.provider, row.event_type, row.payload)
            status = "ignored" if meaning.ignored else "processed"
        except MalformedEvent as malformed:  # retrying will not help
            log.warning("webhook %s %s cannot be read: %s", row.provider, row.provider_event_id, malformed)
            meaning, status, error = Interpretation(), "failed", str(malformed)
        for fact in meaning.facts:
            facts.apply(fact, row.id)
        marks.append(
            {"the_event": row.id, "status": status, "processed_at": datetime.now(UTC), "error": error}
        )
        outcomes[position] = status
    facts.flush()
    if marks:
        session.execute(MARK_EVENT, marks)
    return outcomes


def process(
    uow: UnitOfWork,
    webhook_event_id: str,
    *,
    max_failures: int,
    inbox: Inbox | None = None,
    message_id: str | None = None,
) -> str:
    """Apply one stored event in a transaction of its own."""
    with uow:
        (outcome,) = apply_batch(
            uow, [ToApply(webhook_event_id, message_id)], max_failures=max_failures, inbox=inbox
        )
        uow.commit()
        return outcome
