"""Bad input gets a clear error (status, field, reason) and leaves nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from runway_devstack.nats_server import free_port
from runway_intake.bootstrap import create_app
from runway_intake.config import Settings
from runway_storage import create_database_engine, upgrade_to_head

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, sa.Engine]]:
    url = f"sqlite:///{tmp_path}/intake.db"
    engine = create_database_engine(url)
    upgrade_to_head(engine, MIGRATIONS)
    # No NATS on this port: intake must still accept (the outbox keeps the events).
    settings = Settings(
        intake_database_url=url, nats_url=f"nats://127.0.0.1:{free_port()}", intake_max_body_bytes=2048
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client, engine


def rows(engine: sa.Engine) -> tuple[int, int, int]:
    with engine.connect() as c:
        return tuple(
            c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("leads", "submissions", "outbox")
        )  # type: ignore[return-value]


def test_an_accepted_signup_commits_lead_submission_and_event_even_with_nats_down(client) -> None:
    http, engine = client
    response = http.post("/v1/signups", json={"email": "maya@example.org", "zip": "66044"})
    assert response.status_code == 202
    assert rows(engine) == (1, 1, 1)
    assert http.get("/readyz").status_code == 503  # NATS is unreachable, and it says so


def test_the_same_email_twice_is_one_lead_with_two_submissions(client) -> None:
    http, engine = client
    first = http.post("/v1/signups", json={"email": "maya@example.org", "first_name": "Maya"}).json()
    second = http.post("/v1/signups", json={"email": "Maya@EXAMPLE.org", "phone": "785-555-0142"}).json()
    assert first["lead_id"] == second["lead_id"] and second["is_new_lead"] is False
    assert rows(engine) == (1, 2, 2)


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
def test_invalid_fields_get_422_naming_the_field_and_write_nothing(client, body: dict, field: str) -> None:
    http, engine = client
    response = http.post("/v1/signups", json=body)
    assert response.status_code == 422
    assert field in [e["loc"][-1] for e in response.json()["detail"]], response.json()
    assert all(e["msg"] for e in response.json()["detail"])
    assert rows(engine) == (0, 0, 0)


def test_a_body_over_the_cap_gets_413(client) -> None:
    http, engine = client
    response = http.post("/v1/signups", json={"email": "a@example.org", "first_name": "x" * 5000})
    assert response.status_code == 413
    assert rows(engine) == (0, 0, 0)


def test_a_form_post_to_the_json_endpoint_gets_415(client) -> None:
    http, engine = client
    response = http.post("/v1/signups", data={"email": "a@example.org"})
    assert response.status_code == 415
    assert rows(engine) == (0, 0, 0)


def test_broken_json_and_wrong_encodings_get_422(client) -> None:
    http, engine = client
    for content in (b'{"email": ', b'\xff\xfe{"email": "a@example.org"}', b"[]"):
        response = http.post("/v1/signups", content=content, headers={"content-type": "application/json"})
        assert response.status_code == 422, content
    assert rows(engine) == (0, 0, 0)
