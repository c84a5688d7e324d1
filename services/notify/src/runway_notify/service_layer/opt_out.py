"""Opting out and back in: unsubscribe links, the preference page, SMS keywords.

Every opt-out takes effect in the transaction that records it (the dispatcher
checks again before each send) and is published as
`notify.contact.opted_out.v1` for intake's compliance record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.notify import ContactOptedOut
from runway_eventbus.unit_of_work import UnitOfWork
from runway_notify.adapters.tables import contacts, opt_outs, suppressions
from runway_notify.domain.message_types import EVERY_MARKETING_TYPE, MARKETING
from runway_notify.service_layer.dispatcher import suppress
from runway_storage import insert_if_absent

SMS_KEYWORD = "sms_keyword"


def _lead_for(session: Session, channel: str, address: str) -> str | None:
    column = contacts.c.email if channel == "email" else contacts.c.phone
    return session.scalar(
        sa.select(contacts.c.lead_id).where(column == address, contacts.c.merged_into.is_(None)).limit(1)
    )


def _announce(
    uow: UnitOfWork, channel: str, address: str, message_type: str | None, source: str, now: datetime
) -> None:
    lead_id = _lead_for(uow.session, channel, address)
    uow.outbox.stage(
        uow.session,
        ContactOptedOut(
            channel=channel,  # type: ignore[arg-type]
            address=address,
            lead_id=lead_id,
            message_type=message_type,
            source=source,
            opted_out_at=now,
        ),
        subject_id=lead_id or address,
    )


def opt_out(
    uow: UnitOfWork, channel: str, address: str, source: str, now: datetime, message_type: str | None = None
) -> bool:
    """No more marketing of `message_type` (None: of any type) on this channel. True if it changed anything."""
    with uow:
        created = insert_if_absent(
            uow.session,
            opt_outs,
            {
                "channel": channel,
                "address": address,
                "message_type": message_type or EVERY_MARKETING_TYPE,
                "source": source,
                "created_at": now,
            },
        )
        if created:
            _announce(uow, channel, address, message_type, source, now)
        uow.commit()
        return created


def preferences(session: Session, channel: str, address: str) -> dict[str, bool]:
    """Each marketing type offered on the channel, and whether the person still gets it."""
    off = set(
        session.execute(
            sa.select(opt_outs.c.message_type).where(
                opt_outs.c.channel == channel, opt_outs.c.address == address
            )
        ).scalars()
    )
    return {
        t.name: EVERY_MARKETING_TYPE not in off and t.name not in off
        for t in MARKETING
        if channel in t.channels
    }


def set_preferences(
    uow: UnitOfWork, channel: str, address: str, wanted: Iterable[str], now: datetime
) -> None:
    """Keep exactly the `wanted` marketing types on; the rest are opted out (and announced)."""
    wanted = set(wanted)
    with uow:
        session = uow.session
        before = preferences(session, channel, address)
        where = sa.and_(opt_outs.c.channel == channel, opt_outs.c.address == address)
        if not wanted:
            session.execute(opt_outs.delete().where(where))
            insert_if_absent(
                session,
                opt_outs,
                {
                    "channel": channel,
                    "address": address,
                    "message_type": EVERY_MARKETING_TYPE,
                    "source": "preference_page",
                    "created_at": now,
                },
            )
            if any(before.values()):
                _announce(uow, channel, address, None, "preference_page", now)
            uow.commit()
            return
        session.execute(opt_outs.delete().where(where))
        for name, was_on in before.items():
            if name in wanted:
                continue
            session.execute(
                opt_outs.insert().values(
                    channel=channel,
                    address=address,
                    message_type=name,
                    source="preference_page",
                    created_at=now,
                )
            )
            if was_on:
                _announce(uow, channel, address, name, "preference_page", now)
        uow.commit()


def sms_stop(uow: UnitOfWork, phone: str, now: datetime) -> bool:
    """STOP and its synonyms: no more texts of any kind to this number until START."""
    with uow:
        created = suppress(uow.session, "sms", phone, SMS_KEYWORD, now)
        if created:
            _announce(uow, "sms", phone, None, SMS_KEYWORD, now)
        uow.commit()
        return created


def sms_start(uow: UnitOfWork, phone: str) -> bool:
    """START lifts a keyword opt-out (not a provider's invalid-number suppression). True if it did."""
    with uow:
        result = uow.session.execute(
            suppressions.delete().where(
                suppressions.c.channel == "sms",
                suppressions.c.address == phone,
                suppressions.c.reason == SMS_KEYWORD,
            )
        )
        uow.commit()
        return bool(result.rowcount)
