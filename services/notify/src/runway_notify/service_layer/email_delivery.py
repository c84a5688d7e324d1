"""Sending one email exactly once per notification key.

1. Claim: insert the delivery row (status `sending`) keyed by the notification
   key, committed before anything leaves. A key already `sent` means done.
2. Send over SMTP, outside any transaction.
3. Mark `sent`, record the inbox row and stage `notify.notification.sent.v1`
   in one transaction.

A crash between 2 and 3 leaves `sending`: the redelivered event sends again
with the same Message-ID (at-least-once at that single point, which SMTP
cannot close; receivers can dedupe on Message-ID). Everywhere else: once.
"""

from __future__ import annotations

import email.policy
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate

import anyio
import sqlalchemy as sa
from opentelemetry.trace import Tracer

from runway_contracts.notify import NotificationSent
from runway_eventbus.inbox import Inbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_notify.adapters.tables import deliveries, suppressions
from runway_notify.adapters.templates import Templates
from runway_notify.domain.notifications import EmailNotification
from runway_storage import insert_if_absent

# RFC 5322 allows 998-character lines; folding earlier would RFC 2047-encode the
# List-Unsubscribe URL, which mailbox providers then cannot use.
MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)


class EmailComposer:
    def __init__(self, templates: Templates, sender: str, unsubscribe_link: Callable[[str], str]) -> None:
        self._templates = templates
        self._sender = sender
        self._unsubscribe_link = unsubscribe_link

    def compose(self, note: EmailNotification) -> EmailMessage:
        unsubscribe = self._unsubscribe_link(note.recipient)
        subject, text, html = self._templates.render(
            note.template, {**note.context, "unsubscribe_url": unsubscribe}
        )
        message = EmailMessage(policy=MAIL_POLICY)
        message["From"] = self._sender
        message["To"] = note.recipient
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = note.message_id
        if not note.transactional:  # RFC 8058 one-click unsubscribe on every marketing message
            message["List-Unsubscribe"] = f"<{unsubscribe}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return message


def _claim(uow: UnitOfWork, inbox: Inbox, event_id: str, note: EmailNotification) -> str | None:
    """The delivery id to send under, or None if there is nothing to send."""
    with uow:
        session = uow.session
        if inbox.already_handled(session, event_id):
            return None
        suppressed = session.execute(
            sa.select(suppressions.c.reason).where(
                suppressions.c.channel == "email", suppressions.c.address == note.recipient
            )
        ).first()
        if suppressed and not note.transactional:
            inbox.first_delivery(session, event_id)
            uow.commit()
            return None
        insert_if_absent(
            session,
            deliveries,
            {
                "id": str(uuid.uuid4()),
                "notification_key": note.key,
                "message_type": note.message_type,
                "channel": "email",
                "lead_id": note.lead_id,
                "recipient": note.recipient,
                "status": "sending",
                "message_id": note.message_id,
                "attempts": 0,
                "created_at": datetime.now(UTC),
            },
        )
        row = session.execute(
            sa.select(deliveries.c.id, deliveries.c.status).where(deliveries.c.notification_key == note.key)
        ).one()
        if row.status == "sent":
            inbox.first_delivery(session, event_id)
            uow.commit()
            return None
        session.execute(
            deliveries.update().where(deliveries.c.id == row.id).values(attempts=deliveries.c.attempts + 1)
        )
        uow.commit()
        return str(row.id)


def _mark_sent(
    uow: UnitOfWork, inbox: Inbox, event_id: str, delivery_id: str, note: EmailNotification
) -> None:
    with uow:
        now = datetime.now(UTC)
        uow.session.execute(
            deliveries.update()
            .where(deliveries.c.id == delivery_id)
            .values(status="sent", sent_at=now, last_error=None)
        )
        inbox.first_delivery(uow.session, event_id)
        uow.outbox.stage(
            uow.session,
            NotificationSent(
                notification_id=delivery_id,
                notification_key=note.key,
                message_type=note.message_type,
                channel="email",
                recipient=note.recipient,
                lead_id=note.lead_id,
                sent_at=now,
            ),
            subject_id=delivery_id,
        )
        uow.commit()


def _record_error(uow: UnitOfWork, delivery_id: str, error: BaseException) -> None:
    with uow:
        uow.session.execute(
            deliveries.update().where(deliveries.c.id == delivery_id).values(last_error=repr(error)[:2000])
        )
        uow.commit()


async def deliver_email(
    event_id: str,
    note: EmailNotification,
    uow_factory: Callable[[], UnitOfWork],
    inbox: Inbox,
    composer: EmailComposer,
    send: Callable[[EmailMessage], Awaitable[None]],
    tracer: Tracer,
) -> None:
    delivery_id = await anyio.to_thread.run_sync(_claim, uow_factory(), inbox, event_id, note)
    if delivery_id is None:
        return
    message = composer.compose(note)
    with tracer.start_as_current_span(
        "smtp send",
        attributes={"messaging.message.id": note.message_id, "notify.message_type": note.message_type},
    ):
        try:
            await send(message)
        except Exception as error:
            await anyio.to_thread.run_sync(_record_error, uow_factory(), delivery_id, error)
            raise
    await anyio.to_thread.run_sync(_mark_sent, uow_factory(), inbox, event_id, delivery_id, note)
