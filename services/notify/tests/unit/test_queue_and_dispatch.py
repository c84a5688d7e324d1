"""The delivery queue on SQLite and PostgreSQL: rules, quiet hours, retries, digests, opt-outs, merges."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from notify_scenarios import ORG, Clock, FakeEmail, FakeSms, NotifyDatabase, lead, race, received
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import OperationalError

from runway_contracts.donations import ContributionSucceeded, DonorRef
from runway_contracts.intake import LeadMerged
from runway_contracts.matching import DeadlineApproaching, LeadMatched, LeadRaceNearby
from runway_notify.domain.outcomes import Accepted, Rejected, TryLater
from runway_notify.entrypoints.subscribers import (
    DEADLINE_APPROACHING,
    LEAD_MATCHED,
    LEAD_MERGED,
    LEAD_RECEIVED,
    RACE_NEARBY,
    Received,
    plans,
    resume,
    write_events,
)
from runway_notify.service_layer import dispatcher as dispatcher_module
from runway_notify.service_layer import messages, opt_out
from runway_notify.service_layer.awaiting import WaitingSweep
from runway_notify.service_layer.contacts import merge
from runway_notify.service_layer.queue import deliveries_together
from runway_notify.service_layer.sms_reports import delivery_status

NIGHT = datetime(2026, 11, 27, 3, 30, tzinfo=UTC)  # 22:30 New York, 21:30 Chicago, 19:30 LA, 17:30 Honolulu


def run(dispatcher) -> int:
    total = 0
    while handled := asyncio.run(dispatcher.run_once()):
        total += handled
    return total


def lead_received(db: NotifyDatabase, view, now: datetime = NIGHT) -> None:
    db.apply(lambda s, e, n: messages.lead_received(s, e, n, ORG), received(view), now)


def reminder(db: NotifyDatabase, lead_id: str, race_id: str, now: datetime, days_left: int = 7) -> int:
    event = DeadlineApproaching(lead_id=lead_id, race=race(race_id), days_left=days_left)
    return db.apply(lambda s, e, n: messages.deadline_approaching(s, e, n, ORG), event, now)


def test_sms_is_deferred_to_8am_local_across_time_zones_and_email_is_not(notify_db: NotifyDatabase) -> None:
    people = {  # name: (ZIP, phone)
        "ny": ("10001", "+12125550100"),
        "chi": ("60601", "+13125550100"),
        "la": ("90012", "+12135550100"),
        "hnl": ("96813", "+18085550100"),
    }
    for name, (zip_code, phone) in people.items():
        view = lead(name, email=f"{name}@example.org", phone=phone, zip_code=zip_code, sms_ok=True)
        lead_received(notify_db, view)
    clock, email, sms = Clock(NIGHT), FakeEmail(), FakeSms()
    dispatcher = notify_db.dispatcher(clock, email, sms)
    for name in people:
        reminder(notify_db, name, "r1", NIGHT)
    run(dispatcher)
    assert len(email.sent) == 8  # welcome + reminder each, at once: email has no quiet hours
    texted = {to for to, _ in sms.sent}
    assert texted == {people["la"][1], people["hnl"][1]}  # 19:30 and 17:30 local: inside the window
    deferred = notify_db.rows("SELECT recipient FROM deliveries WHERE channel = 'sms' AND status = 'queued'")
    assert len(deferred) == 4  # welcome + reminder for New York and Chicago, deferred, not dropped

    clock.now = datetime(2026, 11, 27, 12, 59, tzinfo=UTC)  # 7:59 in New York
    run(dispatcher)
    assert len(sms.sent) == 4
    clock.now = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)  # 8:00 in New York, 7:00 in Chicago
    run(dispatcher)
    assert {to for to, _ in sms.sent[4:]} == {people["ny"][1]}
    clock.now = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # 8:00 in Chicago
    run(dispatcher)
    assert {to for to, _ in sms.sent[6:]} == {people["chi"][1]}
    assert len(sms.sent) == 8 and len(email.sent) == 8
    run(dispatcher)
    assert len(sms.sent) == 8  # nothing twice


def test_the_same_message_queued_twice_is_sent_once(notify_db: NotifyDatabase) -> None:
    lead_received(notify_db, lead("l1", email="maya@example.org"))
    assert reminder(notify_db, "l1", "r1", NIGHT) == 1
    assert (
        reminder(notify_db, "l1", "r1", NIGHT + timedelta(minutes=5)) == 0
    )  # a redelivered or repeated event
    email = FakeEmail()
    dispatcher = notify_db.dispatcher(Clock(NIGHT), email)
    run(dispatcher)
    run(dispatcher)
    assert sorted(m["X-Runway-Message-Type"] for m in email.sent) == ["deadline_reminder", "welcome"]


def test_a_stop_that_arrives_while_a_text_waits_for_morning_wins(notify_db: NotifyDatabase) -> None:
    lead_received(notify_db, lead("ny", phone="+15550001000", zip_code="10001", sms_ok=True))
    clock, sms = Clock(NIGHT), FakeSms()
    dispatcher = notify_db.dispatcher(clock, FakeEmail(), sms)
    run(dispatcher)
    assert sms.sent == []
    assert opt_out.sms_stop(notify_db.uow(), "+15550001000", NIGHT)
    clock.now = NIGHT + timedelta(hours=12)
    run(dispatcher)
    assert sms.sent == []
    assert notify_db.rows("SELECT status, last_error FROM deliveries") == [("skipped", "suppressed")]
    [event] = notify_db.rows("SELECT subject FROM outbox")
    assert event[0] == "notify.contact.opted_out.v1"
    # A new message for the stopped number is queued, then skipped when taken for sending.
    assert reminder(notify_db, "ny", "r1", clock.now) == 1
    run(dispatcher)
    assert sms.sent == []
    assert notify_db.rows("SELECT status, last_error FROM deliveries") == [("skipped", "suppressed")] * 2
    assert opt_out.sms_start(notify_db.uow(), "+15550001000")
    assert reminder(notify_db, "ny", "r2", clock.now) == 1
    run(dispatcher)
    assert len(sms.sent) == 1


def test_an_email_opt_out_stops_marketing_but_not_receipts(notify_db: NotifyDatabase) -> None:
    lead_received(notify_db, lead("l1", email="maya@example.org"))
    email = FakeEmail()
    dispatcher = notify_db.dispatcher(Clock(NIGHT), email)
    assert opt_out.opt_out(notify_db.uow(), "email", "maya@example.org", "one_click", NIGHT)
    assert not opt_out.opt_out(notify_db.uow(), "email", "maya@example.org", "one_click", NIGHT)  # once
    reminder(notify_db, "l1", "r1", NIGHT)
    receipt = ContributionSucceeded(
        contribution_id="c1",
        provider="stripe",
        provider_payment_id="in_1",
        donor=DonorRef(donor_id="d1", email="maya@example.org", first_name="Maya"),
        amount_cents=2500,
        currency="usd",
        recurring=True,
        paid_at=NIGHT,
    )
    notify_db.apply(lambda s, e, n: messages.donation_receipt(s, e, n, ORG), receipt, NIGHT)
    run(dispatcher)
    # The welcome was queued before the opt-out and is stopped at send time; the reminder at queue time.
    assert [m["X-Runway-Message-Type"] for m in email.sent] == ["donation_receipt"]
    assert len(notify_db.rows("SELECT 1 FROM outbox WHERE subject = 'notify.contact.opted_out.v1'")) == 1


def test_transient_failures_are_retried_with_backoff_and_sent_once(notify_db: NotifyDatabase) -> None:
    lead_received(notify_db, lead("l1", email="maya@example.org"))
    clock = Clock(NIGHT)
    email = FakeEmail(script=[TryLater("primary", "421 busy"), TryLater("primary", "connection refused")])
    dispatcher = notify_db.dispatcher(clock, email)
    run(dispatcher)
    [(status, due_at)] = notify_db.rows("SELECT status, due_at FROM deliveries")
    assert status == "queued" and email.sent == []
    for _ in range(3):
        clock.now += timedelta(seconds=30)
        run(dispatcher)
    assert len(email.sent) == 1
    attempts = notify_db.rows("SELECT outcome, detail FROM delivery_attempts ORDER BY id")
    assert [a[0] for a in attempts] == ["retry", "retry", "accepted"]
    assert notify_db.rows("SELECT status, attempts FROM deliveries") == [("sent", 3)]
    assert [r[0] for r in notify_db.rows("SELECT subject FROM outbox")] == ["notify.notification.sent.v1"]


def test_send_attempts_are_counted_by_channel_and_outcome(notify_db: NotifyDatabase) -> None:
    for name in ("ann", "bo", "cy", "di"):
        lead_received(notify_db, lead(name, email=f"{name}@example.org"))
    clock, registry = Clock(NIGHT), CollectorRegistry()
    email = FakeEmail(
        script=[
            TryLater("primary", "421 busy"),
            Accepted("primary"),
            Rejected("primary", "554 no", suppress=False),
        ]
    )
    dispatcher = notify_db.dispatcher(clock, email, registry=registry)
    assert asyncio.run(dispatcher.run_once()) == 4  # one batch; the fourth is accepted too

    def attempts(outcome: str) -> float | None:
        return registry.get_sample_value(
            "runway_notify_send_attempts_total", {"channel": "email", "outcome": outcome}
        )

    assert (attempts("try_later"), attempts("accepted"), attempts("rejected")) == (1, 2, 1)
    clock.now += timedelta(seconds=30)
    run(dispatcher)
    assert (attempts("try_later"), attempts("accepted"), attempts("rejected")) == (1, 3, 1)


def test_a_hard_bounce_suppresses_the_address_and_publishes_a_failure(notify_db: NotifyDatabase) -> None:
    lead_received(notify_db, lead("l1", email="nobody@example.org"))
    email = FakeEmail(script=[Rejected("primary", "550 5.1.1 no such user", suppress=True)])
    dispatcher = notify_db.dispatcher(Clock(NIGHT), email)
    run(dispatcher)
    assert notify_db.rows("SELECT channel, address, reason FROM suppressions") == [
        ("email", "nobody@example.org", "hard_bounce")
    ]
    [(event_type, payload)] = notify_db.rows("SELECT subject, body FROM outbox")
    assert event_type == "notify.notification.failed.v1"
    assert reminder(notify_db, "l1", "r1", NIGHT) == 1  # queued, then skipped when taken for sending
    run(dispatcher)
    assert email.sent == []
    assert notify_db.rows(
        "SELECT status, last_error FROM deliveries WHERE message_type = 'deadline_reminder'"
    ) == [("skipped", "suppressed")]


def test_new_races_on_one_day_go_out_as_one_digest_at_the_digest_hour(notify_db: NotifyDatabase) -> None:
    lead_received(notify_db, lead("l1", email="maya@example.org", zip_code="66044"))  # Chicago time
    morning = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 9:00 in Lawrence
    clock, email = Clock(morning), FakeEmail()
    dispatcher = notify_db.dispatcher(clock, email)
    run(dispatcher)  # the welcome
    for n, minutes in enumerate((0, 30, 240)):
        event = LeadRaceNearby(lead_id="l1", race=race(f"r{n}", f"Race {n}"))
        clock.now = morning + timedelta(minutes=minutes)
        notify_db.apply(lambda s, e, now: messages.race_nearby(s, e, now, ORG, 17), event, clock.now)
        run(dispatcher)
    assert len(email.sent) == 1
    clock.now = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)  # 17:00 in Lawrence
    run(dispatcher)
    [digest] = email.sent[1:]
    assert digest["Subject"] == "3 new races near you"
    text = digest.get_body(("plain",)).get_content()
    assert all(f"Race {n}" in text for n in range(3))
    late = LeadRaceNearby(lead_id="l1", race=race("r9", "Race 9"))
    notify_db.apply(lambda s, e, now: messages.race_nearby(s, e, now, ORG, 17), late, clock.now)
    run(dispatcher)
    assert len(email.sent) == 2  # after the day's digest went: tomorrow's
    clock.now += timedelta(days=1)
    run(dispatcher)
    assert email.sent[2]["Subject"] == "A new race near you: Race 9"


def test_a_merge_moves_history_and_opt_outs_to_the_survivor(notify_db: NotifyDatabase) -> None:
    lead_received(notify_db, lead("a", email="maya@example.org"))
    lead_received(notify_db, lead("b", email="maya.old@example.org"))
    opt_out.opt_out(notify_db.uow(), "email", "maya.old@example.org", "one_click", NIGHT)
    survivor = lead("a", email="maya@example.org")
    event = LeadMerged(survivor_lead_id="a", merged_lead_ids=["b"], merged_at=NIGHT, lead=survivor)
    notify_db.apply(lambda s, e, n: merge(s, e, n) or 0, event, NIGHT)
    assert {r[0] for r in notify_db.rows("SELECT DISTINCT lead_id FROM deliveries")} == {"a"}
    assert ("email", "maya@example.org", "*") in notify_db.rows(
        "SELECT channel, address, message_type FROM opt_outs"
    )
    # An event about the merged lead reaches the survivor, and a late view of it changes nothing.
    lead_received(notify_db, lead("b", email="maya.old@example.org"), NIGHT)
    assert notify_db.rows("SELECT merged_into FROM contacts WHERE lead_id = 'b'") == [("a",)]
    assert reminder(notify_db, "b", "r1", NIGHT) == 1
    email = FakeEmail()
    run(notify_db.dispatcher(Clock(NIGHT), email))
    assert [m for m in email.sent if m["X-Runway-Message-Type"] == "deadline_reminder"] == []
    assert notify_db.rows(  # the survivor opted out of marketing
        "SELECT lead_id, status, last_error FROM deliveries WHERE message_type = 'deadline_reminder'"
    ) == [("a", "skipped", "opted_out")]


def test_preferences_turn_single_message_types_off_and_on(notify_db: NotifyDatabase) -> None:
    lead_received(notify_db, lead("l1", email="maya@example.org"))
    opt_out.set_preferences(
        notify_db.uow(), "email", "maya@example.org", ["welcome", "races_near_you"], NIGHT
    )
    with notify_db.uow() as uow:
        prefs = opt_out.preferences(uow.session, "email", "maya@example.org")
    assert prefs == {
        "welcome": True,
        "races_near_you": True,
        "new_race_digest": False,
        "deadline_reminder": False,
    }
    email = FakeEmail()
    dispatcher = notify_db.dispatcher(Clock(NIGHT), email)
    assert reminder(notify_db, "l1", "r1", NIGHT) == 1
    run(dispatcher)
    opt_out.set_preferences(notify_db.uow(), "email", "maya@example.org", ["deadline_reminder"], NIGHT)
    assert reminder(notify_db, "l1", "r2", NIGHT) == 1
    run(dispatcher)
    reminders = [m["Subject"] for m in email.sent if m["X-Runway-Message-Type"] == "deadline_reminder"]
    assert len(reminders) == 1
    assert notify_db.rows(
        "SELECT notification_key, status FROM deliveries WHERE message_type = 'deadline_reminder'"
        " ORDER BY notification_key"
    ) == [("deadline_reminder:l1:r1:7", "skipped"), ("deadline_reminder:l1:r2:7", "sent")]
    announced = notify_db.rows("SELECT count(*) FROM outbox WHERE subject = 'notify.contact.opted_out.v1'")
    assert announced == [(4,)]  # digest + reminder, then welcome + races near you


def test_provider_delivery_reports_apply_once_in_any_order(notify_db: NotifyDatabase) -> None:
    lead_received(notify_db, lead("hnl", phone="+18085550100", zip_code="96813", sms_ok=True))
    sms = FakeSms()
    run(notify_db.dispatcher(Clock(datetime(2026, 11, 27, 20, 0, tzinfo=UTC)), FakeEmail(), sms))
    [(sid,)] = notify_db.rows("SELECT provider_message_id FROM deliveries WHERE channel = 'sms'")
    later = NIGHT + timedelta(hours=20)
    assert delivery_status(notify_db.uow(), sid, "delivered", None, later)
    assert delivery_status(notify_db.uow(), sid, "sent", None, later)  # late, out of order: ignored
    assert delivery_status(
        notify_db.uow(), sid, "undelivered", "30005", later
    )  # after a final state: ignored
    assert notify_db.rows("SELECT status FROM deliveries WHERE channel = 'sms'") == [("delivered",)]
    assert not delivery_status(notify_db.uow(), "SMunknown", "delivered", None, later)


def test_outcomes_the_database_could_not_take_are_recorded_when_it_returns_never_resent(
    notify_db: NotifyDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead_received(notify_db, lead("l1", email="maya@example.org"))
    email = FakeEmail()
    dispatcher = notify_db.dispatcher(Clock(NIGHT), email)
    away = OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))
    record = dispatcher_module.record

    def database_away(*args, **kwargs):  # SMTP accepted the message; then the database went away
        raise away

    monkeypatch.setattr(dispatcher_module, "record", database_away)
    with pytest.raises(OperationalError):
        asyncio.run(dispatcher.run_once())
    assert len(email.sent) == 1
    assert notify_db.rows("SELECT status FROM deliveries") == [("sending",)]
    # Another dispatcher a minute later: the message is still under the first one's lease.
    other = FakeEmail()
    assert run(notify_db.dispatcher(Clock(NIGHT + timedelta(minutes=1)), other)) == 0
    with pytest.raises(OperationalError):  # still away: tried again, and nothing new claimed
        asyncio.run(dispatcher.run_once())
    monkeypatch.setattr(dispatcher_module, "record", record)  # the database is back
    run(dispatcher)
    assert len(email.sent) == 1 and other.sent == []
    assert notify_db.rows("SELECT status, attempts FROM deliveries") == [("sent", 1)]


class SecondWaits:
    """Accepts every message; the second only once `gate` is set."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = threading.Event()

    async def send(self, message: object) -> Accepted:
        self.calls += 1
        if self.calls == 2:
            while not self.gate.is_set():
                await asyncio.sleep(0.01)
        return Accepted("primary")


def test_an_accepted_message_is_recorded_while_its_round_is_still_sending(notify_db: NotifyDatabase) -> None:
    """A crash later in the round must not send it again (decision 0005's window: one commit)."""
    for name in ("ann", "bo"):
        lead_received(notify_db, lead(name, email=f"{name}@example.org"))
    email = SecondWaits()
    dispatcher = notify_db.dispatcher(Clock(NIGHT), email)

    def statuses_become(expected: list[str]) -> bool:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if sorted(s for (s,) in notify_db.rows("SELECT status FROM deliveries")) == expected:
                return True
            time.sleep(0.02)
        return False

    dispatcher.start()
    try:
        assert statuses_become(["sending", "sent"])  # the first recorded, the second still out
        assert email.calls == 2
        email.gate.set()
        assert statuses_become(["sent", "sent"])
    finally:
        email.gate.set()
        dispatcher.stop()
    assert notify_db.rows("SELECT subject FROM outbox") == [("notify.notification.sent.v1",)] * 2


def _matched(lead_id: str, race_id: str = "r1") -> LeadMatched:
    return LeadMatched(
        lead_id=lead_id,
        postal_code="66044",
        location_resolved=True,
        location_summary="Lawrence, KS",
        total_races=1,
        races=[race(race_id)],
        matched_at=NIGHT,
    )


def test_a_batch_of_events_queues_its_messages_together_once_each(notify_db: NotifyDatabase) -> None:
    """The event writer's path: the batch's messages go into the queue in one statement at the
    end, a message queued twice in the batch is there once, a later event in the batch sees
    the contact an earlier one recorded, and an event whose lead is not known yet waits
    (handled, its inbox row kept) while the rest of the batch commits."""
    plan = {durable: p for _, durable, _, p in plans(ORG, digest_hour=9)}
    maya = lead("maya", email="maya@example.org")
    batch = [
        Received(LEAD_RECEIVED, "e1", received(maya), plan[LEAD_RECEIVED], {}),
        Received(LEAD_RECEIVED, "e1", received(maya), plan[LEAD_RECEIVED], {}),  # redelivered
        Received(LEAD_RECEIVED, "e2", received(maya), plan[LEAD_RECEIVED], {}),  # same welcome
        Received(LEAD_MATCHED, "e3", _matched("maya"), plan[LEAD_MATCHED], {}),
        Received(LEAD_MATCHED, "e4", _matched("nobody-yet"), plan[LEAD_MATCHED], {}),
    ]
    with notify_db.uow() as uow:
        answers = write_events(uow, batch, plan)
        uow.commit()
    assert answers == [1, 0, 1, 1, 0]  # 1: may be sent (the queue keeps one of each message)
    queued = notify_db.rows("SELECT message_type, recipient FROM deliveries ORDER BY message_type")
    assert [tuple(r) for r in queued] == [
        ("races_near_you", "maya@example.org"),
        ("welcome", "maya@example.org"),
    ]
    handled = notify_db.rows("SELECT event_id FROM inbox ORDER BY event_id")
    assert [r[0] for r in handled] == ["e1", "e2", "e3", "e4"]
    waiting = notify_db.rows("SELECT consumer, event_id, lead_id FROM awaiting_contact")
    assert [tuple(r) for r in waiting] == [(LEAD_MATCHED, "e4", "nobody-yet")]


def test_events_that_arrive_before_their_lead_wait_for_it_and_are_handled_once_with_it(
    notify_db: NotifyDatabase,
) -> None:
    """A match, a reminder and a new race for a lead notify has not heard of wait in the
    database instead of being retried (they would run out of deliveries behind a backlog):
    the batch that brings the lead handles them too, and counts them in its answer so the
    dispatcher is woken; a redelivery of a waiting event changes nothing."""
    plan = {durable: p for _, durable, _, p in plans(ORG, digest_hour=9)}
    early = [
        Received(
            LEAD_MATCHED,
            "m1",
            _matched("late"),
            plan[LEAD_MATCHED],
            {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
        ),
        Received(
            DEADLINE_APPROACHING,
            "d1",
            DeadlineApproaching(lead_id="late", race=race("r1"), days_left=7),
            plan[DEADLINE_APPROACHING],
            {},
        ),
        Received(RACE_NEARBY, "n1", LeadRaceNearby(lead_id="late", race=race("r2")), plan[RACE_NEARBY], {}),
    ]
    for events in (early, early[:1]):  # the second: a redelivery
        with notify_db.uow() as uow:
            assert write_events(uow, events, plan) == [0] * len(events)
            uow.commit()
    assert notify_db.rows("SELECT count(*) FROM awaiting_contact")[0][0] == 3
    assert notify_db.rows("SELECT count(*) FROM deliveries")[0][0] == 0

    arrival = [
        Received(
            LEAD_RECEIVED, "r-other", received(lead("other", email="o@example.org")), plan[LEAD_RECEIVED], {}
        ),
        Received(
            LEAD_RECEIVED, "r-late", received(lead("late", email="late@example.org")), plan[LEAD_RECEIVED], {}
        ),
    ]
    with notify_db.uow() as uow:
        answers = write_events(uow, arrival, plan)
        uow.commit()
    assert answers == [1, 1 + 3]  # its welcome, and the three that waited for it
    queued = notify_db.rows(
        "SELECT message_type, lead_id FROM deliveries WHERE lead_id = 'late' ORDER BY message_type"
    )
    assert [tuple(r) for r in queued] == [
        ("deadline_reminder", "late"),
        ("new_race_digest", "late"),
        ("races_near_you", "late"),
        ("welcome", "late"),
    ]
    assert notify_db.rows("SELECT count(*) FROM awaiting_contact")[0][0] == 0
    with notify_db.uow() as uow:  # redelivered after all that: already handled
        assert write_events(uow, early, plan) == [0, 0, 0]
        uow.commit()
    assert notify_db.rows("SELECT count(*) FROM deliveries WHERE lead_id = 'late'")[0][0] == 4


def test_a_merge_brings_the_contact_of_events_waiting_for_the_absorbed_lead(
    notify_db: NotifyDatabase,
) -> None:
    plan = {durable: p for _, durable, _, p in plans(ORG, digest_hour=9)}
    with notify_db.uow() as uow:
        write_events(uow, [Received(LEAD_MATCHED, "m-b", _matched("b"), plan[LEAD_MATCHED], {})], plan)
        uow.commit()
    merged = LeadMerged(
        survivor_lead_id="a", merged_lead_ids=["b"], merged_at=NIGHT, lead=lead("a", email="a@example.org")
    )
    with notify_db.uow() as uow:
        assert write_events(uow, [Received(LEAD_MERGED, "merge", merged, plan[LEAD_MERGED], {})], plan) == [1]
        uow.commit()
    queued = notify_db.rows("SELECT message_type, lead_id, recipient FROM deliveries")
    assert [tuple(r) for r in queued] == [("races_near_you", "a", "a@example.org")]


def test_the_sweep_handles_events_whose_contact_another_process_wrote(notify_db: NotifyDatabase) -> None:
    """Two processes at the same moment: one stores the match as waiting (no contact yet),
    the other writes the contact and finds nothing waiting. The sweep handles it."""
    plan = {durable: p for _, durable, _, p in plans(ORG, digest_hour=9)}
    with notify_db.uow() as uow:
        write_events(uow, [Received(LEAD_MATCHED, "m-x", _matched("x"), plan[LEAD_MATCHED], {})], plan)
        uow.commit()
    lead_received(notify_db, lead("x", email="x@example.org"))  # the other process: not through the writer
    registry = CollectorRegistry()
    sweep = WaitingSweep(
        notify_db.uow,
        lambda uow, waiting: sum(resume(uow.session, waiting, plan, NIGHT).values()),
        seconds=60,
        on_queued=lambda: None,
        registry=registry,
    )
    assert registry.get_sample_value("runway_notify_awaiting_contact") == 0
    assert sweep.sweep(NIGHT) == 1
    assert registry.get_sample_value("runway_notify_awaiting_contact") == 0
    assert [
        tuple(r) for r in notify_db.rows("SELECT message_type FROM deliveries ORDER BY message_type")
    ] == [
        ("races_near_you",),
        ("welcome",),
    ]
    with notify_db.uow() as uow:  # one still waiting: counted, with its age
        write_events(uow, [Received(LEAD_MATCHED, "m-y", _matched("y"), plan[LEAD_MATCHED], {})], plan)
        uow.commit()
    assert sweep.sweep(datetime.now(UTC) + timedelta(minutes=5)) == 0
    assert registry.get_sample_value("runway_notify_awaiting_contact") == 1
    assert registry.get_sample_value("runway_notify_awaiting_contact_oldest_seconds") >= 300


def test_messages_queued_together_wait_for_the_end_of_the_batch(notify_db: NotifyDatabase) -> None:
    with notify_db.uow() as uow:
        with deliveries_together(uow.session):
            messages.lead_received(uow.session, received(lead("a", email="a@example.org")), NIGHT, ORG)
            inside = uow.session.execute(sa.text("SELECT count(*) FROM deliveries")).scalar()
        after = uow.session.execute(sa.text("SELECT count(*) FROM deliveries")).scalar()
        uow.commit()
    assert (inside, after) == (0, 1)


def test_a_batch_reads_its_contacts_in_one_query_and_a_merge_in_it_is_followed(
    notify_db: NotifyDatabase,
) -> None:
    for name in ("a", "b", "c"):
        lead_received(notify_db, lead(name, email=f"{name}@example.org"))
    plan = {durable: p for _, durable, _, p in plans(ORG, digest_hour=9)}
    contact_reads: list[str] = []

    def note(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if "FROM contacts" in statement:
            contact_reads.append(statement)

    sa.event.listen(notify_db.engine, "before_cursor_execute", note)
    try:
        with notify_db.uow() as uow:
            answers = write_events(
                uow,
                [Received(LEAD_MATCHED, f"m-{n}", _matched(n), plan[LEAD_MATCHED], {}) for n in "abc"],
                plan,
            )
            uow.commit()
    finally:
        sa.event.remove(notify_db.engine, "before_cursor_execute", note)
    assert answers == [1, 1, 1]
    assert len(contact_reads) == 1  # one read ahead for the batch, not one per event

    # A merge inside a batch: the absorbed lead's later event reaches the survivor.
    merged = LeadMerged(
        survivor_lead_id="a", merged_lead_ids=["b"], merged_at=NIGHT, lead=lead("a", email="a@example.org")
    )
    with notify_db.uow() as uow:
        answers = write_events(
            uow,
            [
                Received(LEAD_MATCHED, "m-b2", _matched("b", "r2"), plan[LEAD_MATCHED], {}),
                Received(LEAD_MERGED, "merge", merged, plan[LEAD_MERGED], {}),
                Received(LEAD_MATCHED, "m-b3", _matched("b", "r3"), plan[LEAD_MATCHED], {}),
            ],
            plan,
        )
        uow.commit()
    assert answers == [1, 0, 1]
    recipients = notify_db.rows(
        "SELECT lead_id, recipient FROM deliveries WHERE CAST(context AS TEXT) LIKE '%r3%' AND message_type = 'races_near_you'"
    )
    assert [tuple(r) for r in recipients] == [("a", "a@example.org")]


def test_a_batch_writes_its_lead_events_contacts_together_and_answers_as_one_by_one(
    notify_db: NotifyDatabase,
) -> None:
    """The contacts of a batch's `lead.received` events go in a few statements, and the batch
    queues, answers and stores what handling its events one at a time does: a lead merged
    away gets no welcome, a later view of a lead wins, an event after a contact's write (in
    the same batch) sees it, and a merge in the batch orders the writes around it."""
    plan = {durable: p for _, durable, _, p in plans(ORG, digest_hour=9)}

    def merged(survivor: str, absorbed: str) -> LeadMerged:
        return LeadMerged(
            survivor_lead_id=survivor,
            merged_lead_ids=[absorbed],
            merged_at=NIGHT,
            lead=lead(survivor, email=f"{survivor}@example.org"),
        )

    def new(name: str, **kwargs: object) -> Received:
        view = lead(name, email=f"{name}@example.org", **kwargs)  # type: ignore[arg-type]
        return Received(LEAD_RECEIVED, f"r-{name}-{kwargs}", received(view), plan[LEAD_RECEIVED], {})

    before = Received(LEAD_MERGED, "m-old", merged("a", "gone"), plan[LEAD_MERGED], {})
    batch = [
        new("a"),
        new("gone"),  # merged into a before this batch: no welcome, its row stays merged
        new("b", phone="+17855550100", sms_ok=True),
        new("b", phone="+17855550199", sms_ok=True),  # the later view of b wins
        Received(LEAD_MATCHED, "x-b", _matched("b"), plan[LEAD_MATCHED], {}),  # sees b's contact
        new("c"),
        Received(LEAD_MERGED, "m-c", merged("a", "c"), plan[LEAD_MERGED], {}),
        new("c"),  # c is merged away by now
        new("d"),
    ]

    def outcome(batches: list[list[Received]]) -> tuple[list[object], list[tuple[object, ...]], ...]:
        notify_db.clear()
        with notify_db.uow() as uow:
            write_events(uow, [before], plan)
            uow.commit()
        answers: list[object] = []
        for events in batches:
            with notify_db.uow() as uow:
                answers += write_events(uow, events, plan)
                uow.commit()
        return (
            answers,
            [
                tuple(r)
                for r in notify_db.rows(
                    "SELECT lead_id, email, phone, sms_consent, merged_into FROM contacts ORDER BY lead_id"
                )
            ],
            [
                tuple(r)
                for r in notify_db.rows(
                    "SELECT message_type, channel, lead_id, recipient, status FROM deliveries"
                    " ORDER BY message_type, channel, lead_id"
                )
            ],
        )

    contact_writes: list[str] = []

    def note(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO contacts") and "merged_into IS NULL" in statement:
            contact_writes.append(statement)  # the lead views recorded, not the merges' writes

    one_by_one = outcome([[event] for event in batch])
    sa.event.listen(notify_db.engine, "before_cursor_execute", note)
    try:
        together = outcome([batch])
    finally:
        sa.event.remove(notify_db.engine, "before_cursor_execute", note)
    assert together[0] == one_by_one[0] == [1, 0, 2, 2, 1, 1, 0, 0, 1]
    assert together[1:] == one_by_one[1:]
    # Seven lead views in four statements: before the match that reads b (a, gone and b, then
    # b's later view in a statement of its own), before the merge (c), at the end (c, d).
    assert len(contact_writes) == 4
