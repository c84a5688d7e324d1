"""A recurring plan's state, derived from everything known about it (never from arrival order).

States follow CiviCRM's recurring-contribution statuses, the ones organizers
know: pending (set up, nothing paid yet), active, failing (the provider is
retrying), failed (too many failures in a row: dunning gave up), cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

INTERVAL_DAYS = {"week": 7, "month": 30, "quarter": 91, "year": 365}
MONTHLY_FACTOR = {"week": 52 / 12, "month": 1.0, "quarter": 1 / 3, "year": 1 / 12}


@dataclass(frozen=True)
class Report:
    """The provider's newest view of the plan."""

    amount_cents: int
    currency: str
    interval: str
    status: str  # pending, active, past_due, unpaid, canceled
    occurred_at: datetime
    next_charge_at: datetime | None = None


@dataclass(frozen=True)
class Cancellation:
    canceled_by: str
    reason: str | None
    occurred_at: datetime


@dataclass(frozen=True)
class PlanState:
    state: str
    amount_cents: int | None
    currency: str | None
    interval: str | None
    failures_in_a_row: int
    next_expected_at: datetime | None
    started_at: datetime | None
    canceled_by: str | None = None
    cancel_reason: str | None = None
    ended_at: datetime | None = None


def derive(
    report: Report | None,
    cancellation: Cancellation | None,
    payments: list[tuple[datetime, int, str]],  # (paid at, amount, currency) of its installments
    failures: list[datetime],  # when each failed attempt happened
    *,
    max_failures: int,
) -> PlanState:
    last_paid = max(payments) if payments else None
    since_last_paid = [f for f in failures if last_paid is None or f > last_paid[0]]
    interval = report.interval if report else ("month" if payments else None)
    amount = report.amount_cents if report else (last_paid[1] if last_paid else None)
    currency = report.currency if report else (last_paid[2] if last_paid else None)
    started = min(p[0] for p in payments) if payments else None

    if cancellation is not None or (report is not None and report.status == "canceled"):
        by = cancellation.canceled_by if cancellation else "provider"
        at = cancellation.occurred_at if cancellation else report.occurred_at  # type: ignore[union-attr]
        return PlanState(
            "cancelled",
            amount,
            currency,
            interval,
            len(since_last_paid),
            None,
            started,
            canceled_by=by,
            cancel_reason=cancellation.reason if cancellation else None,
            ended_at=at,
        )
    if len(since_last_paid) >= max_failures or (report is not None and report.status == "unpaid"):
        ended = max(since_last_paid) if since_last_paid else report.occurred_at  # type: ignore[union-attr]
        return PlanState(
            "failed", amount, currency, interval, len(since_last_paid), None, started, ended_at=ended
        )
    if since_last_paid or (
        report is not None and report.status == "past_due" and not _newer(last_paid, report)
    ):
        state = "failing"
    elif last_paid or (report is not None and report.status == "active"):
        state = "active"
    else:
        state = "pending"
    return PlanState(
        state,
        amount,
        currency,
        interval,
        len(since_last_paid),
        _next_expected(report, last_paid, interval),
        started,
    )


def _newer(last_paid: tuple[datetime, int, str] | None, report: Report) -> bool:
    return last_paid is not None and last_paid[0] > report.occurred_at


def _next_expected(
    report: Report | None, last_paid: tuple[datetime, int, str] | None, interval: str | None
) -> datetime | None:
    candidates = []
    if report is not None and report.next_charge_at is not None:
        candidates.append(report.next_charge_at)
    if last_paid is not None and interval in INTERVAL_DAYS:
        candidates.append(last_paid[0] + timedelta(days=INTERVAL_DAYS[interval]))  # type: ignore[index]
    return max(candidates) if candidates else None


def monthly_cents(amount_cents: int, interval: str) -> int:
    """What a plan brings in per month, for monthly recurring revenue."""
    return round(amount_cents * MONTHLY_FACTOR.get(interval, 1.0))
