"""Derive matching's ZIP → division index from the public files in shared/data.

    python services/matching/tools/build_geography.py ../shared/data

Writes src/runway_matching/data/{zcta_divisions,divisions}.csv.gz. Every row
says how much of the ZCTA's land lies in the division (`share`, 0–1), or is
empty where the source gives no area (congressional districts).
"""

from __future__ import annotations

import csv
import gzip
import sys
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "runway_matching" / "data"


def rows(path: Path, delimiter: str = ",") -> csv.DictReader[str]:
    text = gzip.open(path, "rt", encoding="utf-8-sig", newline="")  # noqa: SIM115 - the reader consumes it
    return csv.DictReader(text, delimiter=delimiter)


def main(shared: Path) -> None:
    by_geoid: dict[str, tuple[str, str]] = {}  # census geoid or LEAID -> (ocd id, name)
    known_ids: dict[str, str] = {}
    for r in rows(shared / "ocd" / "country-us.csv.gz"):
        ocd, name, geoid = r["id"], r["name"], r["census_geoid"]
        known_ids[ocd] = name
        kind = ocd.rsplit("/", 1)[-1].split(":")[0]
        if geoid.startswith("place-"):
            key = geoid.removeprefix("place-")
            if kind in {"county", "parish", "borough", "census_area"} and len(key) == 5:
                by_geoid.setdefault(f"county:{key}", (ocd, name))
            elif kind == "place" and len(key) == 7:
                by_geoid.setdefault(f"place:{key}", (ocd, name))
        elif kind == "school_district" and geoid.isdigit():
            by_geoid.setdefault(f"lea:{geoid}", (ocd, name))

    state_of_fips: dict[str, str] = {}
    for r in rows(shared / "census" / "2025_Gaz_counties_national.txt.gz", "|"):
        state_of_fips[r["GEOID"][:2]] = r["USPS"].lower()

    land: dict[str, float] = {}
    for r in rows(shared / "census" / "zctas.csv.gz"):
        land[r["ZCTA5"]] = float(r["Land Area"] or 0)

    index: dict[tuple[str, str], float | None] = {}
    used: dict[str, tuple[str, str]] = {}

    def add(zcta: str, key: str, area: float | None) -> None:
        found = by_geoid.get(key)
        if zcta == "00000":  # NCES marks "no ZCTA" this way; it is not a ZIP code
            return
        if not found:
            return
        ocd, name = found
        share = None if area is None or not land.get(zcta) else min(area / land[zcta], 1.0)
        index[(zcta, ocd)] = max(share or 0.0, index.get((zcta, ocd)) or 0.0) if share else share
        used[ocd] = (name, key.split(":")[0])

    county_land: dict[str, float] = defaultdict(float)
    for r in rows(shared / "census" / "zcta_counties.csv.gz"):
        area = float(r["Land Area"] or 0)
        county_land[r["ZCTA5"]] += area
        add(r["ZCTA5"], f"county:{r['County GEOID']}", area)
        state = state_of_fips.get(r["County GEOID"][:2])
        state_id = f"ocd-division/country:us/state:{state}"
        if state and state_id in known_ids:
            index[(r["ZCTA5"], state_id)] = 1.0
            used[state_id] = (known_ids[state_id], "state")
    for r in rows(shared / "census" / "zcta_places.csv.gz"):
        area = float(r["Land Area"] or 0)
        if area > 0:  # zero-area rows are not Census places
            add(r["ZCTA5"], f"place:{r['Place GEOID']}", area)
    for r in rows(shared / "nces" / "grf21_lea_zcta5ce20.csv.gz"):
        key = f"lea:{r['LEAID']}"
        if key in by_geoid:  # NCES names read better than the OCD slugs ("lawrence")
            by_geoid[key] = (by_geoid[key][0], r["NAME_LEA21"])
        add(r["ZCTA5CE20"], key, float(r["LANDAREA"] or 0))
    for r in rows(shared / "census" / "zcta_cd119.csv.gz"):
        ocd = f"ocd-division/country:us/state:{r['state_abbr'].lower()}/cd:{int(r['cd'] or 0)}"
        if ocd in known_ids:
            index[(r["zcta"].zfill(5), ocd)] = None
            used[ocd] = (known_ids[ocd], "cd")

    OUT.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT / "zcta_divisions.csv.gz", "wt", newline="", compresslevel=9) as f:
        w = csv.writer(f)
        w.writerow(["zcta", "ocd_id", "share"])
        for (zcta, ocd), share in sorted(index.items()):
            w.writerow([zcta, ocd, "" if share is None else f"{share:.4f}"])
    with gzip.open(OUT / "divisions.csv.gz", "wt", newline="", compresslevel=9) as f:
        w = csv.writer(f)
        w.writerow(["ocd_id", "name", "kind"])
        for ocd, (name, kind) in sorted(used.items()):
            w.writerow([ocd, name, kind])
    print(f"{len(index)} ZCTA-division rows over {len({z for z, _ in index})} ZCTAs; {len(used)} divisions")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
