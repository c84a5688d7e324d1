"""In-process intake against a real database (SQLite or PostgreSQL), no NATS needed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from runway_devstack.nats_server import free_port
from runway_devstack.testing import POSTGRES_URL, Databases, require_backend
from runway_intake.bootstrap import create_app
from runway_intake.config import Settings
from runway_storage import upgrade_to_head

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
ADMIN = {"Authorization": "Bearer test-admin-token"}


class Intake:
    def __init__(self, client: TestClient, engine: sa.Engine) -> None:
        self.http = client
        self.engine = engine

    def count(self, sql: str) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.text(sql)).scalar() or 0)

    def rows(self) -> tuple[int, int, int]:
        return tuple(self.count(f"SELECT count(*) FROM {t}") for t in ("leads", "submissions", "outbox"))  # type: ignore[return-value]

    def register(self, **form: object) -> dict:  # type: ignore[type-arg]
        response = self.http.post(
            "/v1/admin/forms", json={"name": "A form", "owner": "partner", **form}, headers=ADMIN
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]


def make_intake(
    backend: str, tmp_path: Path, postgres_url: str = POSTGRES_URL, **overrides: object
) -> Iterator[Intake]:
    require_backend(backend)
    databases = Databases(backend, tmp_path, postgres_url)
    url = databases.urls["intake"]
    engine = databases.engine("intake")
    upgrade_to_head(engine, MIGRATIONS)
    settings = Settings(
        intake_database_url=url,
        nats_url=f"nats://127.0.0.1:{free_port()}",  # nothing there: the outbox keeps the events
        admin_token="test-admin-token",
        **overrides,  # type: ignore[arg-type]
    )
    try:
        with TestClient(create_app(settings)) as client:
            yield Intake(client, engine)
    finally:
        engine.dispose()
        databases.drop()
