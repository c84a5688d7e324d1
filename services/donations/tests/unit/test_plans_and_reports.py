"""Plan states, dunning, refunds, disputes, receipts' events, itemization and reconciliation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from donation_scenarios import (
    DonationsDatabase,
    actblue,
    actblue_plan,
    anedot,
    anedot_plan,
    stripe,
    stripe_plan,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provider_payloads import actblue_payload, anedot_payload, stripe_invoice

from runway_contracts.intake import LeadView
from runway_donations.adapters import tables
from runway_donations.service_layer import reports
from runway_donations.service_layer.leads import link_lead, link_leads, record_lead
from runway_eventbus.inbox import Inbox


@pytest.fixture
def db(donations_db: DonationsDatabase) -> DonationsDatabase:
    donations_db.clear()
    return donations_db


def plan(db: DonationsDatabase, provider: str, ref: str) -> dict[str, object]:
    with db.engine.connect() as c:
        row = (
            c.execute(
                sa.text("SELECT * FROM recurring_plans WHERE provider = :p AND plan_ref = :r"),
                {"p": provider, "r": ref},
            )
            .mappings()
            .one()
        )
    return dict(row)


def ledger_total(db: DonationsDatabase) -> int:
    return int(db.rows("SELECT COALESCE(SUM(amount_cents), 0) FROM ledger_entries")[0][0])


def test_a_stripe_plan_goes_pending_active_failing_then_failed_with_one_notice_per_attempt(
    db: DonationsDatabase,
) -> None:
    history = stripe_plan(1, paid=2, failures=3, refund=False, dispute=False, cancel=False)
    states = []
    for delivery in history:
        db.deliver(delivery, max_failures=3)
        states.append(plan(db, "stripe", "sub_1")["state"])
    assert states[0] == "pending"
    assert "active" in states and "failing" in states
    assert states[-1] == "failed"
    failed = db.published_bodies("donations.contribution.failed.v1")
    assert [f["attempt"] for f in failed] == [1, 2, 3]
    assert all(f["retry_url"] == "https://invoice.stripe.com/i/in_1_2" for f in failed)
    assert failed[0]["next_attempt_at"] is not None
    (ended,) = db.published_bodies("donations.recurring.canceled.v1")
    assert ended["canceled_by"] == "dunning"
    # invoice.paid and invoice.payment_succeeded are the same payment: counted once.
    assert len(db.published_bodies("donations.contribution.succeeded.v1")) == 2
    assert ledger_total(db) == 2 * 2000


def test_a_plan_is_announced_started_once_however_many_installments_follow(db: DonationsDatabase) -> None:
    for delivery in stripe_plan(2, paid=3, failures=0, refund=False, dispute=False, cancel=False):
        db.deliver(delivery)
    (started,) = db.published_bodies("donations.recurring.started.v1")
    assert (started["plan_id"], started["donor"]["email"]) == ("sub_2", "donor2@example.org")
    assert db.rows("SELECT kind, ref FROM notices") == [("plan_started", "sub_2")]
    assert len(db.published_bodies("donations.contribution.succeeded.v1")) == 3


def test_a_payment_after_failures_makes_the_plan_active_again(db: DonationsDatabase) -> None:
    for delivery in stripe_plan(2, paid=1, failures=2, refund=False, dispute=False, cancel=False):
        db.deliver(delivery)
    assert plan(db, "stripe", "sub_2")["state"] == "failing"
    db.deliver(
        stripe(
            "evt_recovered",
            "invoice.paid",
            stripe_invoice("in_2_1", "sub_2", "cus_2", "donor2@example.org", 2500, 37),
            37,
        )
    )
    after = plan(db, "stripe", "sub_2")
    assert after["state"] == "active" and after["failures_in_a_row"] == 0


def test_partial_refunds_and_a_dispute_are_negative_ledger_entries_against_the_charge(
    db: DonationsDatabase,
) -> None:
    for delivery in stripe_plan(3, paid=1, failures=0, refund=True, dispute=True, cancel=False):
        db.deliver(delivery)
    kinds = sorted(db.rows("SELECT kind, amount_cents FROM ledger_entries"))
    assert kinds == [("contribution", 3000), ("dispute", -3000), ("refund", -500), ("refund", -250)]
    refunded = db.published_bodies("donations.contribution.refunded.v1")
    assert sorted(r["refunded_cents"] for r in refunded) == [250, 500]
    with db.sessions() as session:
        by_charge = reports.contribution(session, "stripe", "ch_in_3_0")  # as the refund named it
    assert by_charge is not None
    assert (by_charge["payment_ref"], by_charge["status"], by_charge["refunded_cents"]) == (
        "in_3_0",
        "disputed",
        750,
    )
    assert [e["kind"] for e in by_charge["ledger"]] == ["contribution", "refund", "refund", "dispute"]


def test_a_refund_before_its_payment_is_announced_once_the_payment_arrives(db: DonationsDatabase) -> None:
    history = stripe_plan(4, paid=1, failures=0, refund=True, dispute=False, cancel=False)
    refunds = [d for d in history if d.event_type == "charge.refunded"]
    for delivery in refunds:
        db.deliver(delivery)
    assert db.published_bodies("donations.contribution.refunded.v1") == []
    for delivery in history:
        db.deliver(delivery)
    assert len(db.published_bodies("donations.contribution.refunded.v1")) == 2
    assert ledger_total(db) == 3500 - 750


def test_cancellation_by_the_donor_wins_over_later_arriving_active_reports(db: DonationsDatabase) -> None:
    history = stripe_plan(5, paid=2, failures=0, refund=False, dispute=False, cancel=True)
    for delivery in [history[-1], *history]:
        db.deliver(delivery)
    row = plan(db, "stripe", "sub_5")
    assert (row["state"], row["canceled_by"], row["cancel_reason"]) == ("cancelled", "donor", "moving abroad")
    assert row["next_expected_at"] is None
    assert len(db.published_bodies("donations.recurring.canceled.v1")) == 1


def test_an_unused_stripe_type_is_stored_and_ignored(db: DonationsDatabase) -> None:
    assert (
        db.deliver(stripe("evt_misc", "customer.created", {"id": "cus_9", "object": "customer"}, 0))
        == "ignored"
    )
    assert db.rows("SELECT status FROM webhook_events") == [("ignored",)]


def test_an_event_missing_what_we_need_is_kept_as_failed_with_the_reason(db: DonationsDatabase) -> None:
    assert db.deliver(stripe("evt_bad", "invoice.paid", {"id": "in_x", "object": "invoice"}, 0)) == "failed"
    ((status, error),) = db.rows("SELECT status, error FROM webhook_events")
    assert status == "failed" and "amount_paid" in error
    assert db.rows("SELECT count(*) FROM ledger_entries") == [(0,)]


def test_actblue_recurring_with_fees_decline_refund_and_cancellation(db: DonationsDatabase) -> None:
    for delivery in actblue_plan(1, paid=2, declined=True, refund=True, cancel=True):
        db.deliver(delivery)
    contributions = db.rows(
        "SELECT payment_ref, amount_cents, fee_cents, committee, refcode FROM contributions ORDER BY payment_ref"
    )
    assert contributions == [
        ("1000", 2800, 111, "Runway Action Fund", "sms-2026"),
        ("1001", 2800, 111, "Runway Action Fund", "sms-2026"),
    ]
    (failed,) = db.published_bodies("donations.contribution.failed.v1")
    assert failed["retry_url"] == "https://secure.actblue.com/retry/AB00001"
    assert (failed["provider"], failed["plan_id"]) == ("actblue", "AB00001")
    row = plan(db, "actblue", "AB00001")
    assert (row["state"], row["canceled_by"], row["interval"]) == ("cancelled", "donor", "month")
    assert ledger_total(db) == 2 * 2800 - 2800
    donor = db.rows("SELECT email, employer, occupation, postal_code FROM donors")
    assert donor == [("ab1@example.org", "Navy", "Rear Admiral", "66603")]


def test_anedot_commitment_donations_partial_refund_and_cancel(db: DonationsDatabase) -> None:
    for delivery in anedot_plan(1, paid=2, refund=True, cancel=True):
        db.deliver(delivery)
    assert db.rows("SELECT amount_cents, fee_cents FROM contributions ORDER BY payment_ref") == [
        (2100, 90),
        (2100, 90),
    ]
    assert sorted(db.rows("SELECT kind, amount_cents FROM ledger_entries")) == [
        ("contribution", 2100),
        ("contribution", 2100),
        ("refund", -500),
    ]
    assert plan(db, "anedot", "com_1")["state"] == "cancelled"
    db.deliver(anedot(anedot_payload("donation_chargeback", "don_1_1", 40, amount="21.00")))
    assert ledger_total(db) == 4200 - 500 - 2100


def test_itemization_is_flagged_when_monthly_installments_pass_200_dollars(db: DonationsDatabase) -> None:
    def donor_id() -> str:
        return str(db.rows("SELECT id FROM donors")[0][0])

    for month in range(7):  # $27 a month: $189 after seven installments
        db.deliver(
            actblue("contribution", actblue_payload(500 + month, "AB-ITEM", 2700, 30 * month, employer=None))
        )
    with db.sessions() as session:
        totals = reports.donor_totals(session, donor_id(), 20_000)
    assert totals is not None
    assert [(y["year"], y["total_cents"], y["itemize"]) for y in totals["calendar_years"]] == [
        (2026, 18_900, False)
    ]

    db.deliver(actblue("contribution", actblue_payload(507, "AB-ITEM", 2700, 210, employer=None)))
    with db.sessions() as session:
        totals = reports.donor_totals(session, donor_id(), 20_000)
        worklist = reports.itemization_worklist(session, 2026, 20_000)
        california = reports.donor_totals(session, donor_id(), 25_000)
    assert totals is not None and california is not None
    (year,) = totals["calendar_years"]
    assert (year["total_cents"], year["contributions"], year["itemize"]) == (21_600, 8, True)
    assert year["missing_for_itemization"] == ["employer"]
    assert totals["election_cycles"][0]["cycle"] == "2025-2026"
    assert worklist == [
        {"donor_id": donor_id(), "email": "grace@example.org", "total_cents": 21_600, "missing": ["employer"]}
    ]
    assert california["calendar_years"][0]["itemize"] is False  # a jurisdiction with a higher threshold


def test_recurring_overview_counts_plans_and_monthly_revenue(db: DonationsDatabase) -> None:
    for delivery in [
        *stripe_plan(1, paid=1, failures=0, refund=False, dispute=False, cancel=False),  # active, $20
        *stripe_plan(2, paid=1, failures=1, refund=False, dispute=False, cancel=False),  # failing, $25
        *stripe_plan(3, paid=1, failures=0, refund=False, dispute=False, cancel=True),  # cancelled
        *actblue_plan(4, paid=1, declined=False, refund=False, cancel=False),  # active, $31
    ]:
        db.deliver(delivery)
    with db.sessions() as session:
        overview = reports.recurring_overview(session, datetime(2026, 2, 10, tzinfo=UTC))
    assert (overview["active"], overview["failing"]) == (2, 1)
    assert overview["monthly_recurring_revenue_cents"] == {"usd": 2000 + 2500 + 3100}
    assert overview["churned_this_month"] == 1  # cancelled on day 50 of 2026: February


def test_reconciliation_by_day_and_the_actblue_export_comparison(db: DonationsDatabase) -> None:
    for delivery in actblue_plan(1, paid=3, declined=False, refund=True, cancel=False):
        db.deliver(delivery)
    with db.sessions() as session:
        days = reports.reconciliation(session, "actblue", date(2026, 1, 1), date(2026, 3, 31))
    assert [(d["day"], d["contributions"], d["refunds"], d["net_cents"]) for d in days] == [
        ("2026-01-05", 1, 0, 2800),
        ("2026-01-08", 0, 1, -2800),
        ("2026-02-04", 1, 0, 2800),
        ("2026-03-06", 1, 0, 2800),
    ]
    export = (
        "Receipt ID,Date,Amount,Lineitem ID,Donor Email\n"
        "AB1,2026-01-05 10:00:00,28.00,1000,ab1@example.org\n"
        "AB2,2026-02-04 10:00:00,27.00,1001,ab1@example.org\n"
        "AB9,2026-02-20 10:00:00,10.00,9999,someone@example.org\n"
    )
    with db.sessions() as session:
        diff = reports.compare_actblue_export(session, reports.read_actblue_export(export))
    assert diff["matched"] == 1
    assert diff["missing_in_ledger"] == ["9999"]
    assert diff["amount_differs"] == [{"lineitem_id": "1001", "export_cents": 2700, "ledger_cents": 2800}]
    assert diff["missing_in_export"] == []  # 1002 was paid on 2026-03-06, after the export's last day
    with pytest.raises(reports.ExportUnreadable) as unreadable:
        reports.read_actblue_export("Date,Amount\n2026-01-01,1.00\n")
    assert unreadable.value.problems == ["missing column 'Lineitem ID'"]
    with pytest.raises(reports.ExportUnreadable) as unreadable:
        reports.read_actblue_export("Lineitem ID,Amount,Date\n1,12.345,2026-01-01\n")
    assert "line 2" in unreadable.value.problems[0]


def lead(lead_id: str, email: str | None, phone: str | None) -> LeadView:
    return LeadView(lead_id=lead_id, email=email, phone=phone)


EMAILS = ["a@example.org", "B@example.org", "c@example.org"]
PHONES = ["+17855550101", "(785) 555-0102", "+17855550103"]
a_lead = st.builds(
    lead,
    st.sampled_from(["lead-1", "lead-2", "lead-3", "lead-4"]),
    st.one_of(st.none(), st.sampled_from(EMAILS)),
    st.one_of(st.none(), st.sampled_from(PHONES)),
)
a_donor = st.tuples(
    st.sampled_from(["a@example.org", "b@example.org", "d@example.org"]),
    st.one_of(st.none(), st.sampled_from(["+17855550101", "+17855550102", "+17855550109"])),
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(leads=st.lists(a_lead, max_size=8), donors=st.lists(a_donor, max_size=3, unique_by=lambda d: d[0]))
def test_a_batch_of_leads_links_exactly_as_the_leads_one_after_the_other(
    donations_db: DonationsDatabase, leads: list[LeadView], donors: list[tuple[str, str | None]]
) -> None:
    """The lead writer links a batch in two statements; the rows must be those of `link_lead`
    applied to each lead in turn (the later lead keeps a shared contact, a donor goes to the
    first lead that identifies it, by email or by phone)."""
    now = datetime(2026, 11, 29, tzinfo=UTC)

    def outcome(apply: Callable[[Any], None]) -> tuple[object, object]:
        donations_db.clear()
        with donations_db.engine.begin() as c:
            for n, (email, phone) in enumerate(donors):
                c.execute(
                    tables.donors.insert().values(
                        id=f"d{n}", donor_key=f"email:{email}", phone_key=phone, created_at=now
                    )
                )
        with donations_db.uow() as uow:
            apply(uow.session)
            uow.commit()
        return (
            sorted(donations_db.rows("SELECT donor_key, lead_id FROM donors")),
            sorted(donations_db.rows("SELECT kind, value, lead_id FROM lead_contacts")),
        )

    def one_by_one(session: Any) -> None:
        for each in leads:
            link_lead(session, each, [], now)

    assert outcome(lambda session: link_leads(session, leads, now)) == outcome(one_by_one)


def test_a_gift_finds_its_lead_by_email_first_then_by_phone(db: DonationsDatabase) -> None:
    inbox = Inbox(tables.inbox, "donations-lead-received-v1")
    # Grace's phone (the ActBlue payload's) belongs to a lead with another email.
    record_lead(db.uow(), inbox, "m1", lead("lead-phone", "other@example.org", "+17855550123"))
    db.deliver(actblue("contribution", actblue_payload(1, "AB-1", 1000, 0, email="new@example.org")))
    # Her email belongs to another lead: the email decides.
    record_lead(db.uow(), inbox, "m2", lead("lead-email", "grace@example.org", None))
    db.deliver(actblue("contribution", actblue_payload(2, "AB-2", 1000, 0)))
    assert dict(db.rows("SELECT donor_key, lead_id FROM donors")) == {
        "email:new@example.org": "lead-phone",
        "email:grace@example.org": "lead-email",
    }


def test_donors_are_linked_to_their_lead_whichever_comes_first_and_follow_merges(
    db: DonationsDatabase,
) -> None:
    inbox = Inbox(tables.inbox, "donations-lead-received-v1")

    def linked() -> dict[str, str | None]:
        return {key: lead_id for key, lead_id in db.rows("SELECT donor_key, lead_id FROM donors")}

    # The lead first, then the gift (matched by email, whatever its case).
    record_lead(db.uow(), inbox, "m1", lead("lead-a", "grace@example.org", "+17855550123"))
    db.deliver(actblue("contribution", actblue_payload(1, "AB-L", 1000, 0, email="Grace@Example.org")))
    assert linked() == {"email:grace@example.org": "lead-a"}
    # The gift first, then the lead (matched by phone: the lead has another email).
    db.deliver(
        stripe("evt_l", "invoice.paid", stripe_invoice("in_l", None, "cus_l", "x@example.org", 500, 0), 0)
    )
    db.deliver(anedot(anedot_payload("donation_completed", "don_l", 0, amount="5.00")))
    record_lead(db.uow(), inbox, "m2", lead("lead-k", "kj@example.org", "+1 304 555 0199"))
    assert linked()["email:katherine@example.org"] == "lead-k"
    assert linked()["email:x@example.org"] is None
    assert record_lead(db.uow(), inbox, "m2", lead("lead-k", None, None)) is False  # a redelivery
    # Two leads proved to be one person: the donor follows the survivor.
    merges = Inbox(tables.inbox, "donations-lead-merged-v1")
    record_lead(db.uow(), merges, "m3", lead("lead-z", "zed@example.org", None), ["lead-a"])
    assert linked()["email:grace@example.org"] == "lead-z"
