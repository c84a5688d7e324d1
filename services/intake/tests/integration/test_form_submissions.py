"""One endpoint for every form: content types, Jotform, partner auth, redirects, idempotency, limits."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from intake_harness import ADMIN, Intake, make_intake

JOTFORM_MAPPING = {
    "first_name": "q3_name[first]",
    "last_name": "q3_name[last]",
    "email": "q4_email",
    "phone": "q5_phone[full]",
    "zip": "q6_address[postal]",
    "interests": "q7_interests",
    "email_consent": "q8_consent",
}
PARTNER_SECRET = "partner-secret-0123456789"


def jotform_post(intake: Intake, form_key: str, answers: dict, **extra: str):  # type: ignore[no-untyped-def]
    fields = {
        "formID": "231",
        "submissionID": "5809",
        "formTitle": "Run with us",
        "ip": "203.0.113.9",
        "pretty": "Name:Maya Ortiz",
        "rawRequest": json.dumps(answers),
        **extra,
    }
    return intake.http.post(
        f"/v1/forms/{form_key}/submissions", files={k: (None, v) for k, v in fields.items()}
    )


def test_a_registered_form_maps_its_own_nested_json_fields(intake: Intake) -> None:
    intake.register(
        key="partner-json",
        mapping={
            "email": "contact.email",
            "zip": "contact.address.zip",
            "first_name": "who.given",
            "interests": "wants",
        },
        value_maps={"interests": {"School Board": "school_board"}},
        default_tags=["partner-x"],
    )
    body = {
        "contact": {"email": "ana@example.org", "address": {"zip": "66044-1234"}},
        "who": {"given": "Ana"},
        "wants": ["School Board", "housing"],
        "favorite_color": "teal",
    }
    response = intake.http.post("/v1/forms/partner-json/submissions", json=body)
    assert response.status_code == 202, response.text
    with intake.engine.connect() as c:
        lead = c.exec_driver_sql(
            "SELECT first_name, postal_code, interests, tags, custom_fields FROM leads"
        ).one()
    assert lead[0] == "Ana" and lead[1] == "66044"
    assert sorted(json.loads(lead[2]) if isinstance(lead[2], str) else lead[2]) == ["housing", "school_board"]
    assert "partner-x" in (json.loads(lead[3]) if isinstance(lead[3], str) else lead[3])
    custom = json.loads(lead[4]) if isinstance(lead[4], str) else lead[4]
    assert custom == {"favorite_color": "teal"}  # unmapped fields kept verbatim


def test_jotforms_multipart_webhook_with_raw_request_becomes_a_lead(intake: Intake) -> None:
    intake.register(key="jotform-231", mapping=JOTFORM_MAPPING, consent_wording="Email me about running.")
    answers = {
        "q3_name": {"first": "Maya", "last": "Ortiz"},
        "q4_email": "maya@example.org",
        "q5_phone": {"full": "(785) 555-0142"},
        "q6_address": {"postal": "66044"},
        "q7_interests": ["school_board", "education"],
        "q8_consent": "Yes",
    }
    response = jotform_post(intake, "jotform-231", answers)
    assert response.status_code == 202, response.text
    with intake.engine.connect() as c:
        email, phone, consent = c.exec_driver_sql("SELECT email, phone, email_consent FROM leads").one()
    assert (email, phone) == ("maya@example.org", "+17855550142")
    consent = json.loads(consent) if isinstance(consent, str) else consent
    assert consent["granted"] is True and consent["wording"] == "Email me about running."


def test_a_plain_html_form_gets_a_303_to_its_thank_you_page(intake: Intake) -> None:
    intake.register(
        key="html-form", mapping={"email": "email", "zip": "zip"}, thank_you_url="https://example.org/thanks"
    )
    response = intake.http.post(
        "/v1/forms/html-form/submissions",
        data={"email": "h@example.org", "zip": "66044"},
        headers={"Accept": "text/html,application/xhtml+xml"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "https://example.org/thanks"
    assert intake.rows()[0] == 1


def test_an_html_form_with_errors_is_sent_back_naming_the_fields(intake: Intake) -> None:
    intake.register(
        key="html-form", mapping={"email": "email", "zip": "zip"}, thank_you_url="https://example.org/thanks"
    )
    response = intake.http.post(
        "/v1/forms/html-form/submissions",
        data={"email": "nope", "zip": "12"},
        headers={"Accept": "text/html", "Referer": "https://example.org/join?ref=x"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "https://example.org/join?ref=x&runway_errors=email%2Cpostal_code"
    assert intake.rows() == (0, 0, 0)


def test_urlencoded_repeated_keys_are_one_multi_choice_answer_in_the_declared_charset(intake: Intake) -> None:
    intake.register(key="latin", mapping={"email": "email", "first_name": "name", "interests": "i"})
    body = b"email=jose%40example.org&name=Jos%E9&i=housing&i=climate"
    response = intake.http.post(
        "/v1/forms/latin/submissions",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded; charset=iso-8859-1"},
    )
    assert response.status_code == 202, response.text
    with intake.engine.connect() as c:
        name, interests = c.exec_driver_sql("SELECT first_name, interests FROM leads").one()
    assert name == "José"
    assert sorted(json.loads(interests) if isinstance(interests, str) else interests) == [
        "climate",
        "housing",
    ]


def test_bytes_that_are_not_utf8_get_422_not_a_crash(intake: Intake) -> None:
    intake.register(key="plain", mapping={"email": "email"})
    response = intake.http.post(
        "/v1/forms/plain/submissions",
        content=b"email=\xff\xfe",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422 and "utf-8" in response.text


@pytest.mark.parametrize("auth", ["hmac", "bearer"])
def test_partner_forms_need_their_signature_or_token(intake: Intake, auth: str) -> None:
    intake.register(key="partner", mapping={"email": "email"}, auth=auth, secret=PARTNER_SECRET)
    body = json.dumps({"email": "p@example.org"}).encode()
    url, json_type = "/v1/forms/partner/submissions", {"content-type": "application/json"}
    good = (
        {
            "X-Runway-Signature": "sha256="
            + hmac.new(PARTNER_SECRET.encode(), body, hashlib.sha256).hexdigest()
        }
        if auth == "hmac"
        else {"Authorization": f"Bearer {PARTNER_SECRET}"}
    )
    bad = (
        {"X-Runway-Signature": "sha256=" + "0" * 64} if auth == "hmac" else {"Authorization": "Bearer wrong"}
    )
    missing = intake.http.post(url, content=body, headers=json_type)
    forged = intake.http.post(url, content=body, headers={**json_type, **bad})
    assert missing.status_code == 401 and forged.status_code == 401
    assert intake.rows() == (0, 0, 0)
    assert intake.http.post(url, content=body, headers={**json_type, **good}).status_code == 202


def test_a_tampered_body_fails_the_partner_signature(intake: Intake) -> None:
    intake.register(key="partner", mapping={"email": "email"}, auth="hmac", secret=PARTNER_SECRET)
    signed = json.dumps({"email": "p@example.org"}).encode()
    signature = "sha256=" + hmac.new(PARTNER_SECRET.encode(), signed, hashlib.sha256).hexdigest()
    response = intake.http.post(
        "/v1/forms/partner/submissions",
        content=signed.replace(b"p@", b"q@"),
        headers={"content-type": "application/json", "X-Runway-Signature": signature},
    )
    assert response.status_code == 401


def test_unknown_forms_404_and_deactivated_forms_410(intake: Intake) -> None:
    assert intake.http.post("/v1/forms/nope/submissions", json={"email": "a@example.org"}).status_code == 404
    intake.register(key="old", mapping={"email": "email"})
    assert intake.http.delete("/v1/admin/forms/old", headers=ADMIN).json()["active"] is False
    assert intake.http.post("/v1/forms/old/submissions", json={"email": "a@example.org"}).status_code == 410
    assert intake.rows() == (0, 0, 0)


def test_browsers_on_other_origins_are_refused(intake: Intake) -> None:
    intake.register(key="site", mapping={"email": "email"}, allowed_origins=["https://runforsomething.net"])
    other = intake.http.post(
        "/v1/forms/site/submissions",
        json={"email": "a@example.org"},
        headers={"Origin": "https://evil.example"},
    )
    ours = intake.http.post(
        "/v1/forms/site/submissions",
        json={"email": "a@example.org"},
        headers={"Origin": "https://runforsomething.net"},
    )
    assert (other.status_code, ours.status_code) == (403, 202)


def test_a_filled_honeypot_looks_accepted_and_stores_nothing(intake: Intake) -> None:
    intake.register(key="site", mapping={"email": "email"})
    response = intake.http.post(
        "/v1/forms/site/submissions", json={"email": "bot@example.org", "website": "http://spam"}
    )
    assert response.status_code == 202 and response.json()["lead_id"] is None
    assert intake.rows() == (0, 0, 0)


def test_an_idempotency_key_replays_the_first_response_and_stores_nothing_new(intake: Intake) -> None:
    headers = {"Idempotency-Key": "retry-7"}
    first = intake.http.post("/v1/signups", json={"email": "i@example.org"}, headers=headers)
    again = intake.http.post("/v1/signups", json={"email": "i@example.org"}, headers=headers)
    assert first.json() == again.json() and again.headers["Idempotent-Replayed"] == "true"
    assert intake.rows() == (1, 1, 1)
    other = intake.http.post("/v1/signups", json={"email": "other@example.org"}, headers=headers)
    assert other.status_code == 422 and "Idempotency-Key" in other.text
    assert intake.rows() == (1, 1, 1)


def test_unsupported_content_types_get_415(intake: Intake) -> None:
    intake.register(key="site", mapping={"email": "email"})
    response = intake.http.post(
        "/v1/forms/site/submissions", content=b"<lead/>", headers={"content-type": "application/xml"}
    )
    assert response.status_code == 415


def test_every_field_error_is_reported_at_once(intake: Intake) -> None:
    response = intake.http.post(
        "/v1/signups", json={"email": "x", "phone": "1", "zip": "abc", "birth_date": "1800-01-01"}
    )
    assert response.status_code == 422
    assert {e["loc"][-1] for e in response.json()["detail"]} == {
        "email",
        "phone",
        "postal_code",
        "birth_date",
    }


def test_the_admin_api_needs_the_admin_token(intake: Intake) -> None:
    assert intake.http.get("/v1/admin/forms").status_code == 401
    assert intake.http.get("/v1/admin/forms", headers={"Authorization": "Bearer nope"}).status_code == 401
    keys = [f["key"] for f in intake.http.get("/v1/admin/forms", headers=ADMIN).json()]
    assert "signup" in keys
    assert intake.http.get("/v1/compliance/unique-leads").status_code == 401


def test_a_form_mapping_to_an_unknown_lead_field_is_refused(intake: Intake) -> None:
    response = intake.http.post(
        "/v1/admin/forms",
        headers=ADMIN,
        json={"key": "bad", "name": "Bad", "owner": "x", "mapping": {"shoe_size": "s"}},
    )
    assert response.status_code == 422 and "shoe_size" in response.text


def test_rate_limits_answer_429_with_retry_after(tmp_path: Path) -> None:
    for intake in make_intake("sqlite", tmp_path, intake_rate_per_ip_per_minute=8):
        statuses = [
            intake.http.post("/v1/signups", json={"email": f"r{i}@example.org"}).status_code for i in range(4)
        ]
        assert statuses[:2] == [202, 202] and statuses[-1] == 429
        limited = intake.http.post("/v1/signups", json={"email": "late@example.org"})
        assert int(limited.headers["Retry-After"]) >= 1


def test_a_malformed_multipart_body_is_the_clients_error(intake: Intake) -> None:
    intake.register(key="site", mapping={"email": "email"})
    response = intake.http.post(
        "/v1/forms/site/submissions",
        content=b"--b\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--b--\r\n",
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 400
    assert "name" in response.json()["detail"]
    assert intake.rows() == (0, 0, 0)
