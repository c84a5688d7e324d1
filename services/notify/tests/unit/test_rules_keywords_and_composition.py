from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from notify_scenarios import parsed
from twilio.request_validator import RequestValidator

from runway_notify.adapters.templates import Templates
from runway_notify.domain import message_types as types
from runway_notify.domain.notifications import notification_key, races_subject
from runway_notify.domain.provider_signatures import sms_signature, sms_signature_valid
from runway_notify.domain.quiet_hours import next_allowed
from runway_notify.domain.retries import backoff
from runway_notify.domain.rules import (
    NO_ADDRESS,
    NO_CONSENT,
    OPTED_OUT,
    SUPPRESSED,
    reason_blocked,
    reason_not_to_queue,
)
from runway_notify.domain.sms_keywords import keyword
from runway_notify.domain.unsubscribe_tokens import BadToken, make_token, read_token
from runway_notify.service_layer.composing import Claimed, Composer
from runway_notify.service_layer.dispatcher import lease_covering
from runway_notify.service_layer.previews import SAMPLES

STOP_WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]


@pytest.mark.parametrize("word", STOP_WORDS)
@pytest.mark.parametrize("shape", ["{}", "{} ", "  {}\n", "{}.", "{}!"])
def test_every_carrier_stop_word_in_any_case_and_spacing_opts_out(word: str, shape: str) -> None:
    for variant in (word, word.lower(), word.capitalize()):
        assert keyword(shape.format(variant)) == "stop"


def test_start_help_and_conversation() -> None:
    assert keyword(" start ") == "start" and keyword("Unstop") == "start"
    assert keyword("help") == "help"
    assert keyword("stop by the office tomorrow") is None
    assert keyword("") is None


def test_unsubscribe_tokens_name_their_address_and_cannot_be_forged() -> None:
    token = make_token("secret", "email", "maya@example.org")
    assert read_token("secret", token) == ("email", "maya@example.org")
    with pytest.raises(BadToken):
        read_token("other-secret", token)
    with pytest.raises(BadToken):
        read_token("secret", token[:-2] + "AA")


def test_sms_webhook_signature_agrees_with_the_official_twilio_validator() -> None:
    validator = RequestValidator("12345")
    url = "https://notify.example.org/v1/sms/inbound?x=1"
    params = {"From": "+15551234567", "Body": "STOP", "MessageSid": "SM1", "To": "+15005550006"}
    official = validator.compute_signature(url, params)
    assert sms_signature("12345", url, params.items()) == official
    assert sms_signature_valid("12345", url, params.items(), official)
    assert not sms_signature_valid("12345", url, {**params, "Body": "START"}.items(), official)
    assert not sms_signature_valid("wrong", url, params.items(), official)


def test_marketing_needs_consent_and_no_opt_out_receipts_need_neither() -> None:
    granted = {"granted": True}
    assert reason_not_to_queue(types.WELCOME, "a@b.org", granted) is None
    assert reason_not_to_queue(types.WELCOME, "a@b.org", {"granted": False}) == NO_CONSENT
    assert reason_not_to_queue(types.WELCOME, "a@b.org", None) == NO_CONSENT
    assert reason_not_to_queue(types.WELCOME, None, granted) == NO_ADDRESS
    assert reason_not_to_queue(types.DONATION_RECEIPT, "a@b.org", None) is None
    assert reason_blocked(types.WELCOME, False, set()) is None
    assert reason_blocked(types.WELCOME, False, {"*"}) == OPTED_OUT
    assert reason_blocked(types.DEADLINE_REMINDER, False, {"deadline_reminder"}) == OPTED_OUT
    assert reason_blocked(types.WELCOME, False, {"deadline_reminder"}) is None
    assert reason_blocked(types.DONATION_RECEIPT, False, {"*"}) is None
    assert reason_blocked(types.DONATION_RECEIPT, True, set()) == SUPPRESSED
    assert reason_blocked(types.WELCOME, True, set()) == SUPPRESSED


@pytest.mark.parametrize(
    ("zone", "utc_now", "expected_utc"),
    [
        (
            "America/New_York",
            datetime(2026, 11, 27, 3, 30),
            datetime(2026, 11, 27, 13, 0),
        ),  # 22:30 → 8:00 EST
        ("America/Chicago", datetime(2026, 11, 27, 3, 30), datetime(2026, 11, 27, 14, 0)),  # 21:30 → 8:00 CST
        ("America/Los_Angeles", datetime(2026, 11, 27, 3, 30), datetime(2026, 11, 27, 3, 30)),  # 19:30: now
        ("Pacific/Honolulu", datetime(2026, 11, 27, 17, 0), datetime(2026, 11, 27, 18, 0)),  # 7:00 → 8:00 HST
        ("America/New_York", datetime(2026, 7, 1, 11, 59), datetime(2026, 7, 1, 12, 0)),  # 7:59 EDT
        ("America/New_York", datetime(2026, 7, 1, 1, 0), datetime(2026, 7, 1, 12, 0)),  # 21:00 sharp: closed
    ],
)
def test_sms_waits_for_8am_in_the_recipients_zone(
    zone: str, utc_now: datetime, expected_utc: datetime
) -> None:
    assert next_allowed(utc_now.replace(tzinfo=UTC), zone) == expected_utc.replace(tzinfo=UTC)


def test_with_no_known_zone_sms_waits_for_a_time_that_is_daytime_across_the_continental_us() -> None:
    # 13:30 UTC = 8:30 in New York but 5:30 in Los Angeles: wait for 8:00 Pacific (16:00 UTC).
    moment = next_allowed(datetime(2026, 11, 27, 13, 30, tzinfo=UTC), None)
    assert moment == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    # 02:30 UTC = 21:30 in New York: wait for the next day's 8:00 Pacific.
    assert next_allowed(datetime(2026, 11, 27, 2, 30, tzinfo=UTC), None) == datetime(
        2026, 11, 27, 16, 0, tzinfo=UTC
    )


def test_backoff_grows_and_is_capped() -> None:
    delays = [backoff(n).total_seconds() for n in range(1, 12)]
    assert 1.6 <= delays[0] <= 2.4
    assert all(d <= 360 for d in delays) and delays[-1] >= 240
    assert backoff(3) > timedelta(seconds=6)


def test_keys_are_deterministic_per_person_type_subject_and_channel() -> None:
    assert notification_key("races_near_you", "l1", races_subject(["b", "a"])) == notification_key(
        "races_near_you", "l1", races_subject(["a", "b"])
    )
    assert notification_key("welcome", "l1", "welcome") != notification_key("welcome", "l1", "welcome", "sms")


def composer() -> Composer:
    return Composer(Templates(), "Runway <hello@example.org>", "k", "https://runway.example/" + "x" * 60)


ORG = {"organization": "Runway", "postal_address": "1 Main St", "disclaimer": "Paid for by Runway."}


def claimed(message_type: str, context: dict[str, object], transactional: bool) -> Claimed:
    return Claimed(
        "d1",
        "t",
        "k",
        message_type,
        "email",
        "l1",
        "maya@example.org",
        transactional,
        {"first_name": "Maya", **ORG, **context},
        "<m1@runway.notify>",
        1,
        datetime.now(UTC),
    )


@pytest.mark.parametrize("message_type", sorted(types.ALL))
def test_every_template_renders_both_parts_and_the_right_headers(message_type: str) -> None:
    mt = types.ALL[message_type]
    outgoing = composer().email(claimed(message_type, SAMPLES[message_type], mt.transactional))
    message = parsed(outgoing)
    assert {part.get_content_type() for part in message.iter_parts()} == {"text/plain", "text/html"}
    assert message["Message-ID"] == "<m1@runway.notify>"
    text = message.get_body(("plain",)).get_content()
    assert "1 Main St" in text  # the postal address, in every message
    if mt.transactional:
        assert "List-Unsubscribe" not in message
    else:
        raw = outgoing.data
        assert b"List-Unsubscribe: <https://runway.example/" + b"x" * 60 + b"/v1/unsubscribe/" in raw
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/v1/preferences/" in text
    if "sms" in mt.channels:
        sms = composer().sms(claimed(message_type, SAMPLES[message_type], False))
        assert "STOP" in sms and len(sms) <= 320


def test_html_escapes_what_people_typed_and_the_receipt_carries_the_disclaimer() -> None:
    delivery = claimed(
        "donation_receipt", {**SAMPLES["donation_receipt"], "first_name": "<script>x</script>"}, True
    )
    message = parsed(composer().email(delivery))
    assert "&lt;script&gt;" in message.get_body(("html",)).get_content()
    assert "Paid for by Runway." in message.get_body(("plain",)).get_content()
    assert "25.00 USD" in message["Subject"]


def test_non_ascii_names_subjects_and_addresses_survive_the_trip() -> None:
    delivery = claimed("welcome", {**SAMPLES["welcome"], "first_name": "José Ñúñez"}, False)
    outgoing = composer().email(delivery)
    assert outgoing.data.isascii() and not outgoing.utf8  # RFC 2047 words and quoted-printable
    message = parsed(outgoing)
    assert message["Subject"] == "Welcome to Runway, José Ñúñez"
    assert "José Ñúñez" in message.get_body(("plain",)).get_content()
    assert "José Ñúñez" in message.get_body(("html",)).get_content()
    utf8 = composer().email(replace(delivery, recipient="josé@example.org"))
    assert utf8.utf8 and parsed(utf8)["To"] == "josé@example.org"


def test_a_claim_outlasts_a_round_in_which_every_send_times_out() -> None:
    # 128 messages over 4 connections: 32 each in turn, each up to two servers' timeouts.
    assert lease_covering(128, 4, 10.0) > timedelta(seconds=32 * 2 * 10)
    assert lease_covering(128, 16, 10.0) > timedelta(seconds=8 * 2 * 10)
    assert lease_covering(1, 16, 1.0) == timedelta(seconds=120)  # never shorter than before
