"""For every ZCTA in the Census ZCTA→county relationship file, Runway's primary county is the one
holding the largest share of the ZCTA's land.

The file (`tests/data/zcta_counties.csv.gz`) is a copy of `bdurand/us_geo` @ 31592c0909ee :
`data/2020_dist/zcta_counties.csv`, derived from the Census 2020 ZCTA–county relationship file
(data: US Government work; derivation MIT, see `tests/data/LICENSE-us_geo.txt`).
"""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from pathlib import Path

from runway_matching.adapters.geography_index import GeographyIndex

RELATIONSHIP_FILE = Path(__file__).resolve().parents[1] / "data" / "zcta_counties.csv.gz"
# County-equivalents the OCD division list has no id for, so no division can name them: Alaska's
# Chugach and Copper River census areas (split from Valdez-Cordova in 2019), the US Virgin Islands'
# three districts, American Samoa's districts and Saipan.
COUNTIES_WITHOUT_OCD_ID = {
    "02063",
    "02066",
    "78010",
    "78020",
    "78030",
    "60010",
    "60020",
    "60030",
    "60040",
    "60050",
    "69110",
}
# County-equivalents that are a whole district or territory, named by its own OCD id.
WHOLE_JURISDICTIONS = {
    "11001": "ocd-division/country:us/district:dc",
    "66010": "ocd-division/country:us/territory:gu",
}


def test_the_primary_county_of_every_zcta_holds_the_most_of_its_land(geography: GeographyIndex) -> None:
    county_of_geoid = {
        d.geoid: d.ocd_id for d in geography.divisions.values() if d.kind == "county" and d.geoid
    }
    county_of_geoid |= WHOLE_JURISDICTIONS
    counties: dict[str, list[tuple[float, str]]] = defaultdict(list)
    with gzip.open(RELATIONSHIP_FILE, "rt", newline="") as f:
        for row in csv.DictReader(f):
            counties[row["ZCTA5"]].append((float(row["Land Area"] or 0), row["County GEOID"]))
    assert len(counties) > 33_000

    wrong, unnamed = [], []
    for zcta, shares in counties.items():
        largest = max(area for area, _ in shares)
        expected = {geoid for area, geoid in shares if area == largest}  # ties: either is right
        if expected <= COUNTIES_WITHOUT_OCD_ID:
            unnamed.append(zcta)
            continue
        primary = geography.locate(zcta).primary("county")
        if primary is None or primary.ocd_id not in {county_of_geoid.get(g) for g in expected}:
            wrong.append((zcta, shares, primary.ocd_id if primary else None))
    assert wrong == []
    assert len(unnamed) < 40  # of 33,791
