from datetime import UTC, datetime

from runway_contracts import CloudEvent
from runway_contracts.intake import LeadReceived, LeadView


def test_envelope_payload_parses_into_the_registered_contract() -> None:
    event = LeadReceived(
        submission_id="s1",
        form_key="signup",
        is_new_lead=True,
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        lead=LeadView(lead_id="l1", email="a@example.org"),
    )
    envelope = CloudEvent(
        id="e1",
        source="/runway/intake",
        type=event.TYPE,
        subject="l1",
        time=datetime(2026, 1, 1, tzinfo=UTC),
        data=event.model_dump(mode="json"),
    )
    parsed = CloudEvent.model_validate_json(envelope.model_dump_json()).payload()
    assert parsed == event


def test_unknown_fields_from_a_newer_producer_are_ignored() -> None:
    data = {
        "submission_id": "s1",
        "form_key": "signup",
        "is_new_lead": False,
        "received_at": "2026-01-01T00:00:00Z",
        "lead": {"lead_id": "l1", "future_field": 1},
        "another_future_field": "x",
    }
    assert LeadReceived.model_validate(data).lead.lead_id == "l1"
