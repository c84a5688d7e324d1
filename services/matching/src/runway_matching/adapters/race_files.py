"""Reading race catalogs from files: Runway's CSV and the Voting Information Project's VIP 5 XML.

Each reader turns a file into numbered rows of flat fields (the names of
`runway_matching.domain.catalog.read_race`); the domain decides what is valid.
A file that cannot be read at all raises `UnreadableFile`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeXML
from defusedxml import DefusedXmlException

REQUIRED_CSV_COLUMNS = (
    "source_id",
    "office_name",
    "office_type",
    "level",
    "division_id",
    "election_name",
    "election_date",
)
CSV_COLUMNS = (
    *REQUIRED_CSV_COLUMNS,
    "seats",
    "partisan",
    "race_type",
    "unexpired_term",
    "minimum_age",
    "filing_opens",
    "filing_closes",
    "filing_time_zone",
    "term_years",
    "salary",
    "must_be_resident",
    "must_be_registered_voter",
    "filing_fee",
    "filing_office",
    "paperwork_notes",
    "candidates_filed",
)

Rows = Iterator[tuple[int, dict[str, str | None]]]


class UnreadableFile(ValueError):
    """The file as a whole is not in the format it claims (nothing in it is applied)."""


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"not UTF-8 text (byte {error.start})") from None


def csv_rows(raw: bytes) -> Rows:
    reader = csv.DictReader(io.StringIO(_text(raw), newline=""), strict=True)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED_CSV_COLUMNS if c not in header]
    if missing:
        raise UnreadableFile(f"missing columns: {', '.join(missing)}")
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise UnreadableFile(f"unknown columns: {', '.join(unknown)} (see docs/matching.md for the format)")
    reader.fieldnames = header
    try:
        for number, row in enumerate(reader, start=1):
            if None in row:  # more cells than the header has columns
                raise UnreadableFile(f"row {number}: more cells than columns")
            yield number, row
    except csv.Error as error:
        raise UnreadableFile(f"not a CSV file: {error}") from None


# VIP 5 district types → (level, office type) when the office's name does not say more.
VIP_DISTRICT_OFFICES = {
    "state": ("state", "other"),
    "state-house": ("state", "state_house"),
    "state-senate": ("state", "state_senate"),
    "county": ("county", "county_commission"),
    "county-council": ("county", "county_commission"),
    "city": ("city", "city_council"),
    "city-council": ("city", "city_council"),
    "municipality": ("city", "city_council"),
    "borough": ("city", "city_council"),
    "town": ("township", "city_council"),
    "township": ("township", "city_council"),
    "village": ("city", "city_council"),
    "ward": ("city", "city_council"),
    "school": ("local", "school_board"),
    "judicial": ("county", "judge"),
    "special": ("regional", "special_district"),
    "water": ("regional", "special_district"),
    "utility": ("regional", "special_district"),
    "transportation": ("regional", "special_district"),
    "fire": ("regional", "special_district"),
}
OFFICE_WORDS = (
    ("mayor", "mayor"),
    ("sheriff", "sheriff"),
    ("clerk", "county_clerk"),
    ("judge", "judge"),
    ("justice", "judge"),
    ("attorney", "prosecutor"),
    ("school", "school_board"),
    ("education", "school_board"),
)
VIP_ELECTION_TYPES = {"general": "general", "primary": "primary", "runoff": "runoff", "special": "special"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _value(element: Element | None, name: str) -> str:
    """A child's text, or its first `<Text>` (VIP's InternationalizedText)."""
    child = _child(element, name) if element is not None else None
    if child is None:
        return ""
    text = _child(child, "Text")
    return ((text.text if text is not None else child.text) or "").strip()


def _ocd_id(district: Element) -> str:
    identifiers = _child(district, "ExternalIdentifiers")
    for identifier in identifiers if identifiers is not None else []:
        if _value(identifier, "Type").lower() == "ocd-id":
            return _value(identifier, "Value")
    return ""


def vip_rows(raw: bytes) -> Rows:
    """One row per `CandidateContest`, joined to its office, district and the feed's election."""
    try:
        root = SafeXML.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as error:
        raise UnreadableFile(f"unsafe XML refused: {type(error).__name__}") from None
    except SafeXML.ParseError as error:
        raise UnreadableFile(f"not well-formed XML: {error}") from None
    if _local(root.tag) != "VipObject":
        raise UnreadableFile("expected a VIP 5 <VipObject> document")
    by_id: dict[str, dict[str, Element]] = {}
    for element in root:
        by_id.setdefault(_local(element.tag), {})[element.get("id", "")] = element
    elections = list(by_id.get("Election", {}).values())
    if len(elections) != 1:
        raise UnreadableFile(f"expected one <Election>, found {len(elections)}")
    election = elections[0]
    election_type = _value(election, "ElectionType").lower()
    districts = by_id.get("ElectoralDistrict", {})
    offices = by_id.get("Office", {})
    for number, contest in enumerate(by_id.get("CandidateContest", {}).values(), start=1):
        office_ids = _value(contest, "OfficeIds").split()
        office = offices.get(office_ids[0]) if office_ids else None
        district = districts.get(
            _value(contest, "ElectoralDistrictId") or _value(office, "ElectoralDistrictId")
        )
        district_type = _value(district, "Type").lower() if district is not None else ""
        office_name = _value(office, "Name") or _value(contest, "Name")
        level, office_type = VIP_DISTRICT_OFFICES.get(district_type, ("", ""))
        office_type = next((t for word, t in OFFICE_WORDS if word in office_name.lower()), office_type)
        term = _child(office, "Term") if office is not None else None
        yield (
            number,
            {
                "source_id": contest.get("id"),
                "office_name": office_name,
                "office_type": office_type,
                "level": level,
                "division_id": _ocd_id(district) if district is not None else "",
                "election_name": _value(election, "Name"),
                "election_date": _value(election, "Date"),
                "race_type": next(
                    (v for k, v in VIP_ELECTION_TYPES.items() if k in election_type), "general"
                ),
                "seats": _value(contest, "NumberElected"),
                "partisan": _value(office, "IsPartisan"),
                "unexpired_term": "true" if _value(term, "Type") == "unexpired-term" else "false",
                "filing_closes": _value(office, "FilingDeadline"),
            },
        )
