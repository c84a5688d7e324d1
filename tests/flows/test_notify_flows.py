"""Notify with real processes: an SMTP outage, unsubscribe links, SMS STOP and START."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import httpx
import nats
import pytest
import sqlalchemy as sa

from runway_contracts import CloudEvent
from runway_contracts.matching import DeadlineApproaching, RaceSummary
from runway_devstack.testing import Stack, wait_for

pytestmark = pytest.mark.integration

# ZIP codes in US zones (with Guam and Puerto Rico) whose sending windows, 8am–9pm, cover
# every hour of the UTC day but one: about 10:45–12:00 UTC (with the margin below) it is
# before 8am in Puerto Rico and past 8:45pm in Guam, and no text may go anywhere in the US.
ZIPS_BY_ZONE = {
    "America/Puerto_Rico": "00901",
    "America/New_York": "10001",
    "America/Los_Angeles": "90012",
    "Pacific/Honolulu": "96813",
    "Pacific/Guam": "96910",
}


def zip_in_sending_window() -> str | None:
    """A ZIP where texts may go now, with a quarter of an hour to spare; None if there is none."""
    now = datetime.now(UTC)
    for zone, zip_code in ZIPS_BY_ZONE.items():
        local = now.astimezone(ZoneInfo(zone))
        if (8, 0) <= (local.hour, local.minute) < (20, 45):
            return zip_code
    return None


def signup(stack: Stack, email: str, **extra: object) -> str:
    payload = {
        "first_name": "Maya",
        "email": email,
        "zip": "66044",
        "consent": {"email": True, "wording": "Email me about running for office."},
        **extra,
    }
    response = httpx.post(f"{stack.url('intake')}/v1/signups", json=payload, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["lead_id"]


def mail(stack: Stack, message_type: str) -> Counter[str]:
    return Counter(str(m["To"]) for m in stack.mail.messages() if m["X-Runway-Message-Type"] == message_type)


def remind(stack: Stack, lead_id: str, race_id: str) -> None:
    """Plays matching: a filing deadline is 7 days away for this lead."""
    race = RaceSummary(
        race_id=race_id,
        office_name="Lawrence City Council",
        level="city",
        division_id="ocd-division/country:us/state:ks/place:lawrence",
        division_name="Lawrence, KS",
        election_date=date(2027, 11, 2),
        filing_deadline=datetime(2027, 6, 1, 17, tzinfo=UTC),
        reason="You live in Lawrence, KS.",
    )
    event = DeadlineApproaching(lead_id=lead_id, race=race, days_left=7)
    envelope = CloudEvent(
        id=str(uuid.uuid4()),
        source="/runway/matching",
        type=event.TYPE,
        subject=lead_id,
        time=datetime.now(UTC),
        data=event.model_dump(mode="json"),
    )

    async def publish() -> None:
        nc = await nats.connect(stack.nats.url)
        await nc.jetstream().publish(
            event.TYPE, envelope.model_dump_json().encode(), headers={"Nats-Msg-Id": envelope.id}
        )
        await nc.close()

    asyncio.run(publish())


def test_smtp_down_for_30_seconds_while_signups_flow_loses_nothing_and_sends_nothing_twice(
    stack_factory, db_backend: str
) -> None:
    stack = stack_factory(db_backend)
    stack.mail.stop()
    addresses = []
    outage_started = time.monotonic()
    while time.monotonic() - outage_started < 30:  # sign-ups keep coming while mail is down
        for _ in range(4):
            address = f"outage-{uuid.uuid4().hex[:8]}@example.org"
            signup(stack, address)
            addresses.append(address)
        time.sleep(1)
    engine = stack.databases.engine("notify")
    with engine.connect() as connection:
        retried = connection.scalar(sa.text("SELECT count(*) FROM delivery_attempts WHERE outcome = 'retry'"))
    assert retried > 0, "the outage was not noticed"
    stack.mail.start()
    wait_for(
        lambda: all(mail(stack, "races_near_you")[a] and mail(stack, "welcome")[a] for a in addresses),
        timeout=150,
        message=f"both emails for all {len(addresses)} sign-ups",
    )
    time.sleep(3)  # anything sent twice would have arrived by now
    races, welcomes = mail(stack, "races_near_you"), mail(stack, "welcome")
    assert [a for a in addresses if races[a] != 1 or welcomes[a] != 1] == []
    assert len(stack.mail.messages()) == 2 * len(addresses)


def test_unsubscribe_links_and_sms_keywords_stop_what_they_should_at_once(stack_factory) -> None:
    stack = stack_factory("sqlite", services=("intake", "matching", "notify"))
    one_click, confirm, control = (
        f"{name}-{uuid.uuid4().hex[:6]}@example.org" for name in ("oc", "gc", "ctl")
    )
    leads = {address: signup(stack, address) for address in (one_click, confirm, control)}
    races = wait_for(
        lambda: (
            (m := {a: x for x in stack.mail.messages() if (a := str(x["To"])) in leads}) and len(m) == 3 and m
        ),
        timeout=30,
        message="a first email for each",
    )

    # One-click (RFC 8058): a POST with List-Unsubscribe=One-Click, answered 200, effective at once.
    url = races[one_click]["List-Unsubscribe"].strip("<>")
    response = httpx.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert response.status_code == 200
    # The GET shows a page with one button and changes nothing (mail scanners follow links).
    url = races[confirm]["List-Unsubscribe"].strip("<>")
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200 and '<form method="post"' in page.text and "<button" in page.text
    remind(stack, leads[confirm], "before-confirm")
    wait_for(
        lambda: mail(stack, "deadline_reminder")[confirm] == 1, timeout=20, message="reminder before confirm"
    )
    assert httpx.post(url, timeout=10).status_code == 200  # the page's button

    for lead_id in leads.values():
        remind(stack, lead_id, "after")
    wait_for(
        lambda: mail(stack, "deadline_reminder")[control] == 1, timeout=20, message="the control's reminder"
    )
    time.sleep(2)
    reminders = mail(stack, "deadline_reminder")
    assert reminders[one_click] == 0 and reminders[confirm] == 1  # only the one from before the click

    # The preference page (linked from every marketing email): one message type off.
    text = races[control].get_body(("plain",)).get_content()
    preferences_url = next(w for w in text.split() if "/v1/preferences/" in w)
    page = httpx.get(preferences_url, timeout=10)
    assert page.status_code == 200 and 'value="deadline_reminder" checked' in page.text
    kept = {"types": ["welcome", "races_near_you", "new_race_digest"]}
    saved = httpx.post(preferences_url, data=kept, timeout=10)
    assert saved.status_code == 200 and "Saved" in saved.text
    assert 'value="deadline_reminder" checked' not in saved.text
    remind(stack, leads[control], "after-preferences")

    zip_code = zip_in_sending_window()
    if zip_code is None:
        text_waits_for_the_morning(stack)
    else:
        stop_and_start_texts(stack, zip_code)

    admin = {"Authorization": "Bearer dev-admin-token"}
    assert mail(stack, "deadline_reminder")[control] == 1  # the reminder turned off on the preference page
    preview = httpx.get(
        f"{stack.url('notify')}/v1/templates/deadline_reminder/preview", headers=admin, timeout=10
    )
    assert preview.status_code == 200
    assert "Filing closes" in preview.json()["text"] and "STOP" in preview.json()["sms"]
    assert httpx.get(f"{stack.url('notify')}/v1/templates/welcome/preview", timeout=10).status_code == 401


def stop_and_start_texts(stack: Stack, zip_code: str) -> None:
    """STOP in any case stops every text at once; START brings them back."""
    phone = "+16465550123"
    texter = f"sms-{uuid.uuid4().hex[:6]}@example.org"
    lead_id = signup(
        stack,
        texter,
        phone=phone,
        zip=zip_code,
        consent={"email": True, "sms": True, "wording": "Email and text me about running for office."},
    )
    [welcome] = wait_for(
        lambda: [m for m in stack.sms.messages() if m["to"] == phone], timeout=20, message="welcome SMS"
    )
    assert "STOP" in welcome["body"]
    answer = stack.sms.text_in(phone, "  stop ")
    assert answer["status"] == 200 and "unsubscribed" in answer["reply"]
    remind(stack, lead_id, "while-stopped")
    wait_for(
        lambda: mail(stack, "deadline_reminder")[texter] == 1, timeout=20, message="the email still goes"
    )
    time.sleep(2)
    assert len([m for m in stack.sms.messages() if m["to"] == phone]) == 1
    answer = stack.sms.text_in(phone, "START")
    assert "resubscribed" in answer["reply"]
    remind(stack, lead_id, "after-start")
    wait_for(
        lambda: len([m for m in stack.sms.messages() if m["to"] == phone]) == 2,
        timeout=20,
        message="texts again",
    )
    forged = httpx.post(
        f"{stack.url('notify')}/v1/sms/inbound",
        data={"From": phone, "Body": "STOP"},
        headers={"X-Twilio-Signature": "forged"},
        timeout=10,
    )
    assert forged.status_code == 403

    admin = {"Authorization": "Bearer dev-admin-token"}
    log = httpx.get(
        f"{stack.url('notify')}/v1/notifications",
        params={"contact": phone},
        headers=admin,
        timeout=10,
    )
    assert log.status_code == 200, log.text
    sms_log = [n for n in log.json()["notifications"] if n["channel"] == "sms"]
    statuses = sorted((n["message_type"], n["status"]) for n in sms_log)
    assert ("deadline_reminder", "skipped") in statuses and ("welcome", "delivered") in statuses


def text_waits_for_the_morning(stack: Stack) -> None:
    """Outside every US sending window: the welcome text is deferred, not sent, not dropped."""
    phone = "+16465550123"
    signup(
        stack,
        f"sms-{uuid.uuid4().hex[:6]}@example.org",
        phone=phone,
        zip="00901",  # Puerto Rico, the first US zone to open in this hour
        consent={"email": True, "sms": True, "wording": "Email and text me about running for office."},
    )
    admin = {"Authorization": "Bearer dev-admin-token"}

    def deferred_text() -> list[dict[str, object]]:
        log = httpx.get(
            f"{stack.url('notify')}/v1/notifications", params={"contact": phone}, headers=admin, timeout=10
        )
        assert log.status_code == 200, log.text
        return [n for n in log.json()["notifications"] if n["channel"] == "sms" and n["status"] == "queued"]

    [welcome] = wait_for(deferred_text, timeout=20, message="the welcome text, deferred")
    assert welcome["message_type"] == "welcome"
    opens = datetime.fromisoformat(str(welcome["due_at"])).astimezone(ZoneInfo("America/Puerto_Rico"))
    assert (opens.hour, opens.minute) == (8, 0) and opens > datetime.now(UTC)
    time.sleep(2)
    assert [m for m in stack.sms.messages() if m["to"] == phone] == []
