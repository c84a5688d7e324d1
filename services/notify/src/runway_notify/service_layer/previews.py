"""Sample contexts for previewing each template without a real person behind it."""

from __future__ import annotations

from typing import Any

RACE = {
    "race_id": "sample-race",
    "office_name": "Lawrence USD 497 Board of Education",
    "level": "local",
    "division_id": "ocd-division/country:us/state:ks/school_district:lawrence_497",
    "division_name": "Lawrence USD 497",
    "election_date": "2027-11-02",
    "filing_deadline": "2027-06-01T17:00:00+00:00",
    "seats": 3,
    "partisan": False,
    "reason": "You live in Douglas County, KS. 3 seats on the Lawrence USD 497 board, nonpartisan. "
    "Filing closes June 1, 2027.",
    "sample_data": True,
}

SAMPLES: dict[str, dict[str, Any]] = {
    "welcome": {"postal_code": "66044"},
    "races_near_you": {
        "postal_code": "66044",
        "resolved": True,
        "location": "Douglas County, KS",
        "total": 12,
        "races": [RACE],
        "sample": True,
    },
    "new_race_digest": {
        "digest_date": "2027-03-01",
        "races": [RACE, RACE | {"office_name": "Lawrence City Council"}],
    },
    "deadline_reminder": {"race": RACE, "days_left": 7},
    "donation_receipt": {
        "amount_cents": 2500,
        "currency": "usd",
        "recurring": True,
        "paid_at": "2026-11-27T15:00:00+00:00",
        "reference": "in_sample",
    },
    "payment_failed": {
        "amount_cents": 2500,
        "currency": "usd",
        "recurring": True,
        "attempt": 2,
        "retry_url": "https://example.org/update-card",
        "next_attempt_at": "2026-12-01T15:00:00+00:00",
        "reference": "in_sample",
    },
    "plan_canceled": {"canceled_by": "dunning", "reason": None, "reference": "sub_sample"},
}
