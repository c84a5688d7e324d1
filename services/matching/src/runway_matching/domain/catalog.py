"""A race as a catalog source describes it, and the rules an import row must pass.

Every format (the CSV, VIP 5 XML, the admin API) is turned into the same flat
fields and goes through `read_race`, so one set of rules decides what is valid
and every error names its row and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runway_matching.domain.geography import Division, state_of

RACE_TYPES = ("general", "primary", "runoff", "special")
LEVELS = ("federal", "state", "county", "city", "township", "local", "regional")
OFFICE_TYPES = (
    "school_board",
    "city_council",
    "mayor",
    "county_commission",
    "county_executive",
    "county_clerk",
    "sheriff",
    "prosecutor",
    "judge",
    "state_house",
    "state_senate",
    "special_district",
    "other",
)
# A filing deadline given as a date alone closes at the end of that day where it is filed.
END_OF_DAY = time(23, 59, 59)
# The zone a state's filing offices keep (its most populous), for dates given without one.
STATE_TIME_ZONES = {
    "hi": "Pacific/Honolulu",
    "ak": "America/Anchorage",
    **dict.fromkeys(("ca", "or", "wa", "nv"), "America/Los_Angeles"),
    "az": "America/Phoenix",
    **dict.fromkeys(("co", "mt", "nm", "ut", "wy"), "America/Denver"),
    "id": "America/Boise",
    **dict.fromkeys(
        ("al", "ar", "ia", "il", "ks", "la", "mn", "mo", "ms", "nd", "ne", "ok", "sd", "tn", "tx", "wi"),
        "America/Chicago",
    ),
    "in": "America/Indiana/Indianapolis",
    "ky": "America/New_York",
    "pr": "America/Puerto_Rico",
    "vi": "America/St_Thomas",
    "gu": "Pacific/Guam",
    "mp": "Pacific/Saipan",
    "as": "Pacific/Pago_Pago",
}


def state_time_zone(ocd_id: str) -> str:
    return STATE_TIME_ZONES.get(state_of(ocd_id).lower(), "America/New_York")


@dataclass(frozen=True)
class RaceRecord:
    source: str
    source_id: str
    office_name: str
    office_type: str
    level: str
    division_id: str
    election_name: str
    election_date: date
    seats: int = 1
    partisan: bool = False
    race_type: str = "general"
    unexpired_term: bool = False
    minimum_age: int | None = None
    filing_opens: datetime | None = None  # UTC
    filing_closes: datetime | None = None  # UTC
    filing_time_zone: str | None = None
    term_years: int | None = None
    salary: str | None = None
    must_be_resident: bool = True
    must_be_registered_voter: bool = True
    filing_fee_cents: int | None = None
    filing_office: str | None = None
    paperwork_notes: str | None = None
    candidates_filed: int | None = None
    sample: bool = False


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based data row (CSV: the line after the header is row 1; VIP: the contest's position)
    field: str
    message: str


class _Row:
    """Reads one row's fields, collecting every problem instead of stopping at the first."""

    def __init__(self, fields: Mapping[str, str | None], row: int) -> None:
        self.fields = {k: (v or "").strip() for k, v in fields.items() if k}
        self.row = row
        self.errors: list[RowError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(RowError(self.row, field, message))

    def text(self, field: str, *, required: bool = False, max_length: int = 300) -> str | None:
        value = self.fields.get(field, "")
        if not value:
            if required:
                self.fail(field, "required")
            return None
        if len(value) > max_length:
            self.fail(field, f"longer than {max_length} characters")
        return value

    def choice(self, field: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
        value = self.fields.get(field, "").lower().replace(" ", "_").replace("-", "_")
        if not value:
            if default is None:
                self.fail(field, "required")
            return default
        if value not in choices:
            self.fail(field, f"expected one of {', '.join(choices)}")
            return default
        return value

    def integer(self, field: str, low: int, high: int, default: int | None = None) -> int | None:
        value = self.fields.get(field, "")
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            self.fail(field, "expected a whole number")
            return default
        if not low <= number <= high:
            self.fail(field, f"expected a number from {low} to {high}")
        return number

    def flag(self, field: str, default: bool) -> bool:
        value = self.fields.get(field, "").lower()
        if not value:
            return default
        if value in {"true", "yes", "y", "1"}:
            return True
        if value in {"false", "no", "n", "0"}:
            return False
        self.fail(field, "expected true or false")
        return default

    def day(self, field: str, *, required: bool = False) -> date | None:
        value = self.fields.get(field, "")
        if not value:
            if required:
                self.fail(field, "required")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(field, "expected a date as YYYY-MM-DD")
            return None

    def moment(self, field: str, zone: ZoneInfo | None, end_of_day: bool) -> datetime | None:
        """A date (end or start of that day) or a date and time, local to `zone` unless it has an offset."""
        value = self.fields.get(field, "")
        if not value:
            return None
        try:
            if len(value) == 10:
                at = datetime.combine(date.fromisoformat(value), END_OF_DAY if end_of_day else time(0))
            else:
                at = datetime.fromisoformat(value)
        except ValueError:
            self.fail(field, "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM, optionally with a UTC offset")
            return None
        if at.tzinfo is None:
            if zone is None:
                return None  # the zone's own error says why
            at = at.replace(tzinfo=zone)
        return at.astimezone(UTC)

    def dollars(self, field: str) -> int | None:
        value = self.fields.get(field, "").lstrip("$").replace(",", "")
        if not value:
            return None
        try:
            amount = Decimal(value)
        except InvalidOperation:
            self.fail(field, "expected an amount in dollars, like 50 or 50.00")
            return None
        if amount < 0 or amount != amount.quantize(Decimal("0.01")):
            self.fail(field, "expected an amount in dollars, like 50 or 50.00")
            return None
        return int(amount * 100)


def read_race(
    fields: Mapping[str, str | None], *, source: str, row: int, divisions: Mapping[str, Division]
) -> tuple[RaceRecord | None, list[RowError]]:
    """One race from a source's flat fields, or every reason it cannot be one."""
    r = _Row(fields, row)
    source_id = r.text("source_id", required=True, max_length=200)
    division_id = r.text("division_id", required=True)
    if division_id and division_id not in divisions:
        r.fail("division_id", "unknown OCD division")
    zone_name = r.text("filing_time_zone", max_length=64) or (division_id and state_time_zone(division_id))
    zone: ZoneInfo | None = None
    try:
        zone = ZoneInfo(zone_name) if zone_name else None
    except (ZoneInfoNotFoundError, ValueError):
        r.fail("filing_time_zone", "unknown IANA time zone, e.g. America/Chicago")
    election_date = r.day("election_date", required=True)
    opens = r.moment("filing_opens", zone, end_of_day=False)
    closes = r.moment("filing_closes", zone, end_of_day=True)
    if closes and election_date and zone and closes.astimezone(zone).date() > election_date:
        r.fail("filing_closes", "the filing deadline is after the election")
    if opens and closes and opens >= closes:
        r.fail("filing_opens", "filing opens after it closes")
    record_fields = {
        "office_name": r.text("office_name", required=True),
        "office_type": r.choice("office_type", OFFICE_TYPES),
        "level": r.choice("level", LEVELS),
        "election_name": r.text("election_name", required=True),
        "seats": r.integer("seats", 1, 100, default=1),
        "partisan": r.flag("partisan", False),
        "race_type": r.choice("race_type", RACE_TYPES, default="general"),
        "unexpired_term": r.flag("unexpired_term", False),
        "minimum_age": r.integer("minimum_age", 18, 99),
        "term_years": r.integer("term_years", 1, 20),
        "salary": r.text("salary", max_length=100),
        "must_be_resident": r.flag("must_be_resident", True),
        "must_be_registered_voter": r.flag("must_be_registered_voter", True),
        "filing_fee_cents": r.dollars("filing_fee"),
        "filing_office": r.text("filing_office"),
        "paperwork_notes": r.text("paperwork_notes", max_length=2000),
        "candidates_filed": r.integer("candidates_filed", 0, 1000),
    }
    if r.errors:
        return None, r.errors
    return (
        RaceRecord(
            source=source,
            source_id=source_id,  # type: ignore[arg-type]
            division_id=division_id,  # type: ignore[arg-type]
            election_date=election_date,  # type: ignore[arg-type]
            filing_opens=opens,
            filing_closes=closes,
            filing_time_zone=zone_name or None,
            **record_fields,  # type: ignore[arg-type]
        ),
        [],
    )


def duplicate_errors(records: list[tuple[int, RaceRecord]]) -> list[RowError]:
    """A source id given twice in one file is ambiguous: which one is meant?"""
    seen: dict[str, int] = {}
    errors = []
    for row, record in records:
        if record.source_id in seen:
            errors.append(RowError(row, "source_id", f"also on row {seen[record.source_id]}"))
        seen.setdefault(record.source_id, row)
    return errors
