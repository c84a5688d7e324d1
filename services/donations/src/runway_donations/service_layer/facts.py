"""Applying facts: each stored once under its provider identity, then what follows from it.

Whatever the order and however many times facts arrive, the tables end the
same: a fact already stored changes nothing; a plan's state is recomputed
from all its facts (domain.plans.derive); donor profiles take a value from the
newest report that has one; ledger entries are keyed by the money movement
they record. Events go out when a fact is first stored, or — for what needs
two facts (a refund and the payment it returns), or a plan reaching a state —
once, guarded by a notice row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts import Event
from runway_contracts.donations import (
    ContributionFailed,
    ContributionRefunded,
    ContributionSucceeded,
    DonorRef,
    RecurringCanceled,
    RecurringStarted,
)
from runway_donations.adapters.tables import (
    contributions,
    disputes,
    donor_refs,
    donors,
    ledger_entries,
    notices,
    payment_aliases,
    payment_failures,
    recurring_plans,
    refunds,
)
from runway_donations.domain.facts import (
    Disputed,
    Donor,
    Fact,
    PaymentFailed,
    PaymentSucceeded,
    PlanCanceled,
    PlanReported,
    Refunded,
    email_key,
    phone_key,
)
from runway_donations.domain.plans import Cancellation, Report, derive
from runway_donations.service_layer.leads import find_lead_of_donor
from runway_eventbus.outbox import Outbox
from runway_storage import insert_if_absent, insert_many_if_absent
from runway_storage.ids import new_id

PROFILE = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "employer",
    "occupation",
)


# The statements a payment runs, built once. Building a fresh select and computing its
# cache key for each statement a payment takes cost more of the applier's CPU than
# executing them (cProfile: about a third); the values travel as parameters. And each is a
# round trip, which on PostgreSQL is most of what applying costs: a known donor's next
# installment takes ten (benchmarks/results/donations.md, "Fewer round trips").
_p = sa.bindparam
# A donor is found with its whole row: the profile and the lead link are what comes next.
DONOR_BY_REF = (
    sa.select(donors)
    .join(donor_refs, donor_refs.c.donor_id == donors.c.id)
    .where(donor_refs.c.provider == _p("provider"), donor_refs.c.customer_ref == _p("customer_ref"))
)
DONOR_BY_KEY = sa.select(donors).where(donors.c.donor_key == _p("donor_key"))
DONOR = sa.select(donors).where(donors.c.id == _p("donor_id"))
# An UPDATE's SET clause is made of the parameters named like its table's columns, so the
# row it changes is picked by parameters named otherwise (`the_…`).
UPDATE_DONOR = donors.update().where(donors.c.id == _p("the_donor"))
REFUNDS_OF = sa.select(refunds).where(
    refunds.c.provider == _p("provider"), refunds.c.payment_ref.in_(_p("refs", expanding=True))
)
PLAN = sa.select(recurring_plans).where(
    recurring_plans.c.provider == _p("provider"), recurring_plans.c.plan_ref == _p("plan_ref")
)
# A plan's payments and failures in one round trip: `amount_cents` is NULL for a failure.
PLAN_HISTORY = sa.union_all(
    sa.select(
        contributions.c.paid_at.label("at"), contributions.c.amount_cents, contributions.c.currency
    ).where(contributions.c.provider == _p("provider"), contributions.c.plan_ref == _p("plan_ref")),
    sa.select(
        payment_failures.c.failed_at.label("at"),
        sa.null().label("amount_cents"),
        sa.null().label("currency"),
    ).where(payment_failures.c.provider == _p("provider"), payment_failures.c.plan_ref == _p("plan_ref")),
)
# Which notice a plan already in a state has had: a state is only ever written together
# with its notice (recompute_plan), so a plan seen in it needs no second attempt.
NOTICE_GIVEN_IN = {"plan_started": ("active", "failing"), "plan_ended": ("cancelled", "failed")}
UPDATE_PLAN_STATE = recurring_plans.update().where(
    recurring_plans.c.provider == _p("the_provider"), recurring_plans.c.plan_ref == _p("the_plan_ref")
)


class Facts:
    """The fact store of one transaction."""

    def __init__(self, session: Session, outbox: Outbox, *, max_failures: int) -> None:
        self.session = session
        self.outbox = outbox
        self.max_failures = max_failures
        # Donor rows read while applying the current fact (profile, lead link, the donor
        # an event names): read once, kept in step with this fact's own updates.
        self._donors: dict[str, dict[str, Any]] = {}
        self._events: list[dict[str, object]] = []  # outbox rows, written by `flush`

    def apply(self, fact: Fact, source_event_id: str) -> None:
        self._donors.clear()  # another transaction may change a donor between facts
        if isinstance(fact, PaymentSucceeded):
            self._payment(fact, source_event_id)
        elif isinstance(fact, PaymentFailed):
            self._failure(fact)
        elif isinstance(fact, Refunded):
            self._refund(fact, source_event_id)
        elif isinstance(fact, Disputed):
            self._dispute(fact, source_event_id)
        elif isinstance(fact, PlanReported):
            self._report(fact)
        elif isinstance(fact, PlanCanceled):
            self._cancellation(fact)

    def flush(self) -> None:
        """Write the events the applied facts announced, in order, in one bulk write."""
        self.outbox.stage_rows(self.session, self._events)
        self._events = []

    def _stage(self, event: Event, *, subject_id: str) -> None:
        self._events.append(self.outbox.row(event, subject_id=subject_id))

    # -- donors -------------------------------------------------------------

    def donor_id(self, donor: Donor) -> str | None:
        """The person behind `donor`: by the provider's customer id, else by email."""
        s = self.session
        known = None
        if donor.customer_ref:
            known = (
                s.execute(DONOR_BY_REF, {"provider": donor.provider, "customer_ref": donor.customer_ref})
                .mappings()
                .first()
            )
        if known is None:
            if email_key(donor.email):
                key = f"email:{email_key(donor.email)}"
            elif donor.customer_ref:
                key = f"{donor.provider}:{donor.customer_ref}"
            else:
                return None
            now = datetime.now(UTC)
            insert_if_absent(s, donors, {"id": new_id(), "donor_key": key, "created_at": now})
            known = s.execute(DONOR_BY_KEY, {"donor_key": key}).mappings().one()
            if donor.customer_ref:
                insert_if_absent(
                    s,
                    donor_refs,
                    {"provider": donor.provider, "customer_ref": donor.customer_ref, "donor_id": known["id"]},
                )
        donor_id = str(known["id"])
        self._donors[donor_id] = dict(known)
        self._fill_profile(donor_id, donor)
        row = self._donor(donor_id)
        if row["lead_id"] is None:
            lead_id = find_lead_of_donor(s, row["donor_key"], row["phone_key"])
            if lead_id is not None:
                self._update_donor(donor_id, {"lead_id": lead_id})
        return donor_id

    def _donor(self, donor_id: str) -> dict[str, Any]:
        if donor_id not in self._donors:
            row = self.session.execute(DONOR, {"donor_id": donor_id}).mappings().one()
            self._donors[donor_id] = dict(row)
        return self._donors[donor_id]

    def _update_donor(self, donor_id: str, changes: dict[str, Any]) -> None:
        self.session.execute(UPDATE_DONOR, {"the_donor": donor_id, **changes})
        self._donor(donor_id).update(changes)

    def _fill_profile(self, donor_id: str, donor: Donor) -> None:
        given = {f: getattr(donor, f) for f in PROFILE if getattr(donor, f)}
        if not given or donor.as_of is None:
            return
        row = self._donor(donor_id)
        newer = row["profile_as_of"] is None or _aware(row["profile_as_of"]) <= donor.as_of
        # A newer report sets what it has; an older one only fills what is still empty.
        changes = {f: v for f, v in given.items() if newer or not row[f]}
        if newer:
            changes["profile_as_of"] = donor.as_of
        if "phone" in changes:
            changes["phone_key"] = phone_key(changes["phone"])
        # A report that repeats what is stored (a retried payment, the same event told twice
        # under two types) writes nothing.
        changes = {f: v for f, v in changes.items() if not _same(row[f], v)}
        if changes:
            self._update_donor(donor_id, changes)

    def donor_ref(self, donor_id: str | None, fallback: Donor | None = None) -> DonorRef:
        if donor_id is None:
            ref = f"{fallback.provider}:{fallback.customer_ref}" if fallback else "unknown"
            return DonorRef(donor_id=ref)
        row = self._donor(donor_id)
        return DonorRef(
            donor_id=donor_id,
            email=row["email"],
            phone=row["phone"],
            first_name=row["first_name"],
            last_name=row["last_name"],
        )

    # -- money --------------------------------------------------------------

    def _ledger(
        self,
        provider: str,
        kind: str,
        source_ref: str,
        payment_ref: str,
        amount: int,
        currency: str,
        at: datetime,
        source_event_id: str,
    ) -> None:
        insert_if_absent(
            self.session,
            ledger_entries,
            {
                "id": new_id(),
                "provider": provider,
                "kind": kind,
                "source_ref": source_ref,
                "payment_ref": payment_ref,
                "amount_cents": amount,
                "currency": currency,
                "effective_at": at,
                "source_event_id": source_event_id,
                "recorded_at": datetime.now(UTC),
            },
        )

    def _payment(self, fact: PaymentSucceeded, source_event_id: str) -> None:
        donor_id = self.donor_id(fact.donor)
        assert donor_id is not None, "a payment always names its donor"
        contribution_id = new_id()
        created = insert_if_absent(
            self.session,
            contributions,
            {
                "id": contribution_id,
                "provider": fact.provider,
                "payment_ref": fact.payment_ref,
                "donor_id": donor_id,
                "plan_ref": fact.plan_ref,
                "amount_cents": fact.amount_cents,
                "fee_cents": fact.fee_cents,
                "currency": fact.currency,
                "refcode": fact.refcode,
                "committee": fact.committee,
                "paid_at": fact.occurred_at,
                "source_event_id": source_event_id,
            },
        )
        insert_many_if_absent(
            self.session,
            payment_aliases,
            [
                {"provider": fact.provider, "alias": alias, "payment_ref": fact.payment_ref}
                for alias in sorted({fact.payment_ref, *fact.aliases})
            ],
        )
        if not created:
            return
        self._ledger(
            fact.provider,
            "contribution",
            fact.payment_ref,
            fact.payment_ref,
            fact.amount_cents,
            fact.currency,
            fact.occurred_at,
            source_event_id,
        )
        self._stage(
            ContributionSucceeded(
                contribution_id=contribution_id,
                provider=fact.provider,
                provider_payment_id=fact.payment_ref,
                donor=self.donor_ref(donor_id),
                amount_cents=fact.amount_cents,
                currency=fact.currency,
                recurring=fact.plan_ref is not None,
                plan_id=fact.plan_ref,
                paid_at=fact.occurred_at,
            ),
            subject_id=contribution_id,
        )
        # Refunds told before this payment are announced now that both are known.
        aliases = [fact.payment_ref, *fact.aliases]
        for refund in self.session.execute(
            REFUNDS_OF, {"provider": fact.provider, "refs": aliases}
        ).mappings():
            self._announce_refund(fact.provider, refund["refund_ref"], refund)
        if fact.plan_ref:
            self.recompute_plan(fact.provider, fact.plan_ref, donor_hint=donor_id)

    def _failure(self, fact: PaymentFailed) -> None:
        donor_id = self.donor_id(fact.donor)
        assert donor_id is not None, "a failed payment always names its donor"
        created = insert_if_absent(
            self.session,
            payment_failures,
            {
                "provider": fact.provider,
                "payment_ref": fact.payment_ref,
                "attempt": fact.attempt,
                "plan_ref": fact.plan_ref,
                "donor_id": donor_id,
                "amount_cents": fact.amount_cents,
                "currency": fact.currency,
                "retry_url": fact.retry_url,
                "next_attempt_at": fact.next_attempt_at,
                "failed_at": fact.occurred_at,
            },
        )
        if not created:
            return
        self._stage(
            ContributionFailed(
                provider=fact.provider,
                provider_payment_id=fact.payment_ref,
                donor=self.donor_ref(donor_id),
                amount_cents=fact.amount_cents,
                currency=fact.currency,
                attempt=fact.attempt,
                retry_url=fact.retry_url,
                next_attempt_at=fact.next_attempt_at,
                plan_id=fact.plan_ref,
                failed_at=fact.occurred_at,
            ),
            subject_id=f"{fact.provider}:{fact.payment_ref}",
        )
        if fact.plan_ref:
            self.recompute_plan(fact.provider, fact.plan_ref, donor_hint=donor_id)

    def _refund(self, fact: Refunded, source_event_id: str) -> None:
        row = {
            "provider": fact.provider,
            "refund_ref": fact.refund_ref,
            "payment_ref": fact.payment_ref,
            "amount_cents": fact.amount_cents,
            "currency": fact.currency,
            "refunded_at": fact.occurred_at,
        }
        if not insert_if_absent(self.session, refunds, row):
            return
        self._ledger(
            fact.provider,
            "refund",
            fact.refund_ref,
            fact.payment_ref,
            -fact.amount_cents,
            fact.currency,
            fact.occurred_at,
            source_event_id,
        )
        self._announce_refund(fact.provider, fact.refund_ref, row)

    def _announce_refund(self, provider: str, refund_ref: str, refund: Any) -> None:
        """Once both the refund and its payment are known, whichever came first."""
        contribution = self.contribution_for(provider, refund["payment_ref"])
        if contribution is None or not self._first_notice("refunded", provider, refund_ref):
            return
        self._stage(
            ContributionRefunded(
                contribution_id=contribution["id"],
                provider=provider,
                donor=self.donor_ref(contribution["donor_id"]),
                refunded_cents=refund["amount_cents"],
                currency=refund["currency"],
                refunded_at=refund["refunded_at"],
            ),
            subject_id=contribution["id"],
        )

    def contribution_for(self, provider: str, payment_ref: str) -> Any:
        return contribution_named(self.session, provider, payment_ref)

    def _dispute(self, fact: Disputed, source_event_id: str) -> None:
        created = insert_if_absent(
            self.session,
            disputes,
            {
                "provider": fact.provider,
                "dispute_ref": fact.key[1],
                "payment_ref": fact.payment_ref,
                "amount_cents": fact.amount_cents,
                "currency": fact.currency,
                "reversed": fact.reversed,
                "occurred_at": fact.occurred_at,
            },
        )
        if created:
            self._ledger(
                fact.provider,
                "dispute_reversal" if fact.reversed else "dispute",
                fact.dispute_ref,
                fact.payment_ref,
                fact.amount_cents if fact.reversed else -fact.amount_cents,
                fact.currency,
                fact.occurred_at,
                source_event_id,
            )

    # -- plans --------------------------------------------------------------

    def _plan_row(self, provider: str, plan_ref: str, customer_ref: str | None = None) -> None:
        insert_if_absent(
            self.session,
            recurring_plans,
            {
                "id": new_id(),
                "provider": provider,
                "plan_ref": plan_ref,
                "customer_ref": customer_ref,
                "state": "pending",
                "failures_in_a_row": 0,
            },
        )

    def _where(self, provider: str, plan_ref: str) -> Any:
        return sa.and_(recurring_plans.c.provider == provider, recurring_plans.c.plan_ref == plan_ref)

    def _report(self, fact: PlanReported) -> None:
        self._plan_row(fact.provider, fact.plan_ref, fact.donor.customer_ref)
        p = recurring_plans.c
        self.session.execute(
            recurring_plans.update()
            .where(self._where(fact.provider, fact.plan_ref))
            .where(sa.or_(p.report_as_of.is_(None), p.report_as_of < fact.occurred_at))
            .values(
                report_amount_cents=fact.amount_cents,
                report_currency=fact.currency,
                report_interval=fact.interval,
                report_status=fact.status,
                report_next_charge_at=fact.next_charge_at,
                report_as_of=fact.occurred_at,
                customer_ref=sa.func.coalesce(p.customer_ref, fact.donor.customer_ref),
            )
        )
        self.recompute_plan(fact.provider, fact.plan_ref, fallback=fact.donor)

    def _cancellation(self, fact: PlanCanceled) -> None:
        self._plan_row(fact.provider, fact.plan_ref, fact.donor.customer_ref)
        p = recurring_plans.c
        self.session.execute(
            recurring_plans.update()
            .where(self._where(fact.provider, fact.plan_ref))
            .where(sa.or_(p.canceled_at.is_(None), p.canceled_at > fact.occurred_at))
            .values(canceled_at=fact.occurred_at, canceled_by=fact.canceled_by, cancel_reason=fact.reason)
        )
        self.recompute_plan(fact.provider, fact.plan_ref, fallback=fact.donor)

    def recompute_plan(
        self, provider: str, plan_ref: str, *, donor_hint: str | None = None, fallback: Donor | None = None
    ) -> None:
        s = self.session
        the_plan = {"provider": provider, "plan_ref": plan_ref}
        plan = s.execute(PLAN, the_plan).mappings().first()
        if plan is None:
            self._plan_row(provider, plan_ref)
            plan = s.execute(PLAN, the_plan).mappings().one()
        payments, failures = [], []
        for r in s.execute(PLAN_HISTORY, the_plan):
            if r.amount_cents is None:
                failures.append(_aware(r.at))
            else:
                payments.append((_aware(r.at), r.amount_cents, r.currency))
        report = (
            Report(
                plan["report_amount_cents"],
                plan["report_currency"],
                plan["report_interval"],
                plan["report_status"],
                _aware(plan["report_as_of"]),
                _aware(plan["report_next_charge_at"]),
            )
            if plan["report_as_of"] is not None
            else None
        )
        cancellation = (
            Cancellation(plan["canceled_by"], plan["cancel_reason"], _aware(plan["canceled_at"]))
            if plan["canceled_at"] is not None
            else None
        )
        state = derive(report, cancellation, payments, failures, max_failures=self.max_failures)
        s.execute(
            UPDATE_PLAN_STATE,
            {
                "the_provider": provider,
                "the_plan_ref": plan_ref,
                "state": state.state,
                "amount_cents": state.amount_cents,
                "currency": state.currency,
                "interval": state.interval,
                "failures_in_a_row": state.failures_in_a_row,
                "next_expected_at": state.next_expected_at,
                "started_at": state.started_at,
                "ended_at": state.ended_at,
            },
        )
        self._announce_plan(
            provider, plan_ref, plan["state"], state, donor_hint, fallback, plan["customer_ref"]
        )

    def _plan_donor(self, provider: str, plan_ref: str, customer_ref: str | None) -> str | None:
        earliest = self.session.scalar(
            sa.select(contributions.c.donor_id)
            .where(contributions.c.provider == provider, contributions.c.plan_ref == plan_ref)
            .order_by(contributions.c.paid_at)
            .limit(1)
        )
        if earliest is None and customer_ref:
            earliest = self.session.scalar(
                sa.select(donor_refs.c.donor_id).where(
                    donor_refs.c.provider == provider, donor_refs.c.customer_ref == customer_ref
                )
            )
        return earliest

    def _announce_plan(
        self,
        provider: str,
        plan_ref: str,
        was: str,
        state: Any,
        donor_hint: str | None,
        fallback: Donor | None,
        customer_ref: str | None,
    ) -> None:
        def first(kind: str) -> bool:
            return was not in NOTICE_GIVEN_IN[kind] and self._first_notice(kind, provider, plan_ref)

        if state.state in NOTICE_GIVEN_IN["plan_started"] and first("plan_started"):
            donor_id = donor_hint or self._plan_donor(provider, plan_ref, customer_ref)
            self._stage(
                RecurringStarted(
                    plan_id=plan_ref,
                    provider=provider,
                    donor=self.donor_ref(donor_id, fallback),
                    amount_cents=state.amount_cents or 0,
                    currency=state.currency or "usd",
                    interval=state.interval or "month",
                    started_at=state.started_at or datetime.now(UTC),
                ),
                subject_id=f"{provider}:{plan_ref}",
            )
        if state.state in NOTICE_GIVEN_IN["plan_ended"] and first("plan_ended"):
            donor_id = donor_hint or self._plan_donor(provider, plan_ref, customer_ref)
            self._stage(
                RecurringCanceled(
                    plan_id=plan_ref,
                    provider=provider,
                    donor=self.donor_ref(donor_id, fallback),
                    canceled_by=state.canceled_by or "dunning",
                    reason=state.cancel_reason
                    or (
                        f"{state.failures_in_a_row} payments failed in a row"
                        if state.state == "failed"
                        else None
                    ),
                    canceled_at=state.ended_at or datetime.now(UTC),
                ),
                subject_id=f"{provider}:{plan_ref}",
            )

    def _first_notice(self, kind: str, provider: str, ref: str) -> bool:
        return insert_if_absent(
            self.session,
            notices,
            {"kind": kind, "provider": provider, "ref": ref, "created_at": datetime.now(UTC)},
        )


def contribution_named(session: Session, provider: str, ref: str) -> Any:
    """The contribution a provider names by its own id or an alias (a Stripe charge), or None."""
    return (
        session.execute(
            sa.select(contributions)
            .join(
                payment_aliases,
                sa.and_(
                    payment_aliases.c.provider == contributions.c.provider,
                    payment_aliases.c.payment_ref == contributions.c.payment_ref,
                ),
            )
            .where(payment_aliases.c.provider == provider, payment_aliases.c.alias == ref)
        )
        .mappings()
        .first()
    )


def _same(stored: Any, given: Any) -> bool:
    if isinstance(stored, datetime) and isinstance(given, datetime):
        return _aware(stored) == _aware(given)
    return bool(stored == given)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
