"""Notify's schema on a real database, fake channels and a clock the test moves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from opentelemetry.trace import NoOpTracer
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from runway_contracts.intake import ChannelConsent, LeadReceived, LeadView
from runway_contracts.matching import RaceSummary
from runway_eventbus.outbox import Outbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_notify.adapters import tables
from runway_notify.adapters.mime import OutgoingEmail
from runway_notify.adapters.templates import Templates
from runway_notify.domain.outcomes import Accepted, Outcome
from runway_notify.service_layer.composing import Composer
from runway_notify.service_layer.dispatcher import Dispatcher, DispatchSettings
from runway_storage import create_database_engine, upgrade_to_head
from runway_storage.sessions import core_sessions

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
ORG = {
    "organization": "Runway",
    "postal_address": "1 Main St, Lawrence, KS",
    "disclaimer": "Paid for by Runway.",
}


def parsed(message: OutgoingEmail) -> EmailMessage:
    return message_from_bytes(message.data, policy=policy.default)  # type: ignore[return-value]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakeEmail:
    """Accepts every message, or answers with the next scripted outcome."""

    sent: list[EmailMessage] = field(default_factory=list)
    script: list[Outcome] = field(default_factory=list)

    async def send(self, message: OutgoingEmail) -> Outcome:
        if self.script:
            outcome = self.script.pop(0)
            if not isinstance(outcome, Accepted):
                return outcome
        self.sent.append(parsed(message))
        return Accepted("primary")


@dataclass
class FakeSms:
    sent: list[tuple[str, str]] = field(default_factory=list)
    script: list[Outcome] = field(default_factory=list)

    async def send(self, to: str, body: str) -> Outcome:
        if self.script:
            outcome = self.script.pop(0)
            if not isinstance(outcome, Accepted):
                return outcome
        self.sent.append((to, body))
        return Accepted("sms", f"SM{len(self.sent)}")


class NotifyDatabase:
    def __init__(self, url: str) -> None:
        self.engine = create_database_engine(url)
        upgrade_to_head(self.engine, MIGRATIONS)
        self.sessions = core_sessions(self.engine)
        self.outbox = Outbox(tables.outbox, source="/runway/notify")

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.outbox, lambda: None)

    def apply(self, plan: Callable[[Session, Any, datetime], int], event: Any, now: datetime) -> int:
        with self.uow() as uow:
            queued = plan(uow.session, event, now)
            uow.commit()
            return queued

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.text(sql), params))

    def clear(self) -> None:
        with self.engine.begin() as connection:
            for table in reversed(tables.metadata.sorted_tables):
                connection.execute(table.delete())

    def dispatcher(
        self,
        clock: Clock,
        email: FakeEmail,
        sms: FakeSms | None = None,
        registry: CollectorRegistry | None = None,
    ) -> Dispatcher:
        composer = Composer(Templates(), "Runway <hello@example.org>", "test-key", "https://notify.example")
        return Dispatcher(
            self.uow,
            composer,
            email,
            sms,
            NoOpTracer(),
            settings=DispatchSettings(batch_size=50),
            clock=clock,
            registry=registry,
        )

    def dispose(self) -> None:
        self.engine.dispose()


def consent(granted: bool = True) -> ChannelConsent:
    return ChannelConsent(
        granted=granted, recorded_at=datetime(2026, 1, 1, tzinfo=UTC), wording="Text me about running."
    )


def lead(
    lead_id: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    zip_code: str | None = "66044",
    email_ok: bool = True,
    sms_ok: bool = False,
) -> LeadView:
    return LeadView(
        lead_id=lead_id,
        first_name="Maya",
        email=email,
        phone=phone,
        postal_code=zip_code,
        email_consent=consent(email_ok) if email else None,
        sms_consent=consent(sms_ok) if phone else None,
    )


def received(view: LeadView, *, new: bool = True) -> LeadReceived:
    return LeadReceived(
        submission_id=f"sub-{view.lead_id}",
        form_key="signup",
        is_new_lead=new,
        received_at=datetime(2026, 11, 27, tzinfo=UTC),
        lead=view,
    )


def race(race_id: str, name: str = "Lawrence City Council") -> RaceSummary:
    return RaceSummary(
        race_id=race_id,
        office_name=name,
        level="city",
        division_id="ocd-division/country:us/state:ks/place:lawrence",
        division_name="Lawrence, KS",
        election_date=date(2027, 11, 2),
        filing_deadline=datetime(2027, 6, 1, 17, tzinfo=UTC),
        seats=3,
        reason="You live in Lawrence, KS.",
        sample_data=True,
    )
