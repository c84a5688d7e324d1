"""Our Stripe-Signature check agrees with the official `stripe` package on a generated corpus."""

import hashlib
import hmac
import json
import random
import time

import stripe

from runway_donations.domain.stripe_signature import SignatureRejected, verify

SECRET = "whsec_test_secret"


def sign(body: bytes, secret: str, t: int) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def corpus() -> list[tuple[str, bytes, str]]:
    # Both verifiers read the real clock; every timestamp is at least 5 s from the 300 s
    # tolerance edge, counted from when the test runs (not when the module was imported:
    # in a full suite run that can be many minutes earlier).
    now = int(time.time())
    rng = random.Random(7)
    cases = []
    for i in range(40):
        body = json.dumps(
            {"id": f"evt_{i}", "object": "event", "type": "invoice.paid", "n": rng.random()}
        ).encode()
        t = now - rng.choice([0, 10, 295, 305, 4000, -200, -400])
        good = f"t={t},v1={sign(body, SECRET, t)}"
        cases += [
            ("valid", body, good),
            ("tampered body", body.replace(b"invoice", b"invoise"), good),
            ("wrong secret", body, f"t={t},v1={sign(body, 'whsec_other', t)}"),
            (
                "rotated: second v1 matches",
                body,
                f"t={t},v1={sign(body, 'whsec_old', t)},v1={sign(body, SECRET, t)}",
            ),
            ("timestamp moved", body, f"t={t + 1},v1={sign(body, SECRET, t)}"),
            ("no v1", body, f"t={t}"),
            ("garbage", body, "nonsense"),
        ]
    return cases


def official_accepts(body: bytes, header: str) -> bool:
    try:
        stripe.WebhookSignature.verify_header(body.decode(), header, SECRET, tolerance=300)
        return True
    except stripe.SignatureVerificationError:
        return False


def ours_accepts(body: bytes, header: str) -> bool:
    try:
        verify(body, header, [SECRET], now=time.time(), tolerance=300)
        return True
    except SignatureRejected:
        return False


def far_future(header: str) -> bool:
    stamp = header.split(",")[0].removeprefix("t=")
    return stamp.isdigit() and int(stamp) > time.time() + 300


def test_our_verification_agrees_with_stripes_on_every_case_but_far_future_timestamps() -> None:
    cases = corpus()
    disagreements = [
        (why, h)
        for why, body, h in cases
        if not far_future(h) and ours_accepts(body, h) != official_accepts(body, h)
    ]
    assert disagreements == []
    assert sum(ours_accepts(b, h) for _, b, h in cases) >= 20  # the corpus has accepted cases too


def test_a_far_future_timestamp_is_refused_although_stripe_itself_would_accept_it() -> None:
    # Deliberately stricter than the library (which checks only age): |now - t| <= 300 s.
    body = b'{"id":"evt_future"}'
    t = int(time.time()) + 400
    header = f"t={t},v1={sign(body, SECRET, t)}"
    assert official_accepts(body, header)
    assert not ours_accepts(body, header)


def test_a_secret_being_rotated_out_still_verifies() -> None:
    body = b'{"id":"evt_1"}'
    now = int(time.time())
    verify(body, f"t={now},v1={sign(body, 'whsec_old', now)}", ["whsec_new", "whsec_old"], now=now)
