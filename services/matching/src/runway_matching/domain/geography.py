"""Where a person lives, as divisions, each with how sure we are."""

from __future__ import annotations

from dataclasses import dataclass

WHOLLY_INSIDE = 0.99


@dataclass(frozen=True)
class DivisionMatch:
    ocd_id: str
    name: str
    kind: str  # state, county, place, lea (school district), cd
    share: float | None  # land share of the ZIP inside the division; None: not known

    @property
    def state(self) -> str:
        """Two-letter code of the state, district (DC) or territory the division is in."""
        for part in self.ocd_id.split("/")[1:3]:
            kind, _, code = part.partition(":")
            if kind in {"state", "district", "territory"}:
                return code.upper()
        return ""

    @property
    def certainty(self) -> str:
        """How the match was made, in the words shown to people."""
        if self.share is None:
            return "zip_overlaps"
        return "zip_wholly_inside" if self.share >= WHOLLY_INSIDE else "zip_partly_inside"


@dataclass(frozen=True)
class Location:
    postal_code: str | None
    divisions: tuple[DivisionMatch, ...]

    @property
    def resolved(self) -> bool:
        return bool(self.divisions)

    def primary(self, kind: str) -> DivisionMatch | None:
        """The division of this kind holding the largest share of the ZIP."""
        candidates = [d for d in self.divisions if d.kind == kind]
        return max(candidates, key=lambda d: d.share or 0.0, default=None)

    @property
    def summary(self) -> str:
        county = self.primary("county")
        if county:
            return f"{county.name}, {county.state}"
        state = self.primary("state")
        return state.name if state else "unknown location"
