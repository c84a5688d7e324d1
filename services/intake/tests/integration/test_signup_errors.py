"""Bad input gets a clear error (status, field, reason) and leaves nothing written."""

from __future__ import annotations

import pytest


def test_an_accepted_signup_commits_lead_submission_and_event_even_with_nats_down(intake) -> None:
    http = intake.http
    response = http.post("/v1/signups", json={"email": "maya@example.org", "zip": "66044"})
    assert response.status_code == 202
    assert intake.rows() == (1, 1, 1)
    assert http.get("/readyz").status_code == 503  # NATS is unreachable, and it says so


def test_the_same_email_twice_is_one_lead_with_two_submissions(intake) -> None:
    http = intake.http
    first = http.post("/v1/signups", json={"email": "maya@example.org", "first_name": "Maya"}).json()
    second = http.post("/v1/signups", json={"email": "Maya@EXAMPLE.org", "phone": "785-555-0142"}).json()
    assert first["lead_id"] == second["lead_id"] and second["is_new_lead"] is False
    assert intake.rows() == (1, 2, 2)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"email": "a@example.org", "zip": "ABCDE"}, "postal_code"),
        ({"first_name": "No Contact"}, "email"),
        ({"email": "a@example.org", "interests": ["astronaut"]}, "interests"),
        ({"email": "a@example.org", "birth_date": "yesterday"}, "birth_date"),
    ],
)
def test_invalid_fields_get_422_naming_the_field_and_write_nothing(intake, body: dict, field: str) -> None:
    http = intake.http
    response = http.post("/v1/signups", json=body)
    assert response.status_code == 422
    assert field in [e["loc"][-1] for e in response.json()["detail"]], response.json()
    assert all(e["msg"] for e in response.json()["detail"])
    assert intake.rows() == (0, 0, 0)


def test_a_body_over_the_cap_gets_413(intake) -> None:
    http = intake.http
    response = http.post("/v1/signups", json={"email": "a@example.org", "first_name": "x" * 9000})
    assert response.status_code == 413
    assert intake.rows() == (0, 0, 0)


def test_a_form_post_to_the_json_endpoint_gets_415(intake) -> None:
    http = intake.http
    response = http.post("/v1/signups", data={"email": "a@example.org"})
    assert response.status_code == 415
    assert intake.rows() == (0, 0, 0)


def test_broken_json_and_wrong_encodings_get_422(intake) -> None:
    http = intake.http
    for content in (b'{"email": ', b'\xff\xfe{"email": "a@example.org"}', b"[]"):
        response = http.post("/v1/signups", content=content, headers={"content-type": "application/json"})
        assert response.status_code == 422, content
    assert intake.rows() == (0, 0, 0)


def test_an_overlong_consent_wording_is_a_field_error_not_a_crash(intake) -> None:
    response = intake.http.post(
        "/v1/signups", json={"email": "a@example.org", "consent": {"email": True, "wording": "x" * 2001}}
    )
    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == ["consent_wording"]
