"""The relay against a real nats-server: each row marked published only once JetStream
acknowledged all it stands for; a row JetStream refuses stays unpublished, the rest of its
batch does not wait for it; a row published twice is stored once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import nats
import pytest
import sqlalchemy as sa
from nats.js.errors import NoStreamResponseError
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import sessionmaker

from runway_contracts.intake import LeadReceived, LeadView
from runway_devstack.nats_server import NatsServer
from runway_devstack.testing import DEFINITIONS
from runway_eventbus.outbox import Outbox
from runway_eventbus.provisioning import apply_definitions, load_definitions
from runway_eventbus.relay import OutboxRelay
from runway_eventbus.tables import outbox_table

STREAM = "INTAKE"


def received(n: int) -> LeadReceived:
    return LeadReceived(
        submission_id=f"s{n}",
        form_key="signup",
        is_new_lead=True,
        received_at=datetime.now(UTC),
        lead=LeadView(lead_id=f"lead-{n}", email=f"p{n}@example.org"),
    )


async def relay_rounds(tmp_path: Path) -> tuple[list[int], list[str | None], list[str], int, str]:
    server = NatsServer(tmp_path / "nats", name="relay")
    server.start()
    engine = sa.create_engine(f"sqlite:///{tmp_path}/o.db")
    metadata = sa.MetaData()
    table = outbox_table(metadata)
    metadata.create_all(engine)
    sessions = sessionmaker(engine)
    outbox = Outbox(table, source="/runway/intake")
    with sessions.begin() as session:
        for n in range(3):
            outbox.stage(session, received(n), subject_id=f"lead-{n}")
        nowhere = outbox.row(received(9), subject_id="lead-9") | {"subject": "nowhere.test.v1"}
        outbox.stage_rows(session, [nowhere])
        outbox.stage_fan_out(
            session,
            LeadReceived.TYPE,
            [(f"lead-{n}", "all") for n in range(10, 15)],
            {"all": received(10).lead.model_dump_json()},
            subject_field="lead_id",
            variant_field="lead",
            shared={
                "submission_id": "s10",
                "form_key": "signup",
                "is_new_lead": True,
                "received_at": datetime.now(UTC).isoformat(),
            },
        )
    nc = await nats.connect(server.url)
    try:
        await apply_definitions(nc.jetstream(), load_definitions(DEFINITIONS))
        relay = OutboxRelay(engine, table, nc.jetstream(), CollectorRegistry(), publish_timeout=2.0)
        rounds = []
        for _ in range(2):  # the second round retries only the refused row, and fails again
            try:
                rounds.append(await relay.publish_pending())
            except Exception as error:
                rounds.append(-1)
                refusal = type(error).__name__
        with engine.connect() as c:
            marks = c.execute(sa.select(table.c.published_at).order_by(table.c.seq)).scalars().all()
            ids = c.execute(sa.select(table.c.event_id).order_by(table.c.seq)).scalars().all()
        # Published again (a crash between the ack and the mark): JetStream keeps one copy.
        with sessions.begin() as session:
            session.execute(
                table.update().values(published_at=None).where(table.c.subject != "nowhere.test.v1")
            )
        with pytest.raises(NoStreamResponseError):  # the refused row, still refused
            await relay.publish_pending()
        info = await nc.jetstream().stream_info(STREAM)
        return rounds, [str(m) if m else None for m in marks], ids, info.state.messages, refusal
    finally:
        await nc.close()
        engine.dispose()
        server.stop()


def test_rows_are_marked_once_acked_and_a_refused_row_waits_alone(tmp_path: Path) -> None:
    rounds, marks, ids, stored, refusal = asyncio.run(relay_rounds(tmp_path))
    assert rounds == [-1, -1]  # each round publishes what it can, then reports the refusal
    assert refusal == "NoStreamResponseError"
    assert [m is not None for m in marks] == [True, True, True, False, True]
    assert stored == 3 + 5  # three events and the fan-out's five, each once
    assert len(set(ids)) == 5
