"""Race imports (CSV and VIP 5 XML): all or nothing, idempotent, every error named by row and field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from matching_database import MatchingDatabase

from runway_matching.adapters import tables
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.adapters.race_files import UnreadableFile, csv_rows, vip_rows
from runway_matching.service_layer import race_finder
from runway_matching.service_layer.catalog import import_catalog
from runway_matching.service_layer.live_catalog import LiveCatalog
from runway_matching.service_layer.race_finder import race_by_id

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
DOUGLAS = "ocd-division/country:us/state:ks/county:douglas"
USD497 = "ocd-division/country:us/state:ks/county:douglas/school_district:lawrence"
LAWRENCE = "ocd-division/country:us/state:ks/place:lawrence"
HEADER = (
    "source_id,office_name,office_type,level,division_id,election_name,election_date,seats,partisan,"
    "minimum_age,filing_opens,filing_closes,filing_fee,candidates_filed\n"
)
GOOD_CSV = HEADER + (
    f"usd497-2027,Lawrence USD 497 Board of Education,school_board,local,{USD497},"
    "Kansas general election,2027-11-02,3,false,18,2027-05-01,2027-06-01,0,0\n"
    f"lawrence-cc-2027,Lawrence City Commission,city_council,city,{LAWRENCE},"
    "Kansas general election,2027-11-02,3,false,18,,2027-06-01T12:00,20.00,\n"
    f"douglas-old,Douglas County Commission,county_commission,county,{DOUGLAS},"
    "Kansas general election,2027-11-02,1,true,18,,2026-12-01,50,\n"
)


def count(db: MatchingDatabase, table: sa.Table) -> int:
    with db.engine.connect() as c:
        return int(c.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def run_csv(db: MatchingDatabase, geography: GeographyIndex, text: str | bytes, source: str = "ks-sos"):
    raw = text.encode() if isinstance(text, str) else text
    return import_catalog(db.uow(), csv_rows(raw), source, geography.divisions, NOW)


def test_a_good_csv_is_applied_once_and_new_open_races_are_published(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    report = run_csv(db, geography, GOOD_CSV)
    assert report.applied and (report.created, report.updated, report.unchanged) == (3, 0, 0)
    published = {e["race"]["office_name"] for e in db.events("matching.race.published.v1")}
    # The county race's filing closed before NOW: stored, but nobody is told about it.
    assert published == {"Lawrence USD 497 Board of Education", "Lawrence City Commission"}

    with db.sessions() as session:
        board = race_by_id(session, report.race_ids[0])
    assert board is not None and board.seats == 3 and board.candidates_filed == 0
    # A date alone closes at the end of that day where it is filed (Kansas: Central time).
    assert board.filing_closes == datetime(2027, 6, 2, 4, 59, 59, tzinfo=UTC)
    assert board.filing_time_zone == "America/Chicago"
    assert board.filing_fee_cents == 0

    again = run_csv(db, geography, GOOD_CSV)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    moved = run_csv(db, geography, GOOD_CSV.replace("2027-06-01T12:00,20.00", "2027-06-15T12:00,20.00"))
    assert (moved.created, moved.updated, moved.unchanged) == (0, 1, 2)
    assert count(db, tables.races) == 3 and len(db.events("matching.race.published.v1")) == 2


def test_a_csv_with_any_bad_row_changes_nothing_and_names_every_problem(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    bad = GOOD_CSV + (
        "x1,Nowhere Council,city_council,city,ocd-division/country:us/state:ks/place:nowhere,"
        "Kansas general election,2027-11-02,1,false,18,,2027-06-01,,\n"
        f"x2,Late Board,school_board,local,{USD497},Kansas general election,2027-11-02,1,false,18,,2027-11-05,,\n"
        f"x3,Odd Board,dog_catcher,local,{USD497},Kansas general election,02/11/2027,0,maybe,12,,,x,\n"
        f"usd497-2027,Same Id,school_board,local,{USD497},Kansas general election,2027-11-02,1,false,18,,,,\n"
    )
    report = run_csv(db, geography, bad)
    assert not report.applied
    problems = {(e.row, e.field) for e in report.errors}
    assert (4, "division_id") in problems
    assert (5, "filing_closes") in problems and any("after the election" in e.message for e in report.errors)
    assert {(6, "office_type"), (6, "election_date"), (6, "seats"), (6, "partisan")} <= problems
    assert {(6, "minimum_age"), (6, "filing_fee")} <= problems
    assert (7, "source_id") in problems  # the same source id twice in one file
    assert count(db, tables.races) == 0 and count(db, tables.elections) == 0
    assert db.events("matching.race.published.v1") == []


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"\xff\xfesource_id\n", "not UTF-8"),
        (GOOD_CSV.encode("utf-16"), "not UTF-8"),
        (b"source_id,office_name\nx,y\n", "missing columns"),
        ((HEADER.rstrip("\n") + ",colour\n").encode(), "unknown columns"),
        (GOOD_CSV.replace(",0,0\n", ",0,0,extra\n", 1).encode(), "more cells than columns"),
        (b"", "missing columns"),
    ],
)
def test_an_unreadable_csv_is_refused_whole(
    db: MatchingDatabase, geography: GeographyIndex, raw: bytes, why: str
) -> None:
    with pytest.raises(UnreadableFile, match=why):
        run_csv(db, geography, raw)
    assert count(db, tables.races) == 0


VIP = f"""<?xml version="1.0" encoding="UTF-8"?>
<VipObject xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" schemaVersion="5.2">
  <Election id="el1">
    <Date>2027-11-02</Date>
    <ElectionType><Text language="en">General</Text></ElectionType>
    <Name><Text language="en">Kansas General Election 2027</Text></Name>
    <StateId>st20</StateId>
  </Election>
  <ElectoralDistrict id="ed-usd497">
    <ExternalIdentifiers><ExternalIdentifier><Type>ocd-id</Type><Value>{USD497}</Value></ExternalIdentifier>
    </ExternalIdentifiers>
    <Name>Lawrence USD 497</Name><Type>school</Type>
  </ElectoralDistrict>
  <ElectoralDistrict id="ed-lawrence">
    <ExternalIdentifiers><ExternalIdentifier><Type>ocd-id</Type><Value>{LAWRENCE}</Value></ExternalIdentifier>
    </ExternalIdentifiers>
    <Name>Lawrence</Name><Type>city</Type>
  </ElectoralDistrict>
  <Office id="off-board">
    <ElectoralDistrictId>ed-usd497</ElectoralDistrictId>
    <FilingDeadline>2027-06-01</FilingDeadline>
    <IsPartisan>false</IsPartisan>
    <Name><Text language="en">USD 497 Board Member</Text></Name>
    <Term><Type>full-term</Type></Term>
  </Office>
  <Office id="off-mayor">
    <ElectoralDistrictId>ed-lawrence</ElectoralDistrictId>
    <FilingDeadline>2027-06-01</FilingDeadline>
    <IsPartisan>false</IsPartisan>
    <Name><Text language="en">Mayor of Lawrence</Text></Name>
    <Term><Type>unexpired-term</Type></Term>
  </Office>
  <CandidateContest id="cc-board">
    <ElectoralDistrictId>ed-usd497</ElectoralDistrictId>
    <Name>USD 497 Board</Name><NumberElected>4</NumberElected><OfficeIds>off-board</OfficeIds>
  </CandidateContest>
  <CandidateContest id="cc-mayor">
    <ElectoralDistrictId>ed-lawrence</ElectoralDistrictId>
    <Name>Mayor</Name><NumberElected>1</NumberElected><OfficeIds>off-mayor</OfficeIds>
  </CandidateContest>
</VipObject>
"""


def test_a_vip5_feed_becomes_races_with_seats_deadlines_and_office_types(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    report = import_catalog(db.uow(), vip_rows(VIP.encode()), "ks-vip", geography.divisions, NOW)
    assert report.applied and report.created == 2
    with db.sessions() as session:
        board, mayor = (race_by_id(session, i) for i in report.race_ids)
    assert board is not None and mayor is not None
    assert (board.office_type, board.level, board.seats, board.unexpired_term) == (
        "school_board",
        "local",
        4,
        False,
    )
    assert (mayor.office_type, mayor.level, mayor.seats, mayor.unexpired_term) == ("mayor", "city", 1, True)
    assert board.election_date.isoformat() == "2027-11-02"
    assert board.filing_closes == datetime(2027, 6, 2, 4, 59, 59, tzinfo=UTC)
    again = import_catalog(db.uow(), vip_rows(VIP.encode()), "ks-vip", geography.divisions, NOW)
    assert (again.created, again.unchanged) == (0, 2)


def test_a_vip5_feed_with_a_bad_contest_changes_nothing(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    bad = VIP.replace(USD497, "ocd-division/country:us/state:ks/school_district:atlantis").replace(
        "<NumberElected>1</NumberElected>", "<NumberElected>none</NumberElected>"
    )
    report = import_catalog(db.uow(), vip_rows(bad.encode()), "ks-vip", geography.divisions, NOW)
    assert {(e.row, e.field) for e in report.errors} == {(1, "division_id"), (2, "seats")}
    assert count(db, tables.races) == 0


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"<VipObject><Election>", "not well-formed"),
        (b"<Races/>", "VipObject"),
        (VIP.replace("</VipObject>", '<Election id="el2"/></VipObject>').encode(), "one <Election>"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b"<VipObject>&b;</VipObject>",
            "unsafe XML",
        ),
    ],
)
def test_an_unreadable_or_unsafe_vip_file_is_refused_whole(
    db: MatchingDatabase, geography: GeographyIndex, raw: bytes, why: str
) -> None:
    with pytest.raises(UnreadableFile, match=why):
        import_catalog(db.uow(), vip_rows(raw), "ks-vip", geography.divisions, NOW)
    assert count(db, tables.races) == 0


def test_the_public_apis_catalog_in_memory_follows_every_write(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    live = LiveCatalog(db.sessions, refresh_seconds=60)
    assert live.refresh() and len(live.snapshot) == 0
    report = run_csv(db, geography, GOOD_CSV)  # as if another process imported it
    assert live.refresh() and len(live.snapshot) == 3
    assert not live.refresh()  # nothing changed since
    board_id = report.race_ids[0]
    assert [r.race_id for r in live.snapshot.races_in([USD497, USD497])] == [board_id]

    bigger = GOOD_CSV.replace("2027-11-02,3,false,18,2027-05-01", "2027-11-02,5,false,18,2027-05-01")
    assert run_csv(db, geography, bigger).updated == 1
    before = live.snapshot
    assert live.refresh([board_id])  # this process's own write: only that race is read
    assert live.snapshot.race(board_id).seats == 5 and before.race(board_id).seats == 3  # type: ignore[union-attr]
    assert [r.seats for r in live.snapshot.races_in([USD497])] == [5]
    assert len(live.snapshot) == 3
    assert live.refresh()  # and the next check reloads everything, in case another process wrote too
    assert [r.seats for r in live.snapshot.races_in([USD497])] == [5]


def test_lead_matching_sees_a_race_the_moment_its_import_commits(
    db: MatchingDatabase, geography: GeographyIndex
) -> None:
    """Matching reads the snapshot only while it is the committed catalog: another process's
    import is seen at once, before any refresh (reverse matching relies on that order)."""
    live = LiveCatalog(db.sessions, refresh_seconds=60)
    live.refresh()
    statements: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    board_id = run_csv(db, geography, GOOD_CSV).race_ids[0]  # not refreshed: the snapshot is behind
    statements.clear()
    with db.sessions() as session:
        assert [r.race_id for r in live.races_in(session, [USD497])] == [board_id]
    assert len(statements) == 2  # the revision, then the races from the database

    live.refresh()
    statements.clear()
    with db.sessions() as session:
        found = live.races_in(session, [USD497, LAWRENCE])
    assert len(statements) == 1  # current: the revision only, the races from memory
    with db.sessions() as session:
        from_database = race_finder.races_in(session, [USD497, LAWRENCE])
    assert sorted(found, key=lambda r: r.race_id) == sorted(from_database, key=lambda r: r.race_id)
