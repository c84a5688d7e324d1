"""Races as an iCalendar (RFC 5545) feed: each filing deadline and each election day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import icalendar

from runway_matching.domain.races import Race

PRODUCT = "-//Runway//Races near you//EN"


def filing_calendar(races: Sequence[tuple[Race, str]], place: str, now: datetime) -> bytes:
    """`races`: each race with the sentence saying why it is shown."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Races near {place}")
    for race, note in races:
        if race.filing_closes is not None:
            deadline = icalendar.Event()
            deadline.add("uid", f"{race.race_id}-filing-closes@runway")
            deadline.add("dtstamp", now)
            # The instant filing closes (UTC); calendars show it in the reader's own zone.
            deadline.add("dtstart", race.filing_closes)
            deadline.add("dtend", race.filing_closes)
            deadline.add("summary", f"Filing closes: {race.office_name}")
            deadline.add("description", note)
            deadline.add("categories", ["filing-deadline"])
            if race.filing_office:
                deadline.add("location", race.filing_office)
            calendar.add_component(deadline)
        election = icalendar.Event()
        election.add("uid", f"{race.race_id}-election@runway")
        election.add("dtstamp", now)
        election.add("dtstart", race.election_date)  # a whole day, wherever you are
        election.add("dtend", race.election_date + timedelta(days=1))
        election.add("summary", f"Election day: {race.office_name}")
        election.add("description", note)
        election.add("categories", ["election-day"])
        election.add("transp", "TRANSPARENT")
        calendar.add_component(election)
    return calendar.to_ical()
