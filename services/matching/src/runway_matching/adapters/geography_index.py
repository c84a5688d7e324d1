"""The shipped geography (see data/PROVENANCE.md) held in memory: every OCD division, ZIP → division
with land shares, each ZIP's internal point, and any district boundaries imported since."""

from __future__ import annotations

import csv
import gzip
import sys
from collections import defaultdict
from datetime import date
from importlib import resources

import numpy as np

from runway_matching.adapters.boundaries import Boundaries
from runway_matching.domain.geography import Division, DivisionMatch, Location

# A point farther than this from every ZIP's internal point is not placed by ZIP (open sea,
# or outside the US); only imported boundaries can place it.
NEAREST_ZIP_KM = 40.0
EARTH_RADIUS_KM = 6371.0


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


class GeographyIndex:
    def __init__(
        self,
        divisions: dict[str, Division],
        by_zcta: dict[str, tuple[DivisionMatch, ...]],
        zcta_points: dict[str, tuple[float, float]],
    ) -> None:
        self.divisions = divisions
        self._by_zcta = by_zcta
        self._points = zcta_points
        self._zctas = list(zcta_points)
        coords = np.radians(np.array(list(zcta_points.values()) or [(0.0, 0.0)], dtype=np.float64))
        self._lat, self._lon = coords[:, 0], coords[:, 1]
        self.boundaries = Boundaries.empty()

    @classmethod
    def load(cls) -> GeographyIndex:
        data = resources.files("runway_matching") / "data"
        divisions: dict[str, Division] = {}
        with gzip.open(str(data / "divisions.csv.gz"), "rt", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            for ocd_id, name, kind, parent, geoid, valid_from, valid_through in reader:
                divisions[ocd_id] = Division(
                    ocd_id,
                    name,
                    sys.intern(kind),
                    parent or None,
                    geoid or None,
                    _day(valid_from),
                    _day(valid_through),
                )
        grouped: dict[str, list[DivisionMatch]] = defaultdict(list)
        with gzip.open(str(data / "zcta_divisions.csv.gz"), "rt", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            for zcta, ocd_id, kind, share in reader:  # kind: the role it plays here (DC is a county too)
                # The division's own strings, not 280,000 copies of them.
                d = divisions[ocd_id]
                match = DivisionMatch(d.ocd_id, d.name, sys.intern(kind), float(share) if share else None)
                grouped[zcta].append(match)
        points: dict[str, tuple[float, float]] = {}
        with gzip.open(str(data / "zcta_points.csv.gz"), "rt", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            for zcta, lat, lon in reader:
                points[zcta] = (float(lat), float(lon))
        return cls(divisions, {z: tuple(d) for z, d in grouped.items()}, points)

    def zip_codes(self) -> list[str]:
        """Every ZIP with a ZCTA, in order."""
        return sorted(self._points)

    def use_boundaries(self, boundaries: Boundaries) -> None:
        self.boundaries = boundaries

    def locate(self, postal_code: str | None) -> Location:
        """Divisions for a ZIP; where boundaries were imported, its internal point decides those kinds."""
        matches = self._by_zcta.get(postal_code or "", ())
        point = self._points.get(postal_code or "")
        if point is not None and self.boundaries:
            matches = self._with_boundaries(matches, point, "zip_center")
        return Location(postal_code, matches)

    def locate_point(self, latitude: float, longitude: float) -> Location:
        """Divisions for a point: imported boundaries it lies in, the rest from the nearest ZIP."""
        zcta = self.nearest_zip(latitude, longitude)
        matches = self._by_zcta.get(zcta or "", ())
        if self.boundaries:
            matches = self._with_boundaries(matches, (latitude, longitude), "point")
        return Location(zcta, matches)

    def nearest_zip(self, latitude: float, longitude: float) -> str | None:
        lat, lon = np.radians(latitude), np.radians(longitude)
        # Haversine distance to every ZIP's internal point; 34k points take well under a millisecond.
        a = (
            np.sin((self._lat - lat) / 2) ** 2
            + np.cos(lat) * np.cos(self._lat) * np.sin((self._lon - lon) / 2) ** 2
        )
        i = int(np.argmin(a))
        km = 2 * EARTH_RADIUS_KM * float(np.arcsin(np.sqrt(a[i])))
        return self._zctas[i] if self._zctas and km <= NEAREST_ZIP_KM else None

    def _with_boundaries(
        self, matches: tuple[DivisionMatch, ...], point: tuple[float, float], how: str
    ) -> tuple[DivisionMatch, ...]:
        inside = [self.divisions[i] for i in self.boundaries.containing(*point) if i in self.divisions]
        decided = {d.kind for d in inside}  # for these kinds a boundary beats a ZIP's overlap
        kept = [m for m in matches if m.kind not in decided]
        return tuple(kept + [DivisionMatch(d.ocd_id, d.name, d.kind, None, how) for d in inside])
