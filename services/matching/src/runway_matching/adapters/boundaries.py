"""Imported district boundaries (GeoJSON) and the point-in-polygon test over them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from runway_matching.adapters.tables import boundaries as boundaries_table


@dataclass(frozen=True)
class Boundary:
    ocd_id: str
    geometry: BaseGeometry


class Boundaries:
    """An R-tree over polygons: the divisions a point lies in."""

    def __init__(self, items: list[Boundary]) -> None:
        self._ids = [b.ocd_id for b in items]
        self._tree = shapely.STRtree([b.geometry for b in items]) if items else None

    @classmethod
    def empty(cls) -> Boundaries:
        return cls([])

    @classmethod
    def from_database(cls, session: Session) -> Boundaries:
        rows = session.execute(sa.select(boundaries_table.c.ocd_id, boundaries_table.c.geometry))
        return cls([Boundary(ocd_id, shapely.from_wkb(wkb)) for ocd_id, wkb in rows])

    def __bool__(self) -> bool:
        return self._tree is not None

    def __len__(self) -> int:
        return len(self._ids)

    def containing(self, latitude: float, longitude: float) -> list[str]:
        if self._tree is None:
            return []
        hits = self._tree.query(shapely.Point(longitude, latitude), predicate="intersects")
        return [self._ids[i] for i in sorted(hits)]


def feature_geometry(feature: dict[str, Any]) -> BaseGeometry:
    """A GeoJSON feature's geometry (longitude, latitude order, as GeoJSON says)."""
    geometry = shapely.geometry.shape(feature.get("geometry") or {})
    if geometry.geom_type not in {"Polygon", "MultiPolygon"}:
        raise ValueError(f"expected a Polygon or MultiPolygon, got {geometry.geom_type}")
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    return geometry


def load_json(raw: bytes) -> dict[str, Any]:
    document = json.loads(raw)
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValueError("expected a GeoJSON FeatureCollection")
    return document
