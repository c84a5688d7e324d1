"""Admin routes (bearer RUNWAY_ADMIN_TOKEN): plans, donor totals, reconciliation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import anyio
import sqlalchemy as sa
from fastapi import HTTPException, Query, Request

from runway_donations.adapters.tables import recurring_plans
from runway_donations.service_layer import reports
from runway_runtime.admin import admin_router
from runway_runtime.requests import read_capped_body

router = admin_router(tags=["reports"])
MAX_DAYS = 92


def _threshold(request: Request, jurisdiction: str) -> int:
    thresholds = request.app.state.settings.donations_itemization_thresholds
    if jurisdiction not in thresholds:
        raise HTTPException(
            422,
            [
                {
                    "loc": ["query", "jurisdiction"],
                    "msg": f"no itemization threshold configured for {jurisdiction!r}; known: {sorted(thresholds)}",
                    "type": "value_error",
                }
            ],
        )
    return int(thresholds[jurisdiction])


async def _read(request: Request, work: Any) -> Any:
    def run() -> Any:
        with request.app.state.host.sessions() as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


@router.get("/v1/reports/recurring", summary="Active plans, monthly recurring revenue, failing, churned")
async def recurring(request: Request) -> dict[str, Any]:
    now = datetime.now(UTC)
    return await _read(request, lambda s: reports.recurring_overview(s, now))  # type: ignore[no-any-return]


@router.get("/v1/plans/{provider}/{plan_ref}", summary="One recurring plan as Runway sees it")
async def plan(request: Request, provider: str, plan_ref: str) -> dict[str, Any]:
    row = await _read(
        request,
        lambda s: (
            s.execute(
                sa.select(recurring_plans).where(
                    recurring_plans.c.provider == provider, recurring_plans.c.plan_ref == plan_ref
                )
            )
            .mappings()
            .first()
        ),
    )
    if row is None:
        raise HTTPException(404, f"no {provider} plan {plan_ref!r}")
    return dict(row)


@router.get(
    "/v1/contributions/{provider}/{payment_ref}",
    summary="One contribution: amount, fee, net, status (refunded, disputed…) and its ledger entries",
)
async def contribution(request: Request, provider: str, payment_ref: str) -> dict[str, Any]:
    found = await _read(request, lambda s: reports.contribution(s, provider, payment_ref))
    if found is None:
        raise HTTPException(404, f"no {provider} contribution {payment_ref!r}")
    return found  # type: ignore[no-any-return]


@router.get("/v1/donors/{donor_id}/totals", summary="A donor's totals per calendar year and election cycle")
async def donor_totals(
    request: Request, donor_id: str, jurisdiction: Annotated[str, Query()] = "federal"
) -> dict[str, Any]:
    threshold = _threshold(request, jurisdiction)
    totals = await _read(request, lambda s: reports.donor_totals(s, donor_id, threshold))
    if totals is None:
        raise HTTPException(404, f"no donor {donor_id!r}")
    return {**totals, "jurisdiction": jurisdiction}  # type: ignore[dict-item]


@router.get("/v1/reports/itemization", summary="Donors over the itemization threshold in a year")
async def itemization(
    request: Request,
    year: Annotated[int, Query(ge=2000, le=2100)],
    jurisdiction: Annotated[str, Query()] = "federal",
) -> dict[str, Any]:
    threshold = _threshold(request, jurisdiction)
    donors = await _read(request, lambda s: reports.itemization_worklist(s, year, threshold))
    return {"year": year, "jurisdiction": jurisdiction, "threshold_cents": threshold, "donors": donors}


@router.get("/v1/reports/reconciliation", summary="Per provider and day: counts and sums from the ledger")
async def reconciliation(
    request: Request,
    provider: Annotated[str, Query(pattern="^(stripe|actblue|anedot)$")],
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    last = last or first
    if last < first or last - first > timedelta(days=MAX_DAYS):
        raise HTTPException(
            422,
            [
                {
                    "loc": ["query", "to"],
                    "msg": f"from ≤ to, at most {MAX_DAYS} days apart",
                    "type": "value_error",
                }
            ],
        )
    days = await _read(request, lambda s: reports.reconciliation(s, provider, first, last))
    return {"provider": provider, "from": first.isoformat(), "to": last.isoformat(), "days": days}


@router.post(
    "/v1/reconciliation/actblue",
    summary="Compare ActBlue's paid-contributions CSV export with the ledger",
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
    responses={413: {"description": "Export over 20 MB"}, 422: {"description": "Unreadable export"}},
)
async def reconcile_actblue(request: Request) -> dict[str, Any]:
    body = await read_capped_body(request, 20 * 1024 * 1024)
    try:
        rows = reports.read_actblue_export(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise HTTPException(422, [{"loc": ["body"], "msg": "not UTF-8", "type": "value_error"}]) from None
    except reports.ExportUnreadable as error:
        raise HTTPException(
            422, [{"loc": ["body"], "msg": problem, "type": "value_error"} for problem in error.problems[:50]]
        ) from None
    return await _read(request, lambda s: reports.compare_actblue_export(s, rows))  # type: ignore[no-any-return]
