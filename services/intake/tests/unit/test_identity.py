from datetime import UTC, datetime

from runway_intake.domain.identity import Create, Join, KnownLead, Merge, resolve

OLDER = KnownLead("a", datetime(2026, 1, 1, tzinfo=UTC))
NEWER = KnownLead("b", datetime(2026, 2, 1, tzinfo=UTC))


def test_nobody_known_means_a_new_lead() -> None:
    assert resolve(None, None) == Create()


def test_one_match_or_the_same_lead_twice_means_joining_it() -> None:
    assert resolve(OLDER, None) == Join("a")
    assert resolve(None, NEWER) == Join("b")
    assert resolve(OLDER, OLDER) == Join("a")


def test_email_of_one_lead_and_phone_of_another_merges_them_into_the_older() -> None:
    assert resolve(NEWER, OLDER) == Merge(survivor_id="a", absorbed_id="b")
    assert resolve(OLDER, NEWER) == Merge(survivor_id="a", absorbed_id="b")
