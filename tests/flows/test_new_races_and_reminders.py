"""A race added through the admin API reaches the people near it; a filing-deadline reminder
survives matching being killed, and goes out once."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import icalendar
import pytest

from runway_devstack.testing import Stack, wait_for

pytestmark = pytest.mark.integration

ADMIN = {"Authorization": "Bearer dev-admin-token"}
DOUGLAS = "ocd-division/country:us/state:ks/county:douglas"


def events(stack: Stack, subject: str) -> list[dict]:
    return [json.loads(m.data)["data"] for m in stack.stream_messages("MATCHING") if m.subject == subject]


def check_public_api(stack: Stack, race_id: str) -> None:
    """Filters, one race, the calendar feed, points, and a catalog import, over HTTP."""
    base = stack.url("matching")
    near = httpx.get(
        f"{base}/v1/races", params={"zip": "66044", "office_type": "county_commission"}, timeout=10
    )
    assert near.status_code == 200, near.text
    found = near.json()["races"]
    assert race_id in {r["race_id"] for r in found}
    assert {r["office_type"] for r in found} == {"county_commission"}

    one = httpx.get(f"{base}/v1/races/{race_id}", timeout=10)
    assert one.status_code == 200 and one.json()["filing_time_zone"] == "America/Chicago"
    assert httpx.get(f"{base}/v1/races/no-such-race", timeout=10).status_code == 404

    feed = httpx.get(f"{base}/v1/races.ics", params={"zip": "66044"}, timeout=10)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(feed.content).walk("VEVENT")}
    assert f"{race_id}-filing-closes@runway" in uids and f"{race_id}-election@runway" in uids

    by_point = httpx.get(f"{base}/v1/races", params={"lat": 38.9717, "lon": -95.2353}, timeout=10)
    assert by_point.status_code == 200 and by_point.json()["location"] == "Douglas County, KS"
    both = httpx.get(f"{base}/v1/races", params={"zip": "66044", "lat": 38.9, "lon": -95.2}, timeout=10)
    assert both.status_code == 422 and "zip" in both.text

    header = "source_id,office_name,office_type,level,division_id,election_name,election_date,filing_closes\n"
    good = f"wakarusa-1,Wakarusa Township Board,city_council,township,{DOUGLAS},KS general,2027-11-02,2027-06-01\n"
    bad = f"wakarusa-2,Late Board,city_council,township,{DOUGLAS},KS general,2027-11-02,2027-12-01\n"
    url = f"{base}/v1/imports?format=csv&source=ks-test"
    refused = httpx.post(url, content=header + good + bad, headers=ADMIN, timeout=30)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"row": 2, "field": "filing_closes", "message": "the filing deadline is after the election"}
    ]
    applied = httpx.post(url, content=header + good, headers=ADMIN, timeout=30)
    assert applied.status_code == 200 and applied.json()["created"] == 1, applied.text


def test_a_new_race_reaches_people_near_it_and_its_reminder_survives_a_crash(
    stack_factory, db_backend: str
) -> None:
    stack = stack_factory(db_backend, services=())
    stack.extra_env["matching"] = {
        "RUNWAY_MATCHING_REMINDER_DAYS": "[1]",
        "RUNWAY_MATCHING_REMINDER_POLL_SECONDS": "0.5",
    }
    for service in ("intake", "matching", "notify"):
        stack.start_service(service)
    address = f"near-{uuid.uuid4().hex[:6]}@example.org"
    response = httpx.post(
        f"{stack.url('intake')}/v1/signups",
        json={
            "first_name": "Maya",
            "email": address,
            "zip": "66044",
            "consent": {"email": True, "wording": "Email me about running for office."},
        },
        timeout=10,
    )
    assert response.status_code == 202
    lead_id = response.json()["lead_id"]
    wait_for(lambda: events(stack, "matching.lead.matched.v1"), timeout=20, message="the lead matched")

    # The filing deadline is one day and 12 seconds away: the 1-day reminder is due in 12 s.
    closes = datetime.now(UTC) + timedelta(days=1, seconds=12)
    race = {
        "source": "ks-sos",
        "source_id": f"douglas-{uuid.uuid4().hex[:6]}",
        "office_name": "Douglas County Commission, District 4",
        "office_type": "county_commission",
        "level": "county",
        "division_id": DOUGLAS,
        "seats": 1,
        "partisan": True,
        "election_name": "Kansas general election",
        "election_date": (closes + timedelta(days=60)).date().isoformat(),
        "filing_closes": closes.isoformat(),
    }
    url = f"{stack.url('matching')}/v1/races"
    assert httpx.post(url, json=race, timeout=10).status_code == 401
    bad = httpx.post(
        url,
        json=race | {"division_id": "ocd-division/country:us/state:ks/county:nowhere"},
        headers=ADMIN,
        timeout=10,
    )
    assert bad.status_code == 422 and "division_id" in bad.text
    late = httpx.post(
        url,
        json=race
        | {
            "election_date": closes.date().isoformat(),
            "filing_closes": (closes + timedelta(days=2)).isoformat(),
        },
        headers=ADMIN,
        timeout=10,
    )
    assert late.status_code == 422 and "after the election" in late.text
    created = httpx.post(url, json=race, headers=ADMIN, timeout=10)
    assert created.status_code == 201, created.text
    race_id = created.json()["race_id"]
    assert httpx.post(url, json=race, headers=ADMIN, timeout=10).status_code == 200  # again: an update

    nearby = wait_for(
        lambda: [e for e in events(stack, "matching.lead.race_nearby.v1") if e["race"]["race_id"] == race_id],
        timeout=20,
        message="race_nearby for the new race",
    )
    assert [e["lead_id"] for e in nearby] == [lead_id]
    digest = (
        f"SELECT count(*) FROM deliveries WHERE message_type = 'new_race_digest' AND lead_id = '{lead_id}'"
    )
    wait_for(lambda: stack.count("notify", digest) == 1, timeout=20, message="notify queued the day's digest")

    check_public_api(stack, race_id)

    # Matching dies before the reminder is due and comes back after: the schedule is in its database.
    stack.processes["matching"].kill()
    time.sleep(max((closes - timedelta(days=1) - datetime.now(UTC)).total_seconds(), 0) + 2)
    stack.start_service("matching")
    reminders = wait_for(
        lambda: [
            e for e in events(stack, "matching.deadline.approaching.v1") if e["race"]["race_id"] == race_id
        ],
        timeout=20,
        message="the reminder after the restart",
    )
    emails = wait_for(
        lambda: [
            m
            for m in stack.mail.messages()
            if m["To"] == address and m["X-Runway-Message-Type"] == "deadline_reminder"
        ],
        timeout=20,
        message="the reminder email",
    )
    time.sleep(3)  # a second reminder would have gone by now
    assert len(reminders) == 1 and reminders[0]["lead_id"] == lead_id and reminders[0]["days_left"] == 1
    assert (
        len(
            [
                m
                for m in stack.mail.messages()
                if m["To"] == address and m["X-Runway-Message-Type"] == "deadline_reminder"
            ]
        )
        == len(emails)
        == 1
    )
    assert "Filing closes tomorrow" in emails[0]["Subject"]
