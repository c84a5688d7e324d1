"""The three webhook endpoints against the running service: verify, store once, then apply through NATS."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from provider_payloads import (
    actblue_payload,
    anedot_payload,
    anedot_signature,
    basic_auth,
    dumps,
    stripe_event,
    stripe_invoice,
    stripe_signature,
)

from runway_devstack.processes import run_command, venv_command
from runway_devstack.testing import Stack, require_backend, wait_for

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": "Bearer dev-admin-token"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_backend(request.param)
    running = Stack(tmp_path_factory.mktemp(f"donations-{request.param}"), request.param)
    try:
        yield running.start(("donations",))
    finally:
        running.stop()


def url(stack: Stack, path: str) -> str:
    return f"{stack.url('donations')}{path}"


def stored(stack: Stack, provider: str) -> int:
    return stack.count("donations", f"SELECT count(*) FROM webhook_events WHERE provider = '{provider}'")


def post_stripe(
    stack: Stack, event: dict[str, object], *, t: int | None = None, secret: str | None = None
) -> httpx.Response:
    body = dumps(event)
    header = stripe_signature(body, secret or stack.stripe_secret, t or int(time.time()))
    return httpx.post(url(stack, "/v1/webhooks/stripe"), content=body, headers={"Stripe-Signature": header})


def test_stripe_events_are_verified_stored_once_and_applied(stack: Stack) -> None:
    invoice = stripe_invoice("in_e2e_1", "sub_e2e", "cus_e2e", "pat@example.org", 2500, 0)
    event = stripe_event("evt_e2e_paid", "invoice.paid", invoice, 0)
    before = stored(stack, "stripe")
    first, again = post_stripe(stack, event), post_stripe(stack, event)
    assert (first.status_code, first.json()["outcome"]) == (200, "stored")
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert stored(stack, "stripe") == before + 1
    wait_for(
        lambda: (
            stack.count("donations", "SELECT count(*) FROM contributions WHERE payment_ref = 'in_e2e_1'") == 1
        ),
        timeout=15,
        message="the stored event applied by donations' subscriber",
    )

    forged = post_stripe(stack, {**event, "id": "evt_forged"}, secret="whsec_someone_else")
    stale = post_stripe(stack, {**event, "id": "evt_stale"}, t=int(time.time()) - 301)
    unsigned = httpx.post(url(stack, "/v1/webhooks/stripe"), content=dumps(event))
    assert [r.status_code for r in (forged, stale, unsigned)] == [400, 400, 400]
    assert "tolerance" in stale.json()["detail"]
    huge = b'{"id":"evt_huge","type":"invoice.paid","pad":"' + b"x" * 300_000 + b'"}'
    too_big = httpx.post(
        url(stack, "/v1/webhooks/stripe"),
        content=huge,
        headers={"Stripe-Signature": stripe_signature(huge, stack.stripe_secret, int(time.time()))},
    )
    not_json = b"\xff\xfe not json"
    garbled = httpx.post(
        url(stack, "/v1/webhooks/stripe"),
        content=not_json,
        headers={"Stripe-Signature": stripe_signature(not_json, stack.stripe_secret, int(time.time()))},
    )
    assert (too_big.status_code, garbled.status_code) == (413, 400)
    assert stored(stack, "stripe") == before + 1  # nothing of any rejected request was kept

    unused = post_stripe(stack, stripe_event("evt_e2e_customer", "customer.created", {"id": "cus_new"}, 0))
    assert unused.status_code == 200
    wait_for(
        lambda: (
            stack.count(
                "donations",
                "SELECT count(*) FROM webhook_events WHERE provider_event_id = 'evt_e2e_customer' AND status = 'ignored'",
            )
            == 1
        ),
        timeout=15,
        message="an unused type stored and ignored",
    )


def test_actblue_needs_its_basic_credentials_and_each_webhook_type_has_its_url(stack: Stack) -> None:
    user, password = stack.actblue_credentials
    payload = actblue_payload(880001, "AB-E2E", 1500, 0, email="lin@example.org")
    body = dumps(payload)
    before = stored(stack, "actblue")
    missing = httpx.post(url(stack, "/v1/webhooks/actblue"), content=body)
    wrong = httpx.post(
        url(stack, "/v1/webhooks/actblue"), content=body, headers={"Authorization": basic_auth(user, "nope")}
    )
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.headers["www-authenticate"].startswith("Basic")
    assert stored(stack, "actblue") == before

    auth = {"Authorization": basic_auth(user, password)}
    assert (
        httpx.post(url(stack, "/v1/webhooks/actblue"), content=body, headers=auth).json()["outcome"]
        == "stored"
    )
    assert (
        httpx.post(url(stack, "/v1/webhooks/actblue"), content=body, headers=auth).json()["outcome"]
        == "duplicate"
    )
    refund = dumps(actblue_payload(880001, "AB-E2E", 1500, 0, email="lin@example.org", refunded_day=2))
    cancel = dumps(actblue_payload(880001, "AB-E2E", 1500, 0, email="lin@example.org", cancelled_day=3))
    assert (
        httpx.post(url(stack, "/v1/webhooks/actblue/refunds"), content=refund, headers=auth).status_code
        == 200
    )
    assert (
        httpx.post(url(stack, "/v1/webhooks/actblue/cancellations"), content=cancel, headers=auth).status_code
        == 200
    )
    no_items = httpx.post(
        url(stack, "/v1/webhooks/actblue"), content=dumps({**payload, "lineitems": []}), headers=auth
    )
    assert no_items.status_code == 400 and "lineitems" in no_items.json()["detail"]

    def settled() -> bool:
        return (
            stack.count(
                "donations",
                "SELECT count(*) FROM recurring_plans WHERE plan_ref = 'AB-E2E' AND state = 'cancelled'",
            )
            == 1
            and stack.count("donations", "SELECT count(*) FROM ledger_entries WHERE payment_ref = '880001'")
            == 2
        )

    wait_for(settled, timeout=15, message="contribution, refund and cancellation applied")


def test_anedot_signature_is_checked_before_anything_is_stored(stack: Stack) -> None:
    body = dumps(anedot_payload("donation_completed", "don_e2e", 0, amount="40.00", net_amount="38.50"))
    before = stored(stack, "anedot")
    bad = httpx.post(
        url(stack, "/v1/webhooks/anedot"), content=body, headers={"X-Request-Signature": "0" * 64}
    )
    missing = httpx.post(url(stack, "/v1/webhooks/anedot"), content=body)
    assert (bad.status_code, missing.status_code) == (401, 401)
    assert stored(stack, "anedot") == before
    good = httpx.post(
        url(stack, "/v1/webhooks/anedot"),
        content=body,
        headers={"X-Request-Signature": anedot_signature(body, stack.anedot_secret)},
    )
    assert good.status_code == 200
    wait_for(
        lambda: (
            stack.count(
                "donations",
                "SELECT count(*) FROM contributions WHERE payment_ref = 'don_e2e' AND fee_cents = 150",
            )
            == 1
        ),
        timeout=15,
        message="the Anedot donation applied",
    )


def test_reports_need_the_admin_token_and_reprocessing_changes_nothing(stack: Stack, tmp_path: Path) -> None:
    assert httpx.get(url(stack, "/v1/reports/recurring")).status_code == 401
    overview = httpx.get(url(stack, "/v1/reports/recurring"), headers=ADMIN)
    assert overview.status_code == 200 and "monthly_recurring_revenue_cents" in overview.json()
    bad_range = httpx.get(
        url(stack, "/v1/reports/reconciliation?provider=stripe&from=2026-02-01&to=2026-01-01"), headers=ADMIN
    )
    assert bad_range.status_code == 422 and bad_range.json()["detail"][0]["loc"] == ["query", "to"]
    export = httpx.post(
        url(stack, "/v1/reconciliation/actblue"), content=b"Amount,Date\n1.00,2026-01-01\n", headers=ADMIN
    )
    assert export.status_code == 422 and "Lineitem ID" in export.json()["detail"][0]["msg"]

    ledger = "SELECT count(*) FROM ledger_entries"
    wait_for(
        lambda: (
            stack.count("donations", "SELECT count(*) FROM webhook_events WHERE status = 'received'") == 0
        ),
        timeout=15,
        message="all applied",
    )
    before = stack.count("donations", ledger)
    run_command([venv_command("runway-donations"), "reprocess", "--all"], stack.env("donations"))
    assert stack.count("donations", ledger) == before
    assert json.loads(httpx.get(url(stack, "/livez")).text)["status"] == "ok"
