"""The contact projection, fed by intake's lead events.

A merged lead keeps its row with `merged_into` set, so a late event about it
cannot bring it back and messages meant for it reach the survivor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.intake import LeadMerged, LeadReceived, LeadView
from runway_notify.adapters.tables import contacts, deliveries, digest_items, opt_outs
from runway_notify.adapters.time_zones import time_zone_for_zip
from runway_notify.service_layer.queue import write_queued
from runway_storage import insert_if_absent, upsert, upserted_keys

MAX_MERGE_HOPS = 10
_READ_AHEAD = "notify.contacts_read_ahead"
_RECORDED = "notify.contacts_recorded"


class Later:
    """An answer known once the contacts recorded in a batch are written."""

    value: int = 0


# Built once: each batch of events runs it, and building it cost more than running it.
_CONTACTS_OF = sa.select(contacts).where(contacts.c.lead_id.in_(sa.bindparam("lead_ids", expanding=True)))


@contextmanager
def contacts_read_ahead(session: Session, lead_ids: Iterable[str]) -> Iterator[None]:
    """Read the contacts a batch of events will look up in one SELECT, not one each.

    `find_contact` answers from what was read until the batch writes a contact
    (`record_lead`, `merge`); from then on that lead's lookups, or after a merge
    every lookup, go to the database again.
    """
    wanted = sorted(set(lead_ids))
    rows = session.execute(_CONTACTS_OF, {"lead_ids": wanted}).mappings() if wanted else []
    read: dict[str, dict[str, Any] | None] = dict.fromkeys(wanted)
    read |= {row["lead_id"]: dict(row) for row in rows}
    session.info[_READ_AHEAD] = read
    try:
        yield
    finally:
        del session.info[_READ_AHEAD]


def _forget(session: Session, lead_id: str | None = None) -> None:
    read = session.info.get(_READ_AHEAD)
    if read is not None:
        if lead_id is None:
            read.clear()
        else:
            read.pop(lead_id, None)


def contact_row(lead: LeadView, now: datetime) -> dict[str, Any]:
    return {
        "lead_id": lead.lead_id,
        "email": lead.email,
        "phone": lead.phone,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "postal_code": lead.postal_code,
        "time_zone": time_zone_for_zip(lead.postal_code),
        "email_consent": lead.email_consent.model_dump(mode="json") if lead.email_consent else None,
        "sms_consent": lead.sms_consent.model_dump(mode="json") if lead.sms_consent else None,
        "updated_at": now,
    }


@contextmanager
def contacts_written_together(session: Session) -> Iterator[None]:
    """The contacts `record_lead` records inside are written together: at the end, or as soon
    as anything in the batch reads contacts from the database or merges leads, so each event
    still sees what the events before it wrote.

    For a batch of `lead.received` events: a few statements instead of one round trip per
    event, which on PostgreSQL was most of the event writer's time for them.
    """
    session.info[_RECORDED] = []
    try:
        yield
        _write_recorded(session)
    finally:
        del session.info[_RECORDED]


def record_lead(
    session: Session, lead: LeadView, now: datetime, then: Callable[[dict[str, Any] | None], int]
) -> int | Later:
    """Store the lead's latest view, then answer `then(contact)`: the contact as stored, or None
    if the lead was merged away (the survivor's view wins). Inside `contacts_written_together`
    the write waits for the rest of the batch and the answer is a `Later`."""
    row = contact_row(lead, now)
    _forget(session, lead.lead_id)
    recorded = session.info.get(_RECORDED)
    if recorded is None:
        written = upsert(session, contacts, row, key=["lead_id"], unless_set="merged_into")
        return then(row if written else None)
    later = Later()
    recorded.append((row, then, later))
    return later


def _write_recorded(session: Session) -> None:
    recorded = session.info.get(_RECORDED)
    if not recorded:
        return
    waiting = list(recorded)
    recorded.clear()
    rows = [row for row, _, _ in waiting]
    written = upserted_keys(session, contacts, rows, key=["lead_id"], unless_set="merged_into")
    for row, then, later in waiting:
        later.value = then(row if (row["lead_id"],) in written else None)


def leads_given_contacts(event: object) -> list[str]:
    """The leads whose contact rows handling `event` writes (a view, or a merge)."""
    if isinstance(event, LeadReceived):
        return [event.lead.lead_id]
    if isinstance(event, LeadMerged):
        return [event.survivor_lead_id, *event.merged_lead_ids]
    return []


def find_contact(session: Session, lead_id: str) -> dict[str, Any] | None:
    """The contact for `lead_id`, following merges to the survivor."""
    read = session.info.get(_READ_AHEAD, {})
    for _ in range(MAX_MERGE_HOPS):
        if lead_id in read:
            row = read[lead_id]
        else:
            _write_recorded(session)
            row = session.execute(sa.select(contacts).where(contacts.c.lead_id == lead_id)).mappings().first()
        if row is None or not row["merged_into"]:
            return dict(row) if row else None
        lead_id = row["merged_into"]
    return None


def merge(session: Session, event: LeadMerged, now: datetime) -> None:
    """The survivor takes the merged leads' history, digests and opt-outs."""
    survivor = event.survivor_lead_id
    _write_recorded(session)
    write_queued(session)
    _forget(session)
    upsert(session, contacts, contact_row(event.lead, now) | {"merged_into": None}, key=["lead_id"])
    for merged in event.merged_lead_ids:
        old = session.execute(sa.select(contacts).where(contacts.c.lead_id == merged)).mappings().first()
        if old is None:
            session.execute(contacts.insert().values(lead_id=merged, merged_into=survivor, updated_at=now))
        else:
            session.execute(
                contacts.update()
                .where(contacts.c.lead_id == merged)
                .values(merged_into=survivor, updated_at=now)
            )
            _carry_opt_outs(session, old, event.lead, now)
        session.execute(deliveries.update().where(deliveries.c.lead_id == merged).values(lead_id=survivor))
        _move_digest_items(session, merged, survivor)


def _carry_opt_outs(session: Session, old: Any, survivor: LeadView, now: datetime) -> None:
    """What the person turned off under their old address stays off under the survivor's."""
    for channel, old_address, new_address in (
        ("email", old["email"], survivor.email),
        ("sms", old["phone"], survivor.phone),
    ):
        if not old_address or not new_address or old_address == new_address:
            continue
        rows = session.execute(
            sa.select(opt_outs.c.message_type, opt_outs.c.source).where(
                opt_outs.c.channel == channel, opt_outs.c.address == old_address
            )
        ).all()
        for row in rows:
            insert_if_absent(
                session,
                opt_outs,
                {
                    "channel": channel,
                    "address": new_address,
                    "message_type": row.message_type,
                    "source": row.source,
                    "created_at": now,
                },
            )


def _move_digest_items(session: Session, merged: str, survivor: str) -> None:
    items = session.execute(sa.select(digest_items).where(digest_items.c.lead_id == merged)).mappings().all()
    for item in items:
        insert_if_absent(session, digest_items, dict(item) | {"lead_id": survivor})
    session.execute(digest_items.delete().where(digest_items.c.lead_id == merged))
