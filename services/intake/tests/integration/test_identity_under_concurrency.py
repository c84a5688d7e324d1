"""Property: however concurrent submissions interleave, one lead per knowable person.

People have an email and a phone. A submission uses one person's email, phone,
or both. The system can only know that an email and a phone are the same
person once they appear together, so the expected number of leads per person
is 1 if they ever submitted both together (or only ever one kind), else 2.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import sessionmaker

from runway_devstack.testing import Databases, require_backend
from runway_eventbus.outbox import Outbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_intake.adapters import tables
from runway_intake.domain.signup import Signup
from runway_intake.service_layer.compliance import unique_lead_count
from runway_intake.service_layer.signups import accept_signup
from runway_storage import upgrade_to_head

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
submissions = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from(["email", "phone", "both"])), min_size=1, max_size=30
)


def expected_leads(plan: list[tuple[int, str]]) -> int:
    total = 0
    for person in {p for p, _ in plan}:
        modes = {m for p, m in plan if p == person}
        total += 1 if "both" in modes or len(modes) == 1 else 2
    return total


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_submissions_never_duplicate_a_person(backend: str, tmp_path: Path) -> None:
    require_backend(backend)
    databases = Databases(backend, tmp_path)
    engine = databases.engine("intake")
    upgrade_to_head(engine, MIGRATIONS)
    sessions = sessionmaker(engine, expire_on_commit=False)
    outbox = Outbox(tables.outbox, "/runway/intake")

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, outbox, lambda: None)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(plan=submissions)
    def check(plan: list[tuple[int, str]]) -> None:
        run = uuid.uuid4().hex[:6]
        with engine.begin() as c:
            for table in (
                "submissions",
                "lead_merges",
                "lead_identities",
                "idempotency_keys",
                "outbox",
                "leads",
            ):
                c.execute(sa.text(f"DELETE FROM {table}"))
            c.execute(sa.text("UPDATE lead_count_shards SET count = 0"))

        def submit(item: tuple[int, str]) -> None:
            person, mode = item
            email = f"p{person}-{run}@example.org" if mode in ("email", "both") else None
            phone = f"+1785555{person:04d}" if mode in ("phone", "both") else None
            signup = Signup(
                form_key="signup",
                first_name=None,
                last_name=None,
                email=email,
                phone=phone,
                postal_code=None,
                birth_date=None,
                interests=(),
                email_consent=None,
                sms_consent=None,
                received_at=datetime.now(UTC),
            )
            accept_signup(signup, uow)

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(submit, plan))

        with engine.connect() as c:
            leads = c.execute(sa.text("SELECT count(*) FROM leads")).scalar()
            dup_emails = c.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT email_key FROM leads WHERE email_key IS NOT NULL "
                    "GROUP BY email_key HAVING count(*) > 1) d"
                )
            ).scalar()
            dup_phones = c.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT phone FROM leads WHERE phone IS NOT NULL "
                    "GROUP BY phone HAVING count(*) > 1) d"
                )
            ).scalar()
            orphans = c.execute(
                sa.text(
                    "SELECT count(*) FROM lead_identities i LEFT JOIN leads l ON l.id = i.lead_id WHERE l.id IS NULL"
                )
            ).scalar()
            stored = c.execute(sa.text("SELECT count(*) FROM submissions")).scalar()
        with sessions() as session:
            counted = unique_lead_count(session)
        assert leads == expected_leads(plan)
        assert counted == leads  # the incremental count is exact
        assert (dup_emails, dup_phones, orphans) == (0, 0, 0)
        assert stored == len(plan)  # nothing accepted was lost

    try:
        check()
    finally:
        engine.dispose()
        databases.drop()
