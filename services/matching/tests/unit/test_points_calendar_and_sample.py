"""Points and imported boundaries, the iCalendar feed, filters, and the sample catalog."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import icalendar
import sqlalchemy as sa
from matching_database import MatchingDatabase

from runway_matching.adapters import sample_catalog, tables
from runway_matching.adapters.boundaries import Boundaries
from runway_matching.adapters.calendar import filing_calendar
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.domain.geography import DivisionMatch
from runway_matching.domain.races import Race, reason
from runway_matching.service_layer.boundary_import import import_boundaries
from runway_matching.service_layer.race_finder import RaceFilter

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
HOUSE_45 = "ocd-division/country:us/state:ks/sldl:45"
LAWRENCE_POINT = (38.9717, -95.2353)  # downtown Lawrence, KS


def square(ocd_id: str, lat: float, lon: float, half: float) -> dict[str, object]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
    ]
    return {
        "type": "Feature",
        "properties": {"ocd_id": ocd_id},
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
    }


def collection(*features: dict[str, object]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def test_a_point_inside_an_imported_boundary_is_an_exact_match(db: MatchingDatabase) -> None:
    geography = GeographyIndex.load()
    assert not any(d.kind == "sldl" for d in geography.locate_point(*LAWRENCE_POINT).divisions)
    with db.sessions() as session, session.begin():
        written, errors = import_boundaries(
            session, collection(square(HOUSE_45, *LAWRENCE_POINT, 0.1)), geography.divisions, "test", NOW
        )
    assert (written, errors) == (1, [])
    with db.sessions() as session:
        geography.use_boundaries(Boundaries.from_database(session))

    at_point = geography.locate_point(*LAWRENCE_POINT)
    house = [d for d in at_point.divisions if d.kind == "sldl"]
    assert [(d.ocd_id, d.certainty) for d in house] == [(HOUSE_45, "point_inside")]
    assert at_point.postal_code == "66045" and at_point.summary == "Douglas County, KS"  # the nearest ZIP
    far = geography.locate_point(LAWRENCE_POINT[0] + 0.2, LAWRENCE_POINT[1])
    assert not any(d.kind == "sldl" for d in far.divisions)
    by_zip = [d for d in geography.locate("66044").divisions if d.kind == "sldl"]
    assert [d.certainty for d in by_zip] == ["zip_center_inside"]
    assert not geography.locate_point(0.0, -30.0).resolved  # mid-Atlantic: no ZIP within reach


def test_a_boundary_file_with_a_bad_feature_writes_nothing(db: MatchingDatabase) -> None:
    geography = GeographyIndex.load()
    bad = collection(
        square(HOUSE_45, *LAWRENCE_POINT, 0.05),
        square("ocd-division/country:us/state:ks/sldl:999", *LAWRENCE_POINT, 0.05),
        {
            "type": "Feature",
            "properties": {"ocd_id": HOUSE_45},
            "geometry": {"type": "Point", "coordinates": [0, 0]},
        },
    )
    with db.sessions() as session, session.begin():
        written, errors = import_boundaries(session, bad, geography.divisions, "test", NOW)
    assert written == 0 and [(e.row, e.field) for e in errors] == [(2, "properties.ocd_id"), (3, "geometry")]
    with db.engine.connect() as c:
        assert c.scalar(sa.select(sa.func.count()).select_from(tables.boundaries)) == 0


def race(race_id: str, **changes: object) -> Race:
    base = Race(
        race_id,
        "Lawrence USD 497 Board of Education",
        "school_board",
        "local",
        "ocd-division/country:us/state:ks/county:douglas/school_district:lawrence",
        date(2027, 11, 2),
        datetime(2027, 6, 1, 17, 0, tzinfo=UTC),
        3,
        False,
        18,
        False,
        filing_time_zone="America/Chicago",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_calendar_feed_parses_back_with_every_deadline_and_election_day() -> None:
    board = race("r1", candidates_filed=0, filing_office="Douglas County Clerk")
    no_deadline = race("r2", office_name="Mayor of Lawrence", filing_closes=None)
    where = DivisionMatch(board.division_id, "Lawrence USD 497", "lea", 1.0)
    body = filing_calendar(
        [(board, reason(board, where, "66044")), (no_deadline, "x")], "Douglas County, KS", NOW
    )

    calendar = icalendar.Calendar.from_ical(body)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"r1-filing-closes@runway", "r1-election@runway", "r2-election@runway"}
    deadline = events["r1-filing-closes@runway"]
    assert deadline.decoded("DTSTART") == datetime(2027, 6, 1, 17, 0, tzinfo=UTC)
    assert str(deadline["SUMMARY"]) == "Filing closes: Lawrence USD 497 Board of Education"
    assert "Nobody has filed yet." in str(deadline["DESCRIPTION"])
    assert str(deadline["LOCATION"]) == "Douglas County Clerk"
    election = events["r1-election@runway"]
    assert election.decoded("DTSTART") == date(2027, 11, 2)  # an all-day event
    assert election.decoded("DTEND") == date(2027, 11, 3)
    assert str(calendar["X-WR-CALNAME"]) == "Races near Douglas County, KS"


def test_filters_keep_only_the_levels_types_and_deadline_window_asked_for() -> None:
    board = race("r1")
    assert RaceFilter().keeps(board)
    assert RaceFilter(levels=frozenset({"local"})).keeps(board)
    assert not RaceFilter(levels=frozenset({"state"})).keeps(board)
    assert not RaceFilter(office_types=frozenset({"mayor"})).keeps(board)
    closes = board.filing_closes
    assert closes is not None
    assert RaceFilter(closes_after=closes, closes_before=closes + timedelta(days=1)).keeps(board)
    assert not RaceFilter(closes_before=closes).keeps(board)
    assert not RaceFilter(closes_after=closes).keeps(race("r2", filing_closes=None))


def test_the_deadline_in_a_reason_is_the_day_where_it_is_filed() -> None:
    # 03:00 UTC on June 2 is still June 1 in Kansas.
    late = race("r1", filing_closes=datetime(2027, 6, 2, 3, 0, tzinfo=UTC))
    where = DivisionMatch(late.division_id, "Lawrence USD 497", "lea", 1.0)
    assert "Filing closes June 1, 2027." in reason(late, where, "66044")


def test_the_sample_catalog_covers_the_country_and_is_labelled(geography: GeographyIndex) -> None:
    races = list(sample_catalog.generate(geography.divisions))
    assert len(races) >= 100_000
    assert len({r.division_id for r in races}) >= 80_000
    assert len({r.source_id for r in races}) == len(races)
    kinds = Counter(r.office_type for r in races)
    for office in (
        "school_board",
        "city_council",
        "mayor",
        "county_commission",
        "state_house",
        "state_senate",
    ):
        assert kinds[office] > 500, office
    assert kinds["judge"] > 100 and kinds["special_district"] > 0
    assert all(r.sample and "(sample)" in r.election_name for r in races)
    assert all(r.filing_opens < r.filing_closes for r in races if r.filing_opens and r.filing_closes)
    assert all(r.filing_closes.date() < r.election_date for r in races if r.filing_closes)
    assert len({r.division_id.split("/")[2] for r in races}) >= 51  # every state and DC
