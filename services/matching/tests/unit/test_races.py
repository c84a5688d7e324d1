from datetime import UTC, date, datetime, timedelta

from runway_matching.domain.geography import DivisionMatch, Location
from runway_matching.domain.races import Person, Race, age_on, eligible, latest_birth_date, reason, score

NOW = datetime(2026, 11, 27, tzinfo=UTC)
DOUGLAS = DivisionMatch("ocd-division/country:us/state:ks/county:douglas", "Douglas County", "county", 0.38)
USD497 = DivisionMatch(
    "ocd-division/country:us/state:ks/county:douglas/school_district:lawrence",
    "Lawrence Unified School District 497",
    "lea",
    1.0,
)


def race(**fields: object) -> Race:
    base: dict[str, object] = dict(
        race_id="r1",
        office_name="Lawrence USD 497 Board of Education",
        office_type="school_board",
        level="local",
        division_id=USD497.ocd_id,
        election_date=date(2027, 11, 2),
        filing_closes=datetime(2027, 6, 1, 17, tzinfo=UTC),
        seats=3,
        partisan=False,
        minimum_age=18,
        sample=False,
    )
    return Race(**(base | fields))  # type: ignore[arg-type]


def test_age_counts_birthdays_on_election_day() -> None:
    assert age_on(date(2009, 11, 2), date(2027, 11, 2)) == 18
    assert age_on(date(2009, 11, 3), date(2027, 11, 2)) == 17


def test_the_birth_date_bound_a_database_compares_agrees_with_age_on_every_day() -> None:
    # Every election day across a leap cycle, births on each side of the bound (29 February included).
    for offset in range(0, 4 * 366, 1):
        election = date(2026, 1, 1) + timedelta(days=offset)
        for minimum_age in (18, 21, 25):
            bound = latest_birth_date(election, minimum_age)
            assert age_on(bound, election) >= minimum_age
            assert age_on(bound + timedelta(days=1), election) < minimum_age


def test_someone_too_young_on_election_day_is_not_offered_the_race() -> None:
    assert not eligible(race(), Person(date(2009, 11, 3), frozenset()), NOW)
    assert eligible(race(), Person(date(2009, 11, 2), frozenset()), NOW)


def test_a_race_whose_filing_has_closed_is_not_offered() -> None:
    assert not eligible(race(filing_closes=datetime(2026, 11, 1, tzinfo=UTC)), Person(None, frozenset()), NOW)


def test_the_reason_names_the_place_the_seats_and_the_deadline() -> None:
    assert reason(race(), USD497, "66046") == (
        "You live in Lawrence Unified School District 497, KS. 3 seats on the "
        "Lawrence USD 497 Board of Education, nonpartisan. Filing closes June 1, 2027."
    )


def test_a_zip_partly_inside_a_division_says_how_much() -> None:
    text = reason(race(office_name="Douglas County Commission", seats=1, sample=True), DOUGLAS, "66044")
    assert text.startswith("About 38% of ZIP 66044 is in Douglas County, KS. 1 seat")
    assert text.endswith("(Sample data, dates illustrative.)")


def test_interest_in_the_office_ranks_it_first() -> None:
    school = race()
    county = race(race_id="r2", office_type="county_commission", division_id=DOUGLAS.ocd_id)
    person = Person(None, frozenset({"county"}))
    assert score(county, DOUGLAS, person, NOW) > score(school, USD497, person, NOW)


def test_a_division_holding_little_of_the_zip_ranks_below_one_holding_most() -> None:
    sliver = DivisionMatch("ocd-division/country:us/state:ks/place:wakarusa", "Wakarusa", "place", 0.01)
    most = DivisionMatch("ocd-division/country:us/state:ks/place:lawrence", "Lawrence", "place", 0.9)
    council = race(office_type="city_council")
    person = Person(None, frozenset())
    assert score(council, most, person, NOW) > 2 * score(council, sliver, person, NOW)


def test_the_primary_county_is_the_one_holding_most_of_the_zip() -> None:
    jefferson = DivisionMatch(
        "ocd-division/country:us/state:ks/county:jefferson", "Jefferson County", "county", 0.33
    )
    location = Location("66044", (jefferson, DOUGLAS))
    assert location.primary("county") == DOUGLAS
    assert location.summary == "Douglas County, KS"
    assert not Location("00000", ()).resolved
