"""Event sequences of realistic recurring plans, and a donations database to apply them to."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from provider_payloads import (
    actblue_payload,
    anedot_payload,
    dumps,
    stripe_dispute,
    stripe_event,
    stripe_invoice,
    stripe_refunded_charge,
    stripe_subscription,
)

from runway_donations.adapters import tables
from runway_donations.domain import actblue_events, anedot_events
from runway_donations.service_layer.webhooks import Incoming, process, store
from runway_eventbus.outbox import Outbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_storage import create_database_engine, upgrade_to_head
from runway_storage.sessions import core_sessions

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@dataclass(frozen=True)
class Delivery:
    provider: str
    event_id: str
    event_type: str
    body: bytes


def stripe(event_id: str, kind: str, obj: dict[str, Any], day: float) -> Delivery:
    return Delivery("stripe", event_id, kind, dumps(stripe_event(event_id, kind, obj, day)))


def actblue(kind: str, payload: dict[str, Any]) -> Delivery:
    return Delivery("actblue", actblue_events.event_id(kind, payload), kind, dumps(payload))


def anedot(body: dict[str, Any]) -> Delivery:
    return Delivery("anedot", anedot_events.event_id(body), body["event"], dumps(body))


def stripe_plan(
    n: int, *, paid: int, failures: int, refund: bool, dispute: bool, cancel: bool
) -> list[Delivery]:
    """A Stripe subscription's life in chronological order."""
    sub, cus, email = f"sub_{n}", f"cus_{n}", f"donor{n}@example.org"
    amount = 1500 + 500 * n
    out = [
        stripe(
            f"evt_{n}_created",
            "customer.subscription.created",
            stripe_subscription(sub, cus, "incomplete", amount, 0),
            0,
        )
    ]
    day = 0.0
    for i in range(paid):
        inv = f"in_{n}_{i}"
        body = stripe_invoice(inv, sub, cus, email, amount, day)
        out.append(stripe(f"evt_{n}_{i}_paid", "invoice.paid", body, day))
        out.append(
            stripe(f"evt_{n}_{i}_succeeded", "invoice.payment_succeeded", body, day)
        )  # same payment, told twice
        if i == 0:
            active = stripe_subscription(sub, cus, "active", amount, day)
            out.append(stripe(f"evt_{n}_active", "customer.subscription.updated", active, day + 0.01))
        day += 30
    for attempt in range(1, failures + 1):
        inv = f"in_{n}_{paid}"
        body = stripe_invoice(inv, sub, cus, email, amount, day + attempt * 3, paid=False, attempt=attempt)
        out.append(stripe(f"evt_{n}_fail_{attempt}", "invoice.payment_failed", body, day + attempt * 3))
    if failures:
        due = stripe_subscription(sub, cus, "past_due", amount, day + 3)
        out.append(stripe(f"evt_{n}_past_due", "customer.subscription.updated", due, day + 3.01))
    if refund and paid:
        charge = stripe_refunded_charge(f"in_{n}_0", [(f"re_{n}_a", 500, 2)], amount)
        out.append(stripe(f"evt_{n}_refund_a", "charge.refunded", charge, 2))
        charge = stripe_refunded_charge(f"in_{n}_0", [(f"re_{n}_a", 500, 2), (f"re_{n}_b", 250, 4)], amount)
        out.append(stripe(f"evt_{n}_refund_b", "charge.refunded", charge, 4))
    if dispute and paid:
        out.append(
            stripe(
                f"evt_{n}_dispute",
                "charge.dispute.created",
                stripe_dispute(f"dp_{n}", f"in_{n}_{paid - 1}", amount, day),
                day,
            )
        )
    if cancel:
        gone = stripe_subscription(sub, cus, "canceled", amount, day + 20, canceled=True)
        out.append(stripe(f"evt_{n}_deleted", "customer.subscription.deleted", gone, day + 20))
    return out


def actblue_plan(n: int, *, paid: int, declined: bool, refund: bool, cancel: bool) -> list[Delivery]:
    order, email, amount = f"AB{n:05d}", f"ab{n}@example.org", 2700 + 100 * n
    out, day = [], 0.0
    for i in range(paid):
        out.append(actblue("contribution", actblue_payload(1000 * n + i, order, amount, day, email=email)))
        day += 30
    if declined:
        out.append(
            actblue(
                "contribution",
                actblue_payload(1000 * n + paid, order, amount, day, email=email, status="declined"),
            )
        )
    if refund and paid:
        out.append(
            actblue("refund", actblue_payload(1000 * n, order, amount, 0, email=email, refunded_day=3))
        )
    if cancel:
        out.append(
            actblue(
                "cancellation",
                actblue_payload(1000 * n, order, amount, 0, email=email, cancelled_day=day + 1),
            )
        )
    return out


def anedot_plan(n: int, *, paid: int, refund: bool, cancel: bool) -> list[Delivery]:
    commitment, amount = f"com_{n}", f"{20 + n}.00"
    out = [
        anedot(
            anedot_payload(
                "commitment_created", commitment, 0, amount=amount, frequency="monthly", status="active"
            )
        )
    ]
    for i in range(paid):
        out.append(
            anedot(
                anedot_payload(
                    "donation_completed",
                    f"don_{n}_{i}",
                    30 * i,
                    amount=amount,
                    net_amount=f"{19 + n}.10",
                    commitment_id=commitment,
                )
            )
        )
    if refund and paid:
        out.append(
            anedot(
                anedot_payload(
                    "donation_partially_refunded",
                    f"don_{n}_0",
                    5,
                    amount=amount,
                    refund={"id": f"rf_{n}", "amount": "5.00"},
                )
            )
        )
    if cancel:
        out.append(
            anedot(
                anedot_payload(
                    "commitment_updated",
                    commitment,
                    30 * paid + 2,
                    amount=amount,
                    frequency="monthly",
                    status="canceled",
                )
            )
        )
    return out


class DonationsDatabase:
    """Donations' schema on a real database, with the service layer applied directly (no HTTP, no NATS)."""

    def __init__(self, url: str) -> None:
        self.engine = create_database_engine(url)
        upgrade_to_head(self.engine, MIGRATIONS)
        self.sessions = core_sessions(self.engine)
        self.outbox = Outbox(tables.outbox, source="/runway/donations")

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.outbox, lambda: None)

    def clear(self) -> None:
        with self.engine.begin() as c:
            for table in reversed(tables.metadata.sorted_tables):
                c.execute(table.delete())

    def deliver(self, delivery: Delivery, *, max_failures: int = 3) -> str:
        """What the endpoint and then the subscriber do with one delivery."""
        if (
            store(
                self.uow(), Incoming(delivery.provider, delivery.event_id, delivery.event_type, delivery.body)
            )
            == "duplicate"
        ):
            return "duplicate"
        with self.engine.connect() as c:
            row_id = c.execute(
                sa.select(tables.webhook_events.c.id).where(
                    tables.webhook_events.c.provider == delivery.provider,
                    tables.webhook_events.c.provider_event_id == delivery.event_id,
                )
            ).scalar_one()
        return process(self.uow(), row_id, max_failures=max_failures)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.engine.connect() as c:
            return [tuple(r) for r in c.execute(sa.text(sql))]

    def snapshot(self) -> dict[str, Any]:
        """Everything that must not depend on arrival order (generated ids and receipt times left out)."""

        def norm(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
            return sorted(tuple(str(v) if v is not None else None for v in r) for r in rows)

        return {
            "plans": norm(
                self.rows(
                    "SELECT provider, plan_ref, state, amount_cents, currency, interval, failures_in_a_row,"
                    " next_expected_at, started_at, ended_at, canceled_by, cancel_reason FROM recurring_plans"
                )
            ),
            "ledger": norm(
                self.rows(
                    "SELECT provider, kind, source_ref, payment_ref, amount_cents, currency, effective_at FROM ledger_entries"
                )
            ),
            "contributions": norm(
                self.rows(
                    "SELECT c.provider, c.payment_ref, d.donor_key, c.plan_ref, c.amount_cents, c.fee_cents, c.currency,"
                    " c.refcode, c.committee, c.paid_at FROM contributions c JOIN donors d ON d.id = c.donor_id"
                )
            ),
            "donors": norm(
                self.rows(
                    "SELECT donor_key, email, phone, first_name, last_name, street, city, state, postal_code, country,"
                    " employer, occupation, profile_as_of FROM donors"
                )
            ),
            "failures": norm(
                self.rows(
                    "SELECT provider, payment_ref, attempt, plan_ref, amount_cents, retry_url, failed_at FROM payment_failures"
                )
            ),
            "refunds": norm(
                self.rows("SELECT provider, refund_ref, payment_ref, amount_cents, refunded_at FROM refunds")
            ),
            "disputes": norm(
                self.rows("SELECT provider, dispute_ref, payment_ref, amount_cents, reversed FROM disputes")
            ),
        }

    def published(self) -> Counter[str]:
        return Counter(
            json.loads(body)["type"]
            for (body,) in self.rows("SELECT body FROM outbox")
            if json.loads(body)["type"] != "donations.webhook.received.v1"
        )

    def published_bodies(self, event_type: str) -> list[dict[str, Any]]:
        found = [json.loads(body) for (body,) in self.rows("SELECT body FROM outbox")]
        return [e["data"] for e in found if e["type"] == event_type]

    def dispose(self) -> None:
        self.engine.dispose()
