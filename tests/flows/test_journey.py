"""One real journey through every service, on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as SdkCloudEvent
from signing import body_of, invoice_paid, stripe_signature

from runway_devstack.testing import Stack, require_backend, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_backend(request.param)
    running = Stack(tmp_path_factory.mktemp(request.param), request.param, trace=True)
    try:
        yield running.start()
    finally:
        running.stop()


def signup(stack: Stack, email: str, zip_code: str = "66044", **extra: object) -> httpx.Response:
    payload = {
        "first_name": "Maya",
        "email": email,
        "zip": zip_code,
        "interests": ["school_board", "county"],
        "consent": {"email": True, "wording": "Email me about running for office."},
        **extra,
    }
    return httpx.post(f"{stack.url('intake')}/v1/signups", json=payload, timeout=10)


def mail_to(stack: Stack, address: str, message_type: str | None = None) -> list:
    return [
        m
        for m in stack.mail.messages()
        if m["To"] == address and message_type in (None, m["X-Runway-Message-Type"])
    ]


def test_signup_in_lawrence_gets_an_email_listing_douglas_county_races(stack: Stack) -> None:
    address = f"maya-{uuid.uuid4().hex[:6]}@example.org"
    response = signup(stack, address)
    assert response.status_code == 202, response.text
    [message] = wait_for(lambda: mail_to(stack, address, "races_near_you"), timeout=15, message="races email")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Douglas County, KS" in message["Subject"]
    # Her interests (school board, county office) come first among the ZIP's 23 races.
    assert "Lawrence Unified School District 497 Board of Education" in text
    assert "Douglas County Commission" in html
    assert "sample races with illustrative dates" in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_one_trace_spans_the_intake_request_the_matching_handler_and_the_notify_send(stack: Stack) -> None:
    address = f"trace-{uuid.uuid4().hex[:6]}@example.org"
    assert signup(stack, address).status_code == 202
    wait_for(lambda: mail_to(stack, address, "races_near_you"), timeout=15, message="email")
    assert stack.collector is not None

    def journey_trace() -> set[str] | None:
        spans = stack.collector.spans
        sends = [s for s in spans if s["service"] == "runway-notify" and s["name"] == "smtp send"]
        for send in sends:
            in_trace = {s["service"] + ":" + s["name"] for s in spans if s["trace_id"] == send["trace_id"]}
            if any(n.startswith("runway-intake:POST /v1/signups") for n in in_trace) and any(
                n.startswith("runway-matching:") and "intake.lead.received.v1" in n for n in in_trace
            ):
                return in_trace
        return None

    names = wait_for(journey_trace, timeout=15, message="a trace from intake through matching to notify")
    assert any(n.startswith("runway-notify:") and "matching.lead.matched.v1" in n for n in names)


def test_every_published_message_is_a_cloudevent_the_official_sdk_parses(stack: Stack) -> None:
    address = f"ce-{uuid.uuid4().hex[:6]}@example.org"
    assert signup(stack, address).status_code == 202
    wait_for(lambda: mail_to(stack, address, "races_near_you"), timeout=15, message="email")
    wait_for(lambda: stack.stream_messages("NOTIFY"), timeout=10, message="notification.sent event")
    seen_types = set()
    for stream in ("INTAKE", "MATCHING", "NOTIFY"):
        for message in stack.stream_messages(stream):
            event = JSONFormat().read(SdkCloudEvent, message.data)
            assert event.get_specversion() == "1.0"
            assert event.get_id() == message.headers["Nats-Msg-Id"]
            assert event.get_type() == message.subject
            assert event.get_source().startswith("/runway/")
            assert event.get_datacontenttype() == "application/json"
            assert isinstance(event.get_data(), dict)
            seen_types.add(event.get_type())
    assert {
        "intake.lead.received.v1",
        "matching.lead.matched.v1",
        "notify.notification.sent.v1",
    } <= seen_types


def post_stripe(stack: Stack, body: bytes, signature: str) -> httpx.Response:
    return httpx.post(
        f"{stack.url('donations')}/v1/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        timeout=10,
    )


def test_stripe_webhook_with_a_wrong_signature_is_refused_and_stores_nothing(stack: Stack) -> None:
    before = stack.count("donations", "SELECT count(*) FROM webhook_events")
    body = body_of(invoice_paid("forged@example.org"))
    response = post_stripe(stack, body, stripe_signature(body, "whsec_not_ours"))
    assert response.status_code == 400
    assert "Stripe-Signature" in response.json()["detail"]
    stale = post_stripe(stack, body, stripe_signature(body, stack.stripe_secret, int(time.time()) - 301))
    assert stale.status_code == 400 and "tolerance" in stale.json()["detail"]
    assert post_stripe(stack, body, "").status_code == 400
    assert stack.count("donations", "SELECT count(*) FROM webhook_events") == before
    assert stack.count("donations", "SELECT count(*) FROM ledger_entries") == stack.count(
        "donations", "SELECT count(*) FROM contributions"
    )


def test_the_same_valid_stripe_event_sent_twice_yields_one_receipt(stack: Stack) -> None:
    address = f"donor-{uuid.uuid4().hex[:6]}@example.org"
    event = invoice_paid(address, amount_cents=2500)
    body = body_of(event)
    first = post_stripe(stack, body, stripe_signature(body, stack.stripe_secret))
    second = post_stripe(stack, body, stripe_signature(body, stack.stripe_secret))
    assert first.status_code == 200 and first.json()["outcome"] == "stored"
    assert second.status_code == 200 and second.json()["outcome"] == "duplicate"
    [receipt] = wait_for(lambda: mail_to(stack, address), timeout=15, message="receipt")
    assert "25.00 USD" in receipt.get_body(("plain",)).get_content()
    assert "List-Unsubscribe" not in receipt  # a receipt is transactional
    time.sleep(2)  # anything sent twice would have arrived by now
    assert len(mail_to(stack, address)) == 1
    assert (
        stack.count(
            "donations", f"SELECT count(*) FROM webhook_events WHERE provider_event_id = '{event['id']}'"
        )
        == 1
    )


def test_each_failed_payment_attempt_sends_one_notice_with_the_retry_link(stack: Stack) -> None:
    from provider_payloads import stripe_event, stripe_invoice

    address = f"failing-{uuid.uuid4().hex[:6]}@example.org"
    run = uuid.uuid4().hex[:6]
    for attempt in (1, 2):
        invoice = stripe_invoice(
            f"in_{run}", f"sub_{run}", f"cus_{run}", address, 1800, attempt, paid=False, attempt=attempt
        )
        body = body_of(stripe_event(f"evt_{run}_{attempt}", "invoice.payment_failed", invoice, attempt))
        for _ in range(2):  # each delivered twice, as providers do
            assert post_stripe(stack, body, stripe_signature(body, stack.stripe_secret)).status_code == 200
    notices = wait_for(
        lambda: (m := mail_to(stack, address)) and len(m) >= 2 and m, timeout=20, message="two notices"
    )
    time.sleep(2)  # anything sent twice would have arrived by now
    notices = mail_to(stack, address)
    assert len(notices) == 2
    texts = sorted(n.get_body(("plain",)).get_content() for n in notices)
    assert all(f"https://invoice.stripe.com/i/in_{run}" in t for t in texts)
    assert sum("could not be charged (attempt 2)." in t for t in texts) == 1
    assert sum("could not be charged." in t for t in texts) == 1  # the first attempt
    assert all("did not go through" in str(n["Subject"]) for n in notices)
