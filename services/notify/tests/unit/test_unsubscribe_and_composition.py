from datetime import UTC, datetime

import pytest

from runway_notify.adapters.templates import Templates
from runway_notify.domain.notifications import EmailNotification, may_email, notification_key, races_subject
from runway_notify.domain.unsubscribe_tokens import BadToken, make_token, read_token
from runway_notify.service_layer.email_delivery import EmailComposer


def test_an_unsubscribe_token_names_its_address_and_cannot_be_forged() -> None:
    token = make_token("secret", "email", "maya@example.org")
    assert read_token("secret", token) == ("email", "maya@example.org")
    with pytest.raises(BadToken):
        read_token("other-secret", token)
    with pytest.raises(BadToken):
        read_token("secret", token[:-2] + "AA")


def test_the_same_person_type_and_subject_always_give_the_same_key() -> None:
    assert notification_key("races_near_you", "l1", races_subject(["b", "a"])) == notification_key(
        "races_near_you", "l1", races_subject(["a", "b"])
    )


def test_marketing_needs_consent_and_receipts_do_not() -> None:
    assert not may_email(None, transactional=False)
    assert not may_email({"granted": False}, transactional=False)
    assert may_email({"granted": True}, transactional=False)
    assert may_email(None, transactional=True)


def composer() -> EmailComposer:
    return EmailComposer(
        Templates(), "Runway <hello@example.org>", lambda a: f"https://runway.example/u/{'x' * 60}"
    )


ORG = {"organization": "Runway", "postal_address": "1 Main St"}


def test_marketing_email_carries_rfc8058_headers_unencoded_and_both_parts() -> None:
    note = EmailNotification(
        "k",
        "races_near_you",
        "l1",
        "maya@example.org",
        "races_near_you",
        {
            "first_name": "Maya",
            "postal_code": "66044",
            "resolved": True,
            "location": "Douglas County, KS",
            "total": 0,
            "races": [],
            "sample": False,
            **ORG,
        },
        transactional=False,
    )
    message = composer().compose(note)
    raw = message.as_bytes()
    assert b"List-Unsubscribe: <https://runway.example/u/" + b"x" * 60 + b">" in raw
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == note.message_id
    assert {part.get_content_type() for part in message.iter_parts()} == {"text/plain", "text/html"}


def test_html_escapes_what_people_typed() -> None:
    note = EmailNotification(
        "k",
        "donation_receipt",
        None,
        "d@example.org",
        "donation_receipt",
        {
            "first_name": "<script>x</script>",
            "amount_cents": 2500,
            "currency": "usd",
            "recurring": True,
            "paid_at": datetime(2026, 11, 27, tzinfo=UTC),
            "reference": "in_1",
            **ORG,
        },
        transactional=True,
    )
    message = composer().compose(note)
    assert "&lt;script&gt;" in message.get_body(("html",)).get_content()
    assert "List-Unsubscribe" not in message
    assert "25.00 USD" in message["Subject"]
