"""The load harness's webhooks are what donations verifies and books: each one a paid gift
whose payment reference and raw event id are the ones the checker looks for."""

from __future__ import annotations

import json
import time

import pytest

from benchmarks.pipeline.workload import (
    donor_email,
    payment_ref,
    webhook_event_id,
    webhook_provider,
    webhook_request,
)
from runway_donations.domain import actblue_events, stripe_events
from runway_donations.domain.facts import PaymentSucceeded
from runway_donations.domain.signatures import check_basic_auth
from runway_donations.domain.stripe_signature import verify

RUN = "a1b2c3"
STRIPE_SECRET = "whsec_workload"
ACTBLUE = ("actblue-user", "actblue-password")


def split(request: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = request.partition(b"\r\n\r\n")
    request_line, *lines = head.decode().split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    assert int(headers["content-length"]) == len(body)
    return request_line, headers, body


@pytest.mark.parametrize("i", [0, 1, 2, 3, 4001])
def test_each_webhook_verifies_and_is_a_paid_gift_the_checker_can_find(i: int) -> None:
    request_line, headers, body = split(webhook_request(RUN, i, STRIPE_SECRET, ACTBLUE, "127.0.0.1:1"))
    payload = json.loads(body)
    if webhook_provider(i) == "actblue":
        assert request_line == "POST /v1/webhooks/actblue HTTP/1.1"
        check_basic_auth(headers["authorization"], *ACTBLUE)
        assert actblue_events.event_id("contribution", payload) == webhook_event_id(RUN, i)
        facts = actblue_events.interpret("contribution", payload).facts
    else:
        assert request_line == "POST /v1/webhooks/stripe HTTP/1.1"
        verify(body, headers["stripe-signature"], [STRIPE_SECRET], now=time.time())
        assert payload["id"] == webhook_event_id(RUN, i)
        facts = stripe_events.interpret(payload).facts
    paid = [fact for fact in facts if isinstance(fact, PaymentSucceeded)]
    assert [(p.payment_ref, p.donor.email) for p in paid] == [(payment_ref(RUN, i), donor_email(RUN, i))]


def test_the_providers_alternate_and_their_references_never_collide() -> None:
    assert {webhook_provider(i) for i in range(10)} == {"stripe", "actblue"}
    refs = [payment_ref(RUN, i) for i in range(10_000)]
    assert len(set(refs)) == len(refs)
