"""Accounting for every accepted input after a pipeline run.

Each accepted sign-up has exactly one lead (a repeat joined the lead of its first
sign-up), that lead one match, and its welcome and "races near you" emails exactly
once; each accepted webhook (Stripe or ActBlue) is stored once, applied, and has exactly one
contribution, one ledger entry and one receipt; nothing sits in the DLQ but the
poison messages a fault scenario published (each parked once by every consumer of its
subject, and leaving no trace anywhere else), and no message ran out of deliveries
without a verdict. Effects of requests that were not answered 2xx (a broken connection,
a 503 during a fault) are counted apart: allowed, but never double.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nats
import sqlalchemy as sa

from benchmarks.pipeline.workload import donor_email, payment_ref, signup_person, webhook_event_id
from runway_devstack.testing import Stack
from runway_eventbus.dead_letters import list_dead_letters
from runway_eventbus.servers import nats_servers


@dataclass
class Accepted:
    signups: dict[int, float] = field(default_factory=dict)  # index -> when the 2xx arrived
    webhooks: set[int] = field(default_factory=set)
    unanswered_signups: set[int] = field(default_factory=set)  # not 2xx: may or may not have landed
    unanswered_webhooks: set[int] = field(default_factory=set)
    # Answered 4xx: every request of the workload is valid, so that is a failure (a broken
    # workload, or the system refusing what it should take), never "unanswered".
    refused_signups: set[int] = field(default_factory=set)
    refused_webhooks: set[int] = field(default_factory=set)


def refused(status: int) -> bool:
    """A final "no" (4xx), unlike a timeout, a broken connection (0), 408, 429 or a 5xx."""
    return 400 <= status < 500 and status not in (408, 429)


def smtp_log(path: Path) -> list[tuple[float, str, str]]:
    """(when accepted, recipient, message type) of each message the SMTP server accepted."""
    return [(at, recipient, kind) for at, recipient, kind, _ in smtp_messages(path)]


def smtp_messages(path: Path) -> list[tuple[float, str, str, str]]:
    rows = []
    for line in path.read_text().splitlines():
        at, recipient, kind, message_id = line.split("\t")
        rows.append((float(at), recipient, kind, message_id))
    return rows


# How long after SMTP accepted a message a SIGKILL of notify can still have caught it before
# the dispatcher recorded it (the batch's other sends, then one transaction): generous.
RESEND_WINDOW_SECONDS = 3.0


def without_crash_resends(
    mail: list[tuple[float, str, str, str]], notify_killed: list[float]
) -> tuple[list[tuple[float, str, str]], int]:
    """The accepted messages less the copies decision 0005 accepts, and how many those were.

    A copy is a crash resend only if it carries the Message-ID of the copy before it and
    notify was SIGKILLed within RESEND_WINDOW_SECONDS after that one was accepted and before
    this one was: the message was accepted, the process died before recording it, and
    another dispatcher sent it again when the claim's lease ran out. Any other repeat is a
    duplicate.
    """
    kept: list[tuple[float, str, str]] = []
    last: dict[str, float] = {}
    resent = 0
    for at, recipient, kind, message_id in sorted(mail):
        before = last.get(message_id) if message_id != "-" else None
        last[message_id] = at
        if before is not None and any(
            before <= killed <= min(before + RESEND_WINDOW_SECONDS, at) for killed in notify_killed
        ):
            resent += 1
            continue
        kept.append((at, recipient, kind))
    return kept, resent


def rows(stack: Stack, service: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = stack.databases.engine(service)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


# Durable consumers of intake.lead.received.v1 (deploy/nats/jetstream.json): each parks a poison copy.
LEAD_RECEIVED_CONSUMERS = (
    "matching-lead-received-v1",
    "notify-lead-received-v1",
    "donations-lead-received-v1",
)


def dead_letters(stack: Stack) -> tuple[Counter[tuple[str, str]], int]:
    """Parked messages by (consumer, event id), and messages that ran out of deliveries."""

    async def read() -> tuple[Counter[tuple[str, str]], int]:
        nc = await nats.connect(nats_servers(stack.nats_url))
        try:
            js = nc.jetstream()
            parked: Counter[tuple[str, str]] = Counter()
            exhausted = 0
            for letter in await list_dead_letters(js):
                if letter.kind != "failed":
                    exhausted += 1
                    continue
                message = await js.get_msg(letter.parked_stream, letter.parked_seq)
                event_id = str(json.loads(message.data or b"{}").get("id"))
                parked[(letter.consumer, event_id)] += 1
            return parked, exhausted
        finally:
            await nc.close()

    return asyncio.run(read())


def poison_traces(stack: Stack, poisons: set[str]) -> int:
    """Rows anywhere that a poison message caused."""
    if not poisons:
        return 0
    found = 0
    for service, sql in (
        ("matching", "SELECT count(*) FROM lead_locations WHERE lead_id IN :ids"),
        ("notify", "SELECT count(*) FROM contacts WHERE lead_id IN :ids"),
        ("donations", "SELECT count(*) FROM lead_contacts WHERE lead_id IN :ids"),
        ("matching", "SELECT count(*) FROM inbox WHERE event_id IN :ids"),
        ("notify", "SELECT count(*) FROM inbox WHERE event_id IN :ids"),
        ("donations", "SELECT count(*) FROM inbox WHERE event_id IN :ids"),
    ):
        statement = sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))
        engine = stack.databases.engine(service)
        try:
            with engine.connect() as connection:
                found += int(connection.execute(statement, {"ids": sorted(poisons)}).scalar() or 0)
        finally:
            engine.dispose()
    return found


def check(
    stack: Stack,
    run_id: str,
    accepted: Accepted,
    smtp: Path,
    poisons: set[str] | None = None,
    notify_killed: list[float] | None = None,
) -> dict[str, object]:
    """`notify_killed`: when the fault schedule SIGKILLed notify (epoch seconds)."""
    poisons = poisons or set()
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

    mail, resent = without_crash_resends(smtp_messages(smtp), notify_killed or [])
    sent = Counter((recipient, kind) for _, recipient, kind in mail)
    expected_kinds = ("welcome", "races_near_you")
    missing_mail = {(e, k) for e in people for k in expected_kinds if sent[(e, k)] == 0}
    double_mail = {key for key, n in sent.items() if n > 1 and key[1] in expected_kinds}

    webhook_ids = {webhook_event_id(run_id, i) for i in accepted.webhooks}
    stored = {
        event_id: status
        for event_id, status in rows(
            stack, "donations", "SELECT provider_event_id, status FROM webhook_events"
        )
        if event_id in webhook_ids
    }
    not_stored = webhook_ids - set(stored)
    not_applied = {e for e in webhook_ids if stored.get(e) not in (None, "processed")}
    invoices = {payment_ref(run_id, i) for i in accepted.webhooks}
    maybe_invoices = {payment_ref(run_id, i) for i in accepted.unanswered_webhooks}
    # The stack's databases are the run's own: every contribution in them is this run's.
    contributions = Counter(
        ref for (ref,) in rows(stack, "donations", "SELECT payment_ref FROM contributions")
    )
    ledger = Counter(
        ref
        for (ref,) in rows(
            stack, "donations", "SELECT payment_ref FROM ledger_entries WHERE kind = 'contribution'"
        )
    )
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
    parked, exhausted = dead_letters(stack)
    expected_parked = Counter({(c, p): 1 for c in LEAD_RECEIVED_CONSUMERS for p in poisons})
    poison_parked = sum(min(n, expected_parked[k]) for k, n in parked.items())
    dlq_unexpected = sum(max(0, n - expected_parked[k]) for k, n in parked.items())
    poison_not_parked = sum(1 for k in expected_parked if parked[k] == 0)
    poison_elsewhere = poison_traces(stack, poisons) + sum(1 for _, r, _ in mail if r.startswith("poison-"))

    lost = len(missing_leads) + len(unmatched) + len(missing_mail) + len(not_stored) + len(not_applied)
    lost += len(missing_money) + missing_receipts + exhausted + poison_not_parked
    duplicated = len(double_leads) + len(double_mail) + len(double_money) + extra_receipts
    unexplained = len(unexplained_leads) + len(unexplained_money) + poison_elsewhere
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
        "dlq": dlq_unexpected,
        "poisons_published": len(poisons),
        "poisons_parked": poison_parked,
        "poison_traces_elsewhere": poison_elsewhere,
        "ran_out_of_deliveries": exhausted,
        "lost": lost,
        "duplicated": duplicated,
        "resent_after_crash": resent,
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
    refusals = len(accepted.refused_signups) + len(accepted.refused_webhooks)
    result["refused"] = refusals
    ok = lost == 0 and duplicated == 0 and unexplained == 0 and dlq_unexpected == 0 and refusals == 0
    result["verdict"] = (
        f"{'PASS' if ok else 'FAIL'}: {len(accepted.signups)} sign-ups accepted -> {len(lead_of)} leads "
        f"({len(people)} people), {result['matched_leads']} matched, {result['welcome_emails']} welcome + "
        f"{result['races_emails']} races emails; {len(webhook_ids)} webhooks -> {result['contributions']} "
        f"contributions, {result['ledger_entries']} ledger entries, {result['receipts']} receipts; "
        f"lost {lost}, duplicated {duplicated}, unexplained {unexplained}, DLQ {dlq_unexpected}"
        + (f"; {resent} resent with its Message-ID after notify's SIGKILL (decision 0005)" if resent else "")
        + (
            f"; REFUSED (4xx) {len(accepted.refused_signups)} sign-ups, {len(accepted.refused_webhooks)} webhooks"
            if refusals
            else ""
        )
        + (f"; {len(poisons)} poison -> {poison_parked} parked, {poison_elsewhere} traces" if poisons else "")
        + (
            f"; unanswered {len(accepted.unanswered_signups)} sign-ups, {len(accepted.unanswered_webhooks)} webhooks"
            if accepted.unanswered_signups or accepted.unanswered_webhooks
            else ""
        )
    )
    return result
