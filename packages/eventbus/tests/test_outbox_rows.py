"""Fan-out rows built without a model per event carry the same envelope as `Outbox.row`."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa

from runway_contracts import CloudEvent
from runway_contracts.matching import LeadRaceNearby, RaceSummary
from runway_eventbus.outbox import Outbox
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


def test_rows_of_one_type_match_the_envelope_row_writes() -> None:
    outbox = Outbox(outbox_table(sa.MetaData()), source="/runway/matching")
    one = outbox.row(LeadRaceNearby(lead_id="lead-1", race=RACE), subject_id="lead-1")
    many = outbox.rows_of_one_type(
        LeadRaceNearby.TYPE,
        [("lead-1", json.dumps({"lead_id": "lead-1", "race": RACE.model_dump(mode="json")}))],
    )
    assert len(many) == 1 and many[0]["subject"] == one["subject"] == LeadRaceNearby.TYPE

    def comparable(row: dict[str, object]) -> dict[str, object]:
        envelope = json.loads(row["body"])  # type: ignore[arg-type]
        return {k: v for k, v in envelope.items() if k not in {"id", "time"}}

    assert comparable(many[0]) == comparable(one)
    parsed = CloudEvent.model_validate_json(many[0]["body"])  # type: ignore[arg-type]
    assert parsed.id == many[0]["event_id"] and parsed.time.tzinfo is not None
    assert parsed.payload() == LeadRaceNearby(lead_id="lead-1", race=RACE)
