"""Reverse matching and the reminder schedule on SQLite and PostgreSQL, with a controlled clock."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from matching_database import MatchingDatabase

from runway_contracts.intake import LeadMerged, LeadReceived, LeadView
from runway_eventbus.inbox import Inbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters import tables
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.domain.catalog import RaceRecord
from runway_matching.domain.geography import Division
from runway_matching.entrypoints.subscribers import NewLead, lead_matcher
from runway_matching.service_layer.catalog import add_race as add_to_catalog
from runway_matching.service_layer.match_lead import match_lead
from runway_matching.service_layer.merge_leads import merge_leads
from runway_matching.service_layer.race_finder import races_in
from runway_matching.service_layer.reminders import ReminderScheduler, send_due
from runway_matching.service_layer.reverse_matching import announce_race

NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
DOUGLAS = "ocd-division/country:us/state:ks/county:douglas"
DIVISIONS = {DOUGLAS: Division(DOUGLAS, "Douglas County", "county")}
OFFSETS = (14, 7, 1)


def add_race(uow: UnitOfWork, record: RaceRecord, now: datetime) -> tuple[str, bool]:
    return add_to_catalog(uow, record, DIVISIONS, now)


def new_race(
    source_id: str,
    division_id: str = DOUGLAS,
    closes: datetime | None = NOW + timedelta(days=30),
    minimum_age: int | None = 18,
) -> RaceRecord:
    return RaceRecord(
        source="test",
        source_id=source_id,
        office_name=f"Douglas County Commission {source_id}",
        office_type="county_commission",
        level="county",
        division_id=division_id,
        seats=1,
        partisan=True,
        minimum_age=minimum_age,
        election_name="Kansas general election",
        election_date=date(2027, 11, 2),
        filing_closes=closes,
    )


def receive(
    db: MatchingDatabase, geography: GeographyIndex, lead_id: str, zip_code: str, birth: date | None = None
) -> None:
    event = LeadReceived(
        submission_id=str(uuid.uuid4()),
        form_key="signup",
        is_new_lead=True,
        received_at=NOW,
        lead=LeadView(lead_id=lead_id, postal_code=zip_code, birth_date=birth),
    )
    assert match_lead(str(uuid.uuid4()), event, db.uow(), Inbox(tables.inbox, "test"), geography, OFFSETS)


def merge(db: MatchingDatabase, geography: GeographyIndex, event_id: str, survivor: str, merged: str) -> bool:
    """Intake's merge of `merged` into `survivor` (who lives in 66044), as matching receives it."""
    event = LeadMerged(
        survivor_lead_id=survivor,
        merged_lead_ids=[merged],
        merged_at=NOW,
        lead=LeadView(lead_id=survivor, postal_code="66044"),
    )
    return merge_leads(event_id, event, db.uow(), Inbox(tables.inbox, "matching-lead-merged-v1"), geography)


def test_a_new_race_reaches_each_eligible_lead_in_its_division_once(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    receive(db, geography, "lawrence", "66044", date(1990, 1, 1))
    receive(db, geography, "too-young", "66044", date(2010, 6, 1))  # 17 on election day
    receive(db, geography, "kansas-city-mo", "64105", date(1990, 1, 1))
    race_id, created = add_race(db.uow(), new_race("c1"), NOW)
    assert created
    assert add_race(db.uow(), new_race("c1"), NOW) == (race_id, False)  # the same source id: an update
    [published] = db.events("matching.race.published.v1")
    assert published["race"]["race_id"] == race_id

    assert announce_race(db.uow(), race_id, geography, NOW, OFFSETS) == 1
    assert announce_race(db.uow(), race_id, geography, NOW, OFFSETS) == 0  # a redelivered event
    [nearby] = db.events("matching.lead.race_nearby.v1")
    assert nearby["lead_id"] == "lawrence"
    assert "Douglas County" in nearby["race"]["reason"] and "partisan" in nearby["race"]["reason"]


def test_a_race_whose_filing_has_closed_reaches_nobody(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    receive(db, geography, "lawrence", "66044")
    race_id, _ = add_race(db.uow(), new_race("closed", closes=NOW - timedelta(hours=1)), NOW)
    assert announce_race(db.uow(), race_id, geography, NOW, OFFSETS) == 0


def test_reminders_go_at_each_offset_once_and_survive_a_restart(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    receive(db, geography, "lawrence", "66044")
    closes = NOW + timedelta(days=20)
    race_id, _ = add_race(db.uow(), new_race("r", closes=closes), NOW)
    announce_race(db.uow(), race_id, geography, NOW, OFFSETS)
    with db.engine.connect() as c:
        due = c.execute(
            sa.select(tables.race_reminders.c.days_before).where(tables.race_reminders.c.race_id == race_id)
        ).scalars()
        assert sorted(due) == [1, 7, 14]

    assert send_due(db.uow(), geography, closes - timedelta(days=14, minutes=1)) == 0
    assert send_due(db.uow(), geography, closes - timedelta(days=14)) == 1
    assert send_due(db.uow(), geography, closes - timedelta(days=13)) == 0  # sent: never again
    # A "restart": nothing in memory; the next process reads the same schedule.
    assert send_due(db.uow(), geography, closes - timedelta(hours=20)) == 2  # 7 days and 1 day, both due now
    reminders = [e for e in db.events("matching.deadline.approaching.v1") if e["race"]["race_id"] == race_id]
    assert sorted(e["days_left"] for e in reminders) == [1, 1, 14]
    assert send_due(db.uow(), geography, closes + timedelta(days=1)) == 0


def test_two_schedulers_never_send_the_same_reminder(db: MatchingDatabase, geography: GeographyIndex) -> None:
    for n in range(20):
        receive(db, geography, f"lead-{n}", "66044")
    closes = NOW + timedelta(days=3)
    race_id, _ = add_race(db.uow(), new_race("twice", closes=closes), NOW)
    announce_race(db.uow(), race_id, geography, NOW, OFFSETS)
    at = closes - timedelta(hours=23)
    schedulers = [ReminderScheduler(db.uow, geography, 0.01, clock=lambda: at) for _ in range(3)]
    for s in schedulers:
        s.start()
    deadline = datetime.now(UTC) + timedelta(seconds=20)
    while len(db.events("matching.deadline.approaching.v1")) < 20 and datetime.now(UTC) < deadline:
        time.sleep(0.05)
    for s in schedulers:
        s.stop()
    sent = [e["lead_id"] for e in db.events("matching.deadline.approaching.v1")]
    assert sorted(sent) == sorted(f"lead-{n}" for n in range(20))  # each once, none twice


def test_a_moved_deadline_moves_its_reminders_and_a_removed_one_voids_them(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    receive(db, geography, "lawrence", "66044")
    closes = NOW + timedelta(days=10)
    race_id, _ = add_race(db.uow(), new_race("moving", closes=closes), NOW)
    announce_race(db.uow(), race_id, geography, NOW, OFFSETS)
    later = closes + timedelta(days=5)
    add_race(db.uow(), new_race("moving", closes=later), NOW)  # the filing period was extended
    assert send_due(db.uow(), geography, closes - timedelta(days=7)) == 0  # not at the old time
    assert send_due(db.uow(), geography, later - timedelta(days=7)) == 1
    [event] = db.events("matching.deadline.approaching.v1")
    assert event["days_left"] == 7


def test_merged_leads_leave_the_survivor_one_set_of_matches_and_reminders(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    receive(db, geography, "email-lead", "66044")
    receive(db, geography, "phone-lead", "66044")
    closes = NOW + timedelta(days=20)
    race_id, _ = add_race(db.uow(), new_race("merge", closes=closes), NOW)
    assert announce_race(db.uow(), race_id, geography, NOW, OFFSETS) == 2
    assert send_due(db.uow(), geography, closes - timedelta(days=14)) == 2  # each lead got its 14-day one

    assert merge(db, geography, "m1", "email-lead", "phone-lead")
    assert not merge(db, geography, "m1", "email-lead", "phone-lead")  # a redelivery changes nothing

    with db.engine.connect() as c:
        assert c.execute(
            sa.select(tables.lead_matches.c.lead_id, tables.lead_matches.c.reminded).where(
                tables.lead_matches.c.race_id == race_id
            )
        ).all() == [("email-lead", True)]
        assert not c.execute(
            sa.select(tables.lead_divisions).where(tables.lead_divisions.c.lead_id == "phone-lead")
        ).first()

    # The person hears the 7-day and 1-day reminders once each (not once per former lead).
    assert send_due(db.uow(), geography, closes - timedelta(days=7)) == 1
    # A later race reaches them once.
    assert send_due(db.uow(), geography, closes - timedelta(hours=20)) == 1
    second, _ = add_race(db.uow(), new_race("after-merge", closes=closes), NOW)
    assert announce_race(db.uow(), second, geography, NOW, OFFSETS) == 1


def test_a_reminder_goes_to_those_matched_before_it_was_due_and_to_a_leads_top_races_only(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    closes = NOW + timedelta(days=20)
    ids = [
        add_race(db.uow(), new_race(f"top-{n}", closes=closes + timedelta(hours=n)), NOW)[0] for n in range(5)
    ]
    receive(db, geography, "early", "66044")  # matched to all five; reminded of its top three
    with db.engine.connect() as c:
        reminded = dict(
            c.execute(
                sa.select(tables.lead_matches.c.race_id, tables.lead_matches.c.reminded).where(
                    tables.lead_matches.c.lead_id == "early"
                )
            ).all()
        )
    assert set(reminded) >= set(ids) and sum(reminded[i] for i in ids) == 3
    first = closes - timedelta(days=14)
    assert send_due(db.uow(), geography, first + timedelta(hours=5)) == 3  # one 14-day reminder a top race
    receive(db, geography, "late", "66044")
    with db.engine.begin() as c:  # as if matched six hours after the 14-day reminders were due
        c.execute(
            tables.lead_matches.update()
            .where(tables.lead_matches.c.lead_id == "late")
            .values(matched_at=first + timedelta(hours=6))
        )
    assert (
        send_due(db.uow(), geography, first + timedelta(hours=7)) == 0
    )  # the 14-day ones are not sent again
    assert send_due(db.uow(), geography, closes - timedelta(days=7, hours=-5)) == 6  # 7-day: both leads
    sent = db.events("matching.deadline.approaching.v1")
    assert (
        sorted((e["lead_id"], e["days_left"]) for e in sent)
        == [("early", 7)] * 3 + [("early", 14)] * 3 + [("late", 7)] * 3
    )


def test_a_deadline_moved_earlier_brings_its_reminders_forward(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    receive(db, geography, "lawrence", "66044")
    closes = NOW + timedelta(days=30)
    race_id, _ = add_race(db.uow(), new_race("sooner", closes=closes), NOW)
    announce_race(db.uow(), race_id, geography, NOW, OFFSETS)
    sooner = closes - timedelta(days=10)
    add_race(db.uow(), new_race("sooner", closes=sooner), NOW)  # the filing period was shortened
    assert send_due(db.uow(), geography, sooner - timedelta(days=14)) == 1  # not ten days late
    [event] = db.events("matching.deadline.approaching.v1")
    assert event["days_left"] == 14


def test_a_merge_finds_the_merged_leads_races_where_they_live(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    receive(db, geography, "in-kansas", "66044")  # Douglas County, KS
    receive(db, geography, "in-missouri", "64105")  # Jackson County, MO
    jackson = "ocd-division/country:us/state:mo/county:jackson"
    divisions = {**DIVISIONS, jackson: Division(jackson, "Jackson County", "county")}
    race_id, _ = add_to_catalog(db.uow(), new_race("mo", division_id=jackson), divisions, NOW)
    assert announce_race(db.uow(), race_id, geography, NOW, OFFSETS) == 1
    assert merge(db, geography, "m2", "in-kansas", "in-missouri")
    with db.engine.connect() as c:
        assert c.execute(
            sa.select(tables.lead_matches.c.lead_id).where(tables.lead_matches.c.race_id == race_id)
        ).scalars().all() == ["in-kansas"]


def test_a_batch_of_new_leads_is_matched_as_one_lead_after_another_would_be(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    """The group-commit writer matches a batch together; the same person twice in it (signing
    up again) and a redelivered event end as if each had been handled on its own."""
    race_id, _ = add_race(db.uow(), new_race("batch", closes=NOW + timedelta(days=30)), NOW)
    matcher = lead_matcher(geography, OFFSETS, races_in)

    def item(event_id: str, lead_id: str, zip_code: str) -> NewLead:
        event = LeadReceived(
            submission_id=str(uuid.uuid4()),
            form_key="signup",
            is_new_lead=True,
            received_at=NOW,
            lead=LeadView(lead_id=lead_id, postal_code=zip_code, birth_date=date(1990, 1, 1)),
        )
        return NewLead(event_id, event, {})

    batch = [
        item("e1", "moved", "64105"),  # Kansas City, MO first ...
        item("e2", "lawrence", "66044"),
        item("e3", "moved", "66044"),  # ... then the same person again, now in Lawrence
        item("e2", "lawrence", "66044"),  # the same event twice in one batch
    ]
    with db.uow() as uow:
        assert matcher(uow, batch) == [True, True, True, False]
        uow.commit()
    with db.uow() as uow:  # a redelivery of the whole batch
        assert matcher(uow, batch) == [False, False, False, False]
        uow.commit()

    matched = db.events("matching.lead.matched.v1")
    assert [(e["lead_id"], e["postal_code"]) for e in matched] == [
        ("moved", "64105"),
        ("lawrence", "66044"),
        ("moved", "66044"),
    ]
    assert [r["race_id"] for r in matched[2]["races"]] == [race_id]
    with db.engine.connect() as c:
        where = dict(
            c.execute(sa.select(tables.lead_locations.c.lead_id, tables.lead_locations.c.postal_code))
            .tuples()
            .all()
        )
        assert where == {"moved": "66044", "lawrence": "66044"}  # the later sign-up stands
        divisions = c.execute(
            sa.select(tables.lead_divisions.c.postal_code).where(tables.lead_divisions.c.lead_id == "moved")
        ).scalars()
        assert set(divisions) == {"66044"}
        matches = c.execute(
            sa.select(tables.lead_matches.c.lead_id).where(tables.lead_matches.c.race_id == race_id)
        )
        assert sorted(matches.scalars()) == ["lawrence", "moved"]
        reminders = c.execute(
            sa.select(tables.race_reminders.c.days_before).where(tables.race_reminders.c.race_id == race_id)
        ).scalars()
        assert sorted(reminders) == [1, 7, 14]
