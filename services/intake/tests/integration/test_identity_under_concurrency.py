"""Property: however concurrent submissions interleave, one lead per knowable person.

People have an email and two phone numbers. A submission carries one of
them, or the email with one of the phones. The system can only know that two
identifiers are one person once they appear together in a submission, so the
expected number of leads is the number of connected groups of identifiers
that submissions linked.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runway_devstack.testing import Databases, require_backend
from runway_eventbus.outbox import Outbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_intake.adapters import tables
from runway_intake.domain.signup import Signup
from runway_intake.service_layer.compliance import unique_lead_count
from runway_intake.service_layer.signup_writer import SignupWriter
from runway_intake.service_layer.signups import accept_in, accept_signup, apply_lead_count
from runway_storage import create_database_engine, upgrade_to_head
from runway_storage.sessions import core_sessions

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
MODES = {"email": ("e",), "phone": ("p1",), "phone2": ("p2",), "both": ("e", "p1"), "both2": ("e", "p2")}
submissions = st.lists(st.tuples(st.integers(0, 4), st.sampled_from(sorted(MODES))), min_size=1, max_size=30)


def contact_only(email: str | None, phone: str | None) -> Signup:
    """A sign-up that carries nothing but who the person is."""
    return Signup(
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


def expected_leads(plan: list[tuple[int, str]]) -> int:
    parent: dict[tuple[int, str], tuple[int, str]] = {}

    def root(node: tuple[int, str]) -> tuple[int, str]:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for person, mode in plan:
        first, *rest = [(person, ident) for ident in MODES[mode]]
        for other in rest:
            parent[root(other)] = root(first)
        root(first)
    return len({root(node) for node in parent})


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_submissions_never_duplicate_a_person(backend: str, tmp_path: Path) -> None:
    require_backend(backend)
    databases = Databases(backend, tmp_path)
    engine = databases.engine("intake")
    upgrade_to_head(engine, MIGRATIONS)
    sessions = core_sessions(engine)
    writer_engine = create_database_engine(databases.urls["intake"], immediate=True)
    writer_sessions = core_sessions(writer_engine)
    outbox = Outbox(tables.outbox, "/runway/intake")
    # The production path: batches through the group-commit writer. On PostgreSQL several
    # writers race each other, as the writers of intake's serving processes do (one each).
    writer = SignupWriter(
        lambda: UnitOfWork(writer_sessions, outbox, lambda: None),
        threads=1 if backend == "sqlite" else 4,
        max_batch=8,
    )
    writer.start()

    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
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
            used = MODES[mode]
            email = f"p{person}-{run}@example.org" if "e" in used else None
            phone = (
                f"+1785555{person:04d}" if "p1" in used else f"+1913555{person:04d}" if "p2" in used else None
            )
            writer.submit(contact_only(email, phone)).result(timeout=60)

        with ThreadPoolExecutor(max_workers=16) as pool:
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
        writer.stop()
        writer_engine.dispose()
        engine.dispose()
        databases.drop()


def test_a_phone_claimed_by_a_concurrent_transaction_makes_the_other_join_its_lead(tmp_path: Path) -> None:
    """T1 adds a second phone to Maya's lead and has not committed; T2 brings that phone alone.

    T2 must not create a second person: its claim waits for T1, fails, and the
    retry finds Maya's lead.
    """
    require_backend("postgresql")
    databases = Databases("postgresql", tmp_path)
    engine = databases.engine("intake")
    upgrade_to_head(engine, MIGRATIONS)
    sessions = core_sessions(engine)
    outbox = Outbox(tables.outbox, "/runway/intake")

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, outbox, lambda: None)

    try:
        maya = accept_signup(contact_only("maya@example.org", "+17855550101"), uow)
        t1 = uow().__enter__()
        accept_in(
            t1, contact_only("maya@example.org", "+19135550102")
        )  # claims the second phone, uncommitted
        apply_lead_count(t1.session)
        with ThreadPoolExecutor(max_workers=1) as pool:
            t2 = pool.submit(accept_signup, contact_only(None, "+19135550102"), uow)
            time.sleep(0.5)  # T2 is now waiting on T1's claim
            assert not t2.done()
            t1.commit()
            t1.__exit__(None, None, None)
            joined = t2.result(timeout=30)
        assert joined.lead_id == maya.lead_id and not joined.is_new_lead
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM leads")).scalar() == 1
        with sessions() as session:
            assert unique_lead_count(session) == 1
    finally:
        engine.dispose()
        databases.drop()
