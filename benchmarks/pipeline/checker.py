"""Accounting for every accepted input after a pipeline run.

Each accepted sign-up has exactly one lead (a repeat joined the lead of its first
sign-up), that lead one match, and its welcome and "races near you" emails exactly
once; each accepted Stripe webhook is stored once, applied, and has exactly one
contribution, one ledger entry and one receipt; nothing new sits in the DLQ. Effects
of requests that were not answered 2xx (a timeout, a 503 during a fault) are counted
apart: allowed, but never double.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from benchmarks.intake_replay import stream_count
from benchmarks.pipeline.workload import donor_email, signup_person, stripe_event_id
from runway_devstack.testing import Stack


@dataclass
class Accepted:
    signups: dict[int, float] = field(default_factory=dict)  # index -> when the 2xx arrived
    webhooks: set[int] = field(default_factory=set)
    unanswered_signups: set[int] = field(default_factory=set)  # not 2xx: may or may not have landed
    unanswered_webhooks: set[int] = field(default_factory=set)


def smtp_log(path: Path) -> list[tuple[float, str, str]]:
    rows = []
    for line in path.read_text().splitlines():
        at, recipient, kind = line.split("\t")[:3]
        rows.append((float(at), recipient, kind))
    return rows


def rows(stack: Stack, service: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = stack.databases.engine(service)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def check(stack: Stack, run_id: str, accepted: Accepted, smtp: Path) -> dict[str, object]:
    pattern = f"%-{run_id}@example.org"
    people = {signup_person(run_id, i).email for i in accepted.signups}
    maybe_people = {signup_person(run_id, i).email for i in accepted.unanswered_signups} - people
    leads = rows(stack, "intake", "SELECT id, email FROM leads WHERE email LIKE :p", p=pattern)
    lead_of = {}
    per_email = Counter(email for _, email in leads)
    for lead_id, email in leads:
        lead_of[email] = lead_id
    missing_leads = people - set(lead_of)
    double_leads = {e for e, n in per_email.items() if n > 1}
    unexplained_leads = set(lead_of) - people - maybe_people

    # A lead is matched once by key (a repeat sign-up re-matches the same lead); what must
    # not repeat is its email, counted below.
    matched = {lead_id for (lead_id,) in rows(stack, "matching", "SELECT lead_id FROM lead_locations")}
    our_leads = {lead_of[e] for e in people if e in lead_of}
    unmatched = our_leads - matched

    mail = smtp_log(smtp)
    sent = Counter((recipient, kind) for _, recipient, kind in mail)
    expected_kinds = ("welcome", "races_near_you")
    missing_mail = {(e, k) for e in people for k in expected_kinds if sent[(e, k)] == 0}
    double_mail = {key for key, n in sent.items() if n > 1 and key[1] in expected_kinds}

    webhook_ids = {stripe_event_id(run_id, i) for i in accepted.webhooks}
    stored = dict(
        rows(
            stack,
            "donations",
            "SELECT provider_event_id, status FROM webhook_events WHERE provider_event_id LIKE :p",
            p=f"evt_{run_id}_%",
        )
    )
    not_stored = webhook_ids - set(stored)
    not_applied = {e for e in webhook_ids if stored.get(e) not in (None, "processed")}
    contributions = Counter(
        ref
        for (ref,) in rows(
            stack,
            "donations",
            "SELECT payment_ref FROM contributions WHERE payment_ref LIKE :p",
            p=f"in_{run_id}_%",
        )
    )
    ledger = Counter(
        ref
        for (ref,) in rows(
            stack,
            "donations",
            "SELECT payment_ref FROM ledger_entries WHERE kind = 'contribution' AND payment_ref LIKE :p",
            p=f"in_{run_id}_%",
        )
    )
    invoices = {f"in_{run_id}_{i}" for i in accepted.webhooks}
    maybe_invoices = {f"in_{run_id}_{i}" for i in accepted.unanswered_webhooks}
    missing_money = {i for i in invoices if contributions[i] != 1 or ledger[i] != 1}
    double_money = {i for i in set(contributions) | set(ledger) if contributions[i] > 1 or ledger[i] > 1}
    unexplained_money = set(contributions) - invoices - maybe_invoices
    # Receipts: donors give again and again, so count per donor address.
    expected_receipts = Counter(donor_email(run_id, i) for i in accepted.webhooks)
    possible_receipts = expected_receipts + Counter(
        donor_email(run_id, i) for i in accepted.unanswered_webhooks
    )
    receipts = Counter(r for _, r, k in mail if k == "donation_receipt")
    missing_receipts = sum(max(0, n - receipts[d]) for d, n in expected_receipts.items())
    extra_receipts = sum(max(0, n - possible_receipts[d]) for d, n in receipts.items())
    dlq = asyncio.run(stream_count(stack.nats.url, "DLQ"))

    lost = len(missing_leads) + len(unmatched) + len(missing_mail) + len(not_stored) + len(not_applied)
    lost += len(missing_money) + missing_receipts
    duplicated = len(double_leads) + len(double_mail) + len(double_money) + extra_receipts
    unexplained = len(unexplained_leads) + len(unexplained_money)
    result: dict[str, object] = {
        "signups_accepted": len(accepted.signups),
        "people_accepted": len(people),
        "leads": len(lead_of),
        "matched_leads": len(our_leads) - len(unmatched),
        "welcome_emails": sum(1 for e in people if sent[(e, "welcome")]),
        "races_emails": sum(1 for e in people if sent[(e, "races_near_you")]),
        "webhooks_accepted": len(webhook_ids),
        "contributions": sum(1 for i in invoices if contributions[i] == 1),
        "ledger_entries": sum(ledger[i] for i in invoices),
        "receipts": sum(min(receipts[d], n) for d, n in expected_receipts.items()),
        "unanswered_signups": len(accepted.unanswered_signups),
        "unanswered_webhooks": len(accepted.unanswered_webhooks),
        "dlq": dlq,
        "lost": lost,
        "duplicated": duplicated,
        "unexplained": unexplained,
        "examples": {
            "missing_leads": sorted(missing_leads)[:5],
            "unmatched": sorted(unmatched)[:5],
            "missing_mail": sorted(missing_mail)[:5],
            "double_mail": sorted(double_mail)[:5],
            "not_applied": sorted(not_applied)[:5],
            "missing_money": sorted(missing_money)[:5],
        },
    }
    ok = lost == 0 and duplicated == 0 and unexplained == 0 and dlq == 0
    result["verdict"] = (
        f"{'PASS' if ok else 'FAIL'}: {len(accepted.signups)} sign-ups accepted -> {len(lead_of)} leads "
        f"({len(people)} people), {result['matched_leads']} matched, {result['welcome_emails']} welcome + "
        f"{result['races_emails']} races emails; {len(webhook_ids)} webhooks -> {result['contributions']} "
        f"contributions, {result['ledger_entries']} ledger entries, {result['receipts']} receipts; "
        f"lost {lost}, duplicated {duplicated}, unexplained {unexplained}, DLQ {dlq}"
    )
    return result
