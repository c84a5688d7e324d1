"""The shipped ZIP → division index (see data/PROVENANCE.md), held in memory."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from importlib import resources

from runway_matching.domain.geography import DivisionMatch, Location


class GeographyIndex:
    def __init__(
        self, by_zcta: dict[str, tuple[DivisionMatch, ...]], names: dict[str, tuple[str, str]]
    ) -> None:
        self._by_zcta = by_zcta
        self.divisions = names

    @classmethod
    def load(cls) -> GeographyIndex:
        data = resources.files("runway_matching") / "data"
        names: dict[str, tuple[str, str]] = {}
        with gzip.open(str(data / "divisions.csv.gz"), "rt", newline="") as f:
            for ocd_id, name, kind in csv.reader(f):
                names[ocd_id] = (name, kind)
        names.pop("ocd_id", None)
        grouped: dict[str, list[DivisionMatch]] = defaultdict(list)
        with gzip.open(str(data / "zcta_divisions.csv.gz"), "rt", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            for zcta, ocd_id, share in reader:
                name, kind = names[ocd_id]
                grouped[zcta].append(DivisionMatch(ocd_id, name, kind, float(share) if share else None))
        return cls({z: tuple(d) for z, d in grouped.items()}, names)

    def locate(self, postal_code: str | None) -> Location:
        return Location(postal_code, self._by_zcta.get(postal_code or "", ()))
