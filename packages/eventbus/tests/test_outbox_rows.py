"""Staging many events: a fan-out row stands for the events `Outbox.row` would write, and the
bulk write stores what a plain insert would."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from runway_contracts import CloudEvent
from runway_contracts.intake import LeadReceived, LeadView
from runway_contracts.matching import DeadlineApproaching, LeadRaceNearby, RaceSummary
from runway_devstack.testing import Databases, require_backend
from runway_eventbus.outbox import FAN_OUT_HEADER, Outbox, messages_of
from runway_eventbus.tables import outbox_table

RACE = RaceSummary(
    race_id="race-1",
    office_name="Lawrence USD 497 Board of Education",
    level="local",
    division_id="ocd-division/country:us/state:ks/county:douglas/school_district:lawrence",
    division_name="Lawrence USD 497",
    election_date=date(2027, 11, 2),
    seats=3,
    reason="You live in Lawrence USD 497, KS. 3 seats.",
)


def test_a_fan_out_row_stands_for_the_events_row_writes_each_with_its_own_id(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path}/o.db")
    metadata = sa.MetaData()
    table = outbox_table(metadata)
    metadata.create_all(engine)
    outbox = Outbox(table, source="/runway/matching")
    other = RACE.model_copy(update={"reason": "You live in Douglas County, KS."})
    with sessionmaker(engine)() as session, session.begin():
        row_id = outbox.stage_fan_out(
            session,
            DeadlineApproaching.TYPE,
            [("lead-1", "66044"), ('lead-"2', "66046"), ("lead-3", "66044")],
            {"66044": RACE.model_dump_json(), "66046": other.model_dump_json()},
            subject_field="lead_id",
            variant_field="race",
            shared={"days_left": 7},
        )
        assert session.info["outbox_staged"]
    with engine.connect() as c:
        [row] = c.execute(sa.select(table.c.event_id, table.c.body, table.c.headers)).all()
    assert row.event_id == row_id and FAN_OUT_HEADER in row.headers
    messages = messages_of(*row)
    assert [m for m, _ in messages] == [f"{row_id}.0", f"{row_id}.1", f"{row_id}.2"]
    expected = [("lead-1", RACE), ('lead-"2', other), ("lead-3", RACE)]
    single = outbox.row(DeadlineApproaching(lead_id="lead-1", race=RACE, days_left=7), subject_id="lead-1")

    def comparable(body: bytes) -> dict[str, object]:
        return {k: v for k, v in json.loads(body).items() if k not in {"id", "time", "subject", "data"}}

    for (message_id, body), (lead_id, race) in zip(messages, expected, strict=True):
        assert comparable(body) == comparable(single["body"])  # type: ignore[arg-type]
        parsed = CloudEvent.model_validate_json(body)
        assert parsed.id == message_id and parsed.subject == lead_id and parsed.time.tzinfo is not None
        assert parsed.payload() == DeadlineApproaching(lead_id=lead_id, race=race, days_left=7)
    # A row that is not a fan-out is its own one message.
    assert messages_of("plain", b"{}", {}) == [("plain", b"{}")]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_staged_rows_read_back_as_sqlalchemy_wrote_them(backend: str, tmp_path: Path) -> None:
    """The bulk path (COPY on PostgreSQL, the driver's executemany on SQLite) stores what a
    plain insert would: the same body bytes, headers as JSON, the same creation time."""
    require_backend(backend)
    databases = Databases(backend, tmp_path)
    engine = databases.engine("matching")
    metadata = sa.MetaData()
    table = outbox_table(metadata)
    try:
        metadata.create_all(engine)
        outbox = Outbox(table, source="/runway/matching")
        single = outbox.row(LeadRaceNearby(lead_id="lead-0", race=RACE), subject_id="lead-0")
        single["headers"] = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
        many = [
            outbox.row(LeadRaceNearby(lead_id=lead, race=RACE), subject_id=lead)
            for lead in ("lead-1", "lead-2")
        ]
        sessions = sessionmaker(engine)
        with sessions() as session, session.begin():
            session.execute(table.insert(), [dict(single, event_id="plain")])
            outbox.stage_rows(session, [single, *many])
            assert session.info["outbox_staged"]
        with engine.connect() as c:
            stored = {r.event_id: r for r in c.execute(sa.select(table).order_by(table.c.seq))}
        assert list(stored) == ["plain", single["event_id"], many[0]["event_id"], many[1]["event_id"]]
        plain, bulk = stored.pop("plain"), stored[single["event_id"]]
        assert (bulk.subject, bulk.body, bulk.headers, bulk.created_at) == (
            plain.subject,
            plain.body,
            plain.headers,
            plain.created_at,
        )
        assert bulk.published_at is None
        for row in many:
            assert stored[row["event_id"]].body == row["body"]
    finally:
        engine.dispose()
        databases.drop()


@pytest.mark.parametrize(
    "event",
    [
        DeadlineApproaching(lead_id="lead-1", race=RACE, days_left=7),
        LeadRaceNearby(lead_id='lead-"2', race=RACE.model_copy(update={"division_name": "Año Nuevo \u2028"})),
        LeadReceived(
            submission_id="s-1",
            form_key="signup",
            is_new_lead=True,
            received_at=datetime(2026, 11, 29, 6, 0, 0, 1, tzinfo=UTC),
            lead=LeadView(lead_id="l-1", email="a@example.org"),  # most of the view is None
        ),
    ],
)
@pytest.mark.parametrize("subject", ["lead-1", None])
def test_an_event_is_encoded_as_its_envelope_would_serialize_it(event: object, subject: str | None) -> None:
    from runway_eventbus.outbox import encode_event

    when = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)  # no microseconds: the shortest form
    envelope = CloudEvent(
        id="e-1",
        source="/runway/matching",
        type=event.TYPE,  # type: ignore[attr-defined]
        subject=subject,
        time=when,
        data=event.model_dump(mode="json"),  # type: ignore[attr-defined]
    )
    encoded = encode_event(event, "e-1", "/runway/matching", subject, when)  # type: ignore[arg-type]
    assert encoded == envelope.model_dump_json(exclude_none=True).encode()
    assert CloudEvent.model_validate_json(encoded).payload() == event
