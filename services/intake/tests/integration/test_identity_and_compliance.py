"""One lead per person, merges, and the compliance view."""

from __future__ import annotations

import csv
import io
import json

from intake_harness import ADMIN, Intake


def post(intake: Intake, **body: object) -> dict:  # type: ignore[type-arg]
    response = intake.http.post("/v1/signups", json=body)
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def test_email_of_one_lead_and_phone_of_another_merge_into_one_person(intake: Intake) -> None:
    a = post(intake, email="maya@example.org", first_name="Maya")
    b = post(intake, phone="785-555-0142", last_name="Ortiz", interests=["housing"])
    assert a["lead_id"] != b["lead_id"]
    both = post(intake, email="maya@example.org", phone="785-555-0142")
    assert both["lead_id"] == a["lead_id"]  # the older lead survives
    assert intake.count("SELECT count(*) FROM leads") == 1
    with intake.engine.connect() as c:
        first, last, phone = c.exec_driver_sql("SELECT first_name, last_name, phone FROM leads").one()
        submissions_of_survivor = c.exec_driver_sql(
            f"SELECT count(*) FROM submissions WHERE lead_id = '{a['lead_id']}'"
        ).scalar()
        merged_events = c.exec_driver_sql(
            "SELECT count(*) FROM outbox WHERE subject = 'intake.lead.merged.v1'"
        ).scalar()
    assert (first, last, phone) == ("Maya", "Ortiz", "+17855550142")
    assert submissions_of_survivor == 3 and merged_events == 1
    assert intake.http.get("/v1/compliance/unique-leads", headers=ADMIN).json()["unique_leads"] == 1


def test_an_identifier_a_merged_lead_brought_along_still_finds_the_survivor(intake: Intake) -> None:
    a = post(intake, email="maya@example.org", phone="785-555-0100")
    post(intake, phone="785-555-0142", email="m.ortiz@example.org")
    post(intake, email="maya@example.org", phone="785-555-0142")  # merge
    again = post(intake, email="m.ortiz@example.org")  # the absorbed lead's email
    assert again["lead_id"] == a["lead_id"] and again["is_new_lead"] is False
    assert intake.count("SELECT count(*) FROM leads") == 1


def test_a_submission_never_overwrites_another_persons_details(intake: Intake) -> None:
    post(intake, email="maya@example.org", first_name="Maya", zip="66044")
    post(intake, email="maya@example.org", first_name="", zip="66046")
    with intake.engine.connect() as c:
        assert c.exec_driver_sql("SELECT first_name, postal_code FROM leads").one() == ("Maya", "66046")


def test_the_compliance_list_filters_pages_and_exports_without_duplicates(intake: Intake) -> None:
    intake.register(key="fair", mapping={"email": "email", "tags": "tags"}, default_tags=["county-fair"])
    for i in range(5):
        post(intake, email=f"s{i}@example.org", tags=["newsletter"])
    for i in range(3):
        assert (
            intake.http.post("/v1/forms/fair/submissions", json={"email": f"f{i}@example.org"}).status_code
            == 202
        )
    post(intake, email="s0@example.org")  # a repeat is not a new lead
    page = intake.http.get("/v1/compliance/leads", params={"limit": 3}, headers=ADMIN).json()
    assert len(page["leads"]) == 3 and page["next_cursor"]
    rest = intake.http.get(
        "/v1/compliance/leads", params={"limit": 100, "cursor": page["next_cursor"]}, headers=ADMIN
    ).json()
    assert len(page["leads"]) + len(rest["leads"]) == 8 and rest["next_cursor"] is None
    by_form = intake.http.get("/v1/compliance/leads", params={"form": "fair"}, headers=ADMIN).json()["leads"]
    by_tag = intake.http.get("/v1/compliance/leads", params={"tag": "county-fair"}, headers=ADMIN).json()[
        "leads"
    ]
    assert len(by_form) == 3 and {lead["lead_id"] for lead in by_tag} == {lead["lead_id"] for lead in by_form}
    exported = list(
        csv.DictReader(io.StringIO(intake.http.get("/v1/compliance/leads.csv", headers=ADMIN).text))
    )
    assert len(exported) == 8 == len({row["email"] for row in exported})
    assert intake.http.get("/v1/compliance/unique-leads", headers=ADMIN).json()["unique_leads"] == 8
    assert (
        intake.http.get("/v1/compliance/leads", params={"cursor": "garbage"}, headers=ADMIN).status_code
        == 422
    )


def test_the_received_event_says_whether_the_lead_is_new_and_carries_the_merged_view(intake: Intake) -> None:
    post(intake, email="maya@example.org", first_name="Maya")
    post(intake, email="maya@example.org", last_name="Ortiz")
    with intake.engine.connect() as c:
        bodies = [
            json.loads(b)
            for (b,) in c.exec_driver_sql(
                "SELECT body FROM outbox WHERE subject = 'intake.lead.received.v1' ORDER BY seq"
            )
        ]
    assert [b["data"]["is_new_lead"] for b in bodies] == [True, False]
    assert (
        bodies[1]["data"]["lead"]["first_name"] == "Maya"
        and bodies[1]["data"]["lead"]["last_name"] == "Ortiz"
    )
