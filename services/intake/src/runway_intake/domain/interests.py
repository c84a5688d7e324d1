"""The interest taxonomy sign-up forms map their choices onto."""

OFFICES = {
    "school_board": "School board",
    "city_council": "City council",
    "county": "County office",
    "state_legislature": "State legislature",
    "judicial": "Judgeship",
    "mayor": "Mayor",
}
ISSUES = {
    "housing": "Housing",
    "education": "Education",
    "climate": "Climate and environment",
    "public_safety": "Public safety",
    "health_care": "Health care",
    "transportation": "Transportation",
    "voting_rights": "Voting rights",
    "economy": "Jobs and the economy",
}
TAXONOMY = {**OFFICES, **ISSUES}


def unknown_interests(codes: list[str]) -> list[str]:
    return [code for code in codes if code not in TAXONOMY]
