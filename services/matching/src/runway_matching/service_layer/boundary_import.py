"""Importing district boundaries (GeoJSON): after it, a point inside one is an exact match.

All or nothing, like race imports: every feature is checked (known division,
a polygon) before any is written; an import replaces the boundaries it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import shapely
from sqlalchemy.orm import Session

from runway_matching.adapters.boundaries import feature_geometry, load_json
from runway_matching.adapters.race_files import UnreadableFile
from runway_matching.adapters.tables import boundaries
from runway_matching.domain.catalog import RowError
from runway_matching.domain.geography import Division
from runway_storage import upsert


def import_boundaries(
    session: Session,
    raw: bytes,
    divisions: Mapping[str, Division],
    source: str,
    now: datetime,
    id_property: str = "ocd_id",
) -> tuple[int, list[RowError]]:
    """(boundaries written, errors); with any error nothing is written. The caller commits."""
    try:
        document = load_json(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise UnreadableFile(f"not GeoJSON: {error}") from None
    rows, errors = [], []
    for number, feature in enumerate(document.get("features") or [], start=1):
        ocd_id = str((feature.get("properties") or {}).get(id_property) or "")
        if ocd_id not in divisions:
            errors.append(RowError(number, f"properties.{id_property}", "unknown OCD division"))
            continue
        try:
            geometry = feature_geometry(feature)
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException) as error:
            errors.append(RowError(number, "geometry", str(error) or "not a GeoJSON geometry"))
            continue
        rows.append(
            {"ocd_id": ocd_id, "geometry": shapely.to_wkb(geometry), "source": source, "imported_at": now}
        )
    if errors:
        return 0, errors
    for row in rows:
        upsert(session, boundaries, row, key=["ocd_id"])
    return len(rows), []
