"""Where a person lives, as divisions, each with how sure we are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WHOLLY_INSIDE = 0.99


@dataclass(frozen=True, slots=True)
class Division:
    """An Open Civic Data division: a place people vote in."""

    ocd_id: str
    name: str
    kind: str  # state, county, place, lea (school district), sldl, sldu, cd, judicial districts, …
    parent_id: str | None = None
    geoid: str | None = None  # Census GEOID, or the NCES LEAID for school districts
    valid_from: date | None = None
    valid_through: date | None = None

    @property
    def state(self) -> str:
        return state_of(self.ocd_id)

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_through is None or day <= self.valid_through
        )


def state_of(ocd_id: str) -> str:
    """Two-letter code of the state, district (DC) or territory an OCD id is in."""
    for part in ocd_id.split("/")[1:3]:
        kind, _, code = part.partition(":")
        if kind in {"state", "district", "territory"}:
            return code.upper()
    return ""


@dataclass(frozen=True, slots=True)
class DivisionMatch:
    ocd_id: str
    name: str
    kind: str
    share: float | None  # land share of the ZIP inside the division; None: not known
    # How the match was made: "zip" (ZIP relationship files), "point" (a given point inside an
    # imported boundary) or "zip_center" (the ZIP's internal point inside an imported boundary).
    how: str = "zip"

    @property
    def state(self) -> str:
        return state_of(self.ocd_id)

    @property
    def certainty(self) -> str:
        """How sure the match is, in the words shown to people."""
        if self.how == "point":
            return "point_inside"
        if self.how == "zip_center":
            return "zip_center_inside"
        if self.share is None:
            return "zip_overlaps"
        return "zip_wholly_inside" if self.share >= WHOLLY_INSIDE else "zip_partly_inside"


@dataclass(frozen=True, slots=True)
class Location:
    postal_code: str | None
    divisions: tuple[DivisionMatch, ...]

    @property
    def resolved(self) -> bool:
        return bool(self.divisions)

    def primary(self, kind: str) -> DivisionMatch | None:
        """The division of this kind holding the largest share of the ZIP (a point match wins)."""
        candidates = [d for d in self.divisions if d.kind == kind]
        return max(candidates, key=lambda d: 2.0 if d.how == "point" else d.share or 0.0, default=None)

    @property
    def summary(self) -> str:
        county = self.primary("county")
        if county:
            return f"{county.name}, {county.state}"
        state = self.primary("state")
        return state.name if state else "unknown location"
