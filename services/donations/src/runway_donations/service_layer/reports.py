"""Admin reports, all derived from the ledger and the plans (nothing kept on the side)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_donations.adapters.tables import (
    contributions,
    donors,
    ledger_entries,
    payment_aliases,
    recurring_plans,
)
from runway_donations.domain.money import cents
from runway_donations.domain.plans import monthly_cents
from runway_donations.service_layer.facts import contribution_named

# A ledger entry joined to the contribution it concerns (entries name payments as the
# provider did: a refund may name the charge, the contribution its invoice).
_WITH_CONTRIBUTION = ledger_entries.join(
    payment_aliases,
    sa.and_(
        payment_aliases.c.provider == ledger_entries.c.provider,
        payment_aliases.c.alias == ledger_entries.c.payment_ref,
    ),
).join(
    contributions,
    sa.and_(
        contributions.c.provider == payment_aliases.c.provider,
        contributions.c.payment_ref == payment_aliases.c.payment_ref,
    ),
)


def _month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def recurring_overview(session: Session, now: datetime) -> dict[str, Any]:
    by_state: dict[str, int] = defaultdict(int)
    mrr: dict[str, int] = defaultdict(int)
    churned = 0
    since = _month_start(now)
    for plan in session.execute(
        sa.select(
            recurring_plans.c.state,
            recurring_plans.c.amount_cents,
            recurring_plans.c.currency,
            recurring_plans.c.interval,
            recurring_plans.c.ended_at,
        )
    ):
        by_state[plan.state] += 1
        if plan.state in ("active", "failing") and plan.amount_cents:
            mrr[plan.currency or "usd"] += monthly_cents(plan.amount_cents, plan.interval or "month")
        ended = (
            plan.ended_at.replace(tzinfo=UTC) if plan.ended_at and not plan.ended_at.tzinfo else plan.ended_at
        )
        if plan.state in ("cancelled", "failed") and ended is not None and ended >= since:
            churned += 1
    return {
        "plans_by_state": dict(sorted(by_state.items())),
        "active": by_state["active"],
        "failing": by_state["failing"],
        "monthly_recurring_revenue_cents": dict(mrr),
        "churned_this_month": churned,
        "as_of": now.isoformat(),
    }


def election_cycle(year: int) -> str:
    """Federal two-year cycles end in even years: 2025 and 2026 are the 2025–2026 cycle."""
    end = year if year % 2 == 0 else year + 1
    return f"{end - 1}-{end}"


def donor_totals(session: Session, donor_id: str, threshold_cents: int) -> dict[str, Any] | None:
    donor = session.execute(sa.select(donors).where(donors.c.id == donor_id)).mappings().first()
    if donor is None:
        return None
    years: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    cycles: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for entry in session.execute(
        sa.select(ledger_entries.c.kind, ledger_entries.c.amount_cents, ledger_entries.c.effective_at)
        .select_from(_WITH_CONTRIBUTION)
        .where(contributions.c.donor_id == donor_id)
    ):
        for bucket in (years[entry.effective_at.year], cycles[election_cycle(entry.effective_at.year)]):
            bucket[0] += entry.amount_cents
            bucket[1] += entry.kind == "contribution"
    missing = [f for f in ("employer", "occupation") if not donor[f]]

    def rows(totals: dict[Any, list[int]], name: str) -> list[dict[str, Any]]:
        return [
            {
                name: key,
                "total_cents": total,
                "contributions": count,
                "itemize": total > threshold_cents,
                "missing_for_itemization": missing if total > threshold_cents else [],
            }
            for key, (total, count) in sorted(totals.items())
        ]

    return {
        "donor_id": donor_id,
        "email": donor["email"],
        "name": " ".join(filter(None, [donor["first_name"], donor["last_name"]])) or None,
        "employer": donor["employer"],
        "occupation": donor["occupation"],
        "itemization_threshold_cents": threshold_cents,
        "calendar_years": rows(years, "year"),
        "election_cycles": rows(cycles, "cycle"),
    }


def itemization_worklist(session: Session, year: int, threshold_cents: int) -> list[dict[str, Any]]:
    """Donors whose gifts in `year` aggregate over the threshold, and what each is missing."""
    total = sa.func.sum(ledger_entries.c.amount_cents).label("total_cents")
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    rows = session.execute(
        sa.select(contributions.c.donor_id, total)
        .select_from(_WITH_CONTRIBUTION)
        .where(ledger_entries.c.effective_at >= start, ledger_entries.c.effective_at < end)
        .group_by(contributions.c.donor_id)
        .having(total > threshold_cents)
    ).all()
    people = {
        d.id: d
        for d in session.execute(sa.select(donors).where(donors.c.id.in_([r.donor_id for r in rows]))).all()
    }
    return [
        {
            "donor_id": r.donor_id,
            "email": people[r.donor_id].email,
            "total_cents": int(r.total_cents),
            "missing": [f for f in ("employer", "occupation") if not getattr(people[r.donor_id], f)],
        }
        for r in sorted(rows, key=lambda r: (-int(r.total_cents), r.donor_id))
    ]


def reconciliation(session: Session, provider: str, first: date, last: date) -> list[dict[str, Any]]:
    """Per day: what the ledger holds for `provider`, to compare with the provider's own report."""
    days: dict[date, dict[str, int]] = {}
    start = datetime.combine(first, datetime.min.time(), UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC)
    for entry in session.execute(
        sa.select(ledger_entries.c.kind, ledger_entries.c.amount_cents, ledger_entries.c.effective_at).where(
            ledger_entries.c.provider == provider,
            ledger_entries.c.effective_at >= start,
            ledger_entries.c.effective_at < end,
        )
    ):
        day = days.setdefault(
            entry.effective_at.date(),
            {
                "contributions": 0,
                "contributed_cents": 0,
                "refunds": 0,
                "refunded_cents": 0,
                "disputes": 0,
                "disputed_cents": 0,
                "net_cents": 0,
            },
        )
        plural = {"contribution": "contributions", "refund": "refunds"}.get(entry.kind, "disputes")
        amount_key = {"contributions": "contributed_cents", "refunds": "refunded_cents"}.get(
            plural, "disputed_cents"
        )
        day[plural] += 1
        day[amount_key] += (
            abs(entry.amount_cents) if entry.kind != "dispute_reversal" else -entry.amount_cents
        )
        day["net_cents"] += entry.amount_cents
    return [{"day": d.isoformat(), **totals} for d, totals in sorted(days.items())]


class ExportUnreadable(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ExportRow:
    lineitem_id: str
    amount_cents: int
    paid_on: date


REQUIRED = ("Lineitem ID", "Amount", "Date")


def read_actblue_export(text: str) -> list[ExportRow]:
    """ActBlue's paid-contributions CSV (columns "Lineitem ID", "Amount", "Date"; others ignored)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ExportUnreadable([f"missing column {c!r}" for c in missing])
    rows, problems = [], []
    for number, raw in enumerate(reader, start=2):  # line 1 is the header
        try:
            rows.append(
                ExportRow(
                    str(raw["Lineitem ID"]).strip(),
                    cents(raw["Amount"]),
                    datetime.fromisoformat(str(raw["Date"]).strip()).date(),
                )
            )
        except (ValueError, TypeError) as error:
            problems.append(f"line {number}: {error}")
    if problems:
        raise ExportUnreadable(problems)
    return rows


def compare_actblue_export(session: Session, rows: list[ExportRow]) -> dict[str, Any]:
    """What differs between ActBlue's export and the ledger, over the export's dates."""
    if not rows:
        return {"matched": 0, "missing_in_ledger": [], "amount_differs": [], "missing_in_export": []}
    first, last = min(r.paid_on for r in rows), max(r.paid_on for r in rows)
    start = datetime.combine(first - timedelta(days=1), datetime.min.time(), UTC)  # export dates are local
    end = datetime.combine(last + timedelta(days=2), datetime.min.time(), UTC)
    ours = {
        c.payment_ref: c
        for c in session.execute(
            sa.select(
                contributions.c.payment_ref, contributions.c.amount_cents, contributions.c.paid_at
            ).where(
                contributions.c.provider == "actblue",
                contributions.c.paid_at >= start,
                contributions.c.paid_at < end,
            )
        )
    }
    listed = {r.lineitem_id: r for r in rows}
    outside = set(listed) - set(ours)
    if outside:  # paid outside the window we looked at, or truly missing: look them up directly
        for c in session.execute(
            sa.select(
                contributions.c.payment_ref, contributions.c.amount_cents, contributions.c.paid_at
            ).where(contributions.c.provider == "actblue", contributions.c.payment_ref.in_(sorted(outside)))
        ):
            ours[c.payment_ref] = c
    missing_in_ledger = sorted(set(listed) - set(ours))
    differs = [
        {"lineitem_id": ref, "export_cents": listed[ref].amount_cents, "ledger_cents": ours[ref].amount_cents}
        for ref in sorted(set(listed) & set(ours))
        if listed[ref].amount_cents != ours[ref].amount_cents
    ]
    in_range = {ref for ref, c in ours.items() if first <= c.paid_at.date() <= last}
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "matched": len(set(listed) & set(ours)) - len(differs),
        "missing_in_ledger": missing_in_ledger,
        "amount_differs": differs,
        "missing_in_export": sorted(in_range - set(listed)),
    }


def contribution(session: Session, provider: str, payment_ref: str) -> dict[str, Any] | None:
    """One contribution with its net (after the provider's fee) and its status, from the ledger."""
    found = contribution_named(session, provider, payment_ref)
    if found is None:
        return None
    entries = session.execute(
        sa.select(ledger_entries.c.kind, ledger_entries.c.amount_cents, ledger_entries.c.effective_at)
        .select_from(_WITH_CONTRIBUTION)
        .where(contributions.c.id == found["id"])
        .order_by(ledger_entries.c.effective_at)
    ).all()
    refunded = -sum(e.amount_cents for e in entries if e.kind == "refund")
    disputed = -sum(e.amount_cents for e in entries if e.kind in ("dispute", "dispute_reversal"))
    if disputed > 0:
        status = "disputed"
    elif refunded >= found["amount_cents"]:
        status = "refunded"
    elif refunded > 0:
        status = "partially_refunded"
    else:
        status = "succeeded"
    fee = found["fee_cents"]
    return {
        **{
            k: found[k]
            for k in ("id", "provider", "payment_ref", "plan_ref", "amount_cents", "currency", "refcode")
        },
        "fee_cents": fee,
        "net_cents": found["amount_cents"] - fee if fee is not None else None,
        "committee": found["committee"],
        "paid_at": found["paid_at"],
        "status": status,
        "refunded_cents": refunded,
        "ledger": [
            {"kind": e.kind, "amount_cents": e.amount_cents, "effective_at": e.effective_at} for e in entries
        ],
    }
