"""Derive matching's ZIP → division index from the public files in shared/data.

    python services/matching/tools/build_geography.py ../shared/data

Writes src/runway_matching/data/:
- divisions.csv.gz: every US OCD division (precincts left out) with its kind,
  parent, Census GEOID (or NCES LEAID) and validity dates;
- zcta_divisions.csv.gz: ZCTA → division, with how much of the ZCTA's land lies
  in the division (`share`, 0–1), empty where the source gives no area
  (congressional districts);
- zcta_points.csv.gz: each ZCTA's internal point (for a latitude/longitude
  without imported boundaries, and as the point of a ZIP when they are).
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


def _day(text: str, month_day: str) -> str:
    """A validity date as YYYY-MM-DD; a year alone means its first (from) or last (through) day."""
    text = text.strip()
    return f"{text}-{month_day}" if len(text) == 4 else text


COUNTY_KINDS = {"county", "parish", "borough", "census_area", "municipio"}
# The kind Runway calls a division by, from the last part of its OCD id (others keep theirs).
KINDS = {**dict.fromkeys(COUNTY_KINDS, "county"), "school_district": "lea"}


# The role a division plays for a ZCTA, by the relationship file that linked them.
ROLES = {"county": "county", "place": "place", "town": "place", "lea": "lea"}
# Census county-equivalents OCD names differently.
RENAMED_COUNTIES = {
    "02158": ("ocd-division/country:us/state:ak/census_area:wade_hampton", "Kusilvak Census Area"),  # 2015
    "69100": ("ocd-division/country:us/territory:mp/municipality:rota", "Rota Municipality"),
    "69120": ("ocd-division/country:us/territory:mp/municipality:tinian", "Tinian Municipality"),
}
WHOLE_JURISDICTION_COUNTIES = {  # the county-equivalent is the whole district or territory
    "11001": "ocd-division/country:us/district:dc",
    "66010": "ocd-division/country:us/territory:gu",
}


def jurisdiction(code: str, known_ids: dict[str, str]) -> str:
    """The OCD id of a state, DC or a territory (OCD keeps `state:dc` only as an alias)."""
    for kind in ("state", "district", "territory"):
        ocd = f"ocd-division/country:us/{kind}:{code}"
        if known_ids.get(ocd):
            return ocd
    return f"ocd-division/country:us/state:{code}"


def main(shared: Path) -> None:
    by_geoid: dict[str, tuple[str, str]] = {}  # census geoid or LEAID -> (ocd id, name)
    known_ids: dict[str, str] = {}
    catalog: dict[str, list[str]] = {}  # every division: ocd id -> the divisions.csv row
    for r in rows(shared / "ocd" / "country-us.csv.gz"):
        ocd, name, geoid = r["id"], r["name"], r["census_geoid"]
        known_ids[ocd] = name
        kind = ocd.rsplit("/", 1)[-1].split(":")[0]
        catalog[ocd] = [
            ocd,
            name,
            KINDS.get(kind, kind),
            ocd.rsplit("/", 1)[0] if "/" in ocd[15:] else "",
            geoid.removeprefix("place-"),
            _day(r["validFrom"], "01-01"),
            _day(r["validThrough"], "12-31"),
        ]
        if geoid.startswith("place-"):
            key = geoid.removeprefix("place-")
            if kind in COUNTY_KINDS and len(key) == 5:
                by_geoid.setdefault(f"county:{key}", (ocd, name))
            elif kind == "place" and len(key) == 7:
                by_geoid.setdefault(f"place:{key}", (ocd, name))
            elif kind == "place" and len(key) == 10:  # towns and townships (county subdivisions)
                by_geoid.setdefault(f"town:{key}", (ocd, name))
        elif kind == "school_district" and geoid.isdigit():
            by_geoid.setdefault(f"lea:{geoid}", (ocd, name))

    state_of_fips: dict[str, str] = {}
    for r in rows(shared / "census" / "2025_Gaz_counties_national.txt.gz", "|"):
        state_of_fips[r["GEOID"][:2]] = r["USPS"].lower()
        # Counties OCD knows by another GEOID (renamed: Oglala Lakota was Shannon) or by none
        # (independent cities like Baltimore, St. Louis and Virginia's, which OCD lists as
        # `county:<slug>` without a name): find them by name and take the current Census GEOID.
        if f"county:{r['GEOID']}" not in by_geoid:
            slug = r["NAME"].lower().replace(".", "").replace(" ", "_").replace("'", "~")
            state = r["USPS"].lower()
            candidates = [
                f"{kind}:{slug.removesuffix('_' + kind)}" for kind in ("county", "parish", "borough")
            ]
            candidates += [
                f"census_area:{slug.removesuffix('_census_area')}",
                f"county:{slug.removesuffix('_city')}",
                f"municipality:{slug.removesuffix('_municipality')}",
            ]
            for candidate in candidates:
                ocd = f"{jurisdiction(state, known_ids)}/{candidate}"
                if ocd in catalog:
                    catalog[ocd][1:5] = [catalog[ocd][1] or r["NAME"], "county", catalog[ocd][3], r["GEOID"]]
                    by_geoid[f"county:{r['GEOID']}"] = (ocd, catalog[ocd][1])
                    break

    for geoid, (ocd, name) in RENAMED_COUNTIES.items():
        by_geoid[f"county:{geoid}"] = (ocd, name)
        catalog[ocd][1:5] = [name, "county", catalog[ocd][3], geoid]
    for geoid, ocd in WHOLE_JURISDICTION_COUNTIES.items():
        by_geoid[f"county:{geoid}"] = (ocd, catalog[ocd][1])

    land: dict[str, float] = {}
    for r in rows(shared / "census" / "zctas.csv.gz"):
        land[r["ZCTA5"]] = float(r["Land Area"] or 0)

    # (zcta, ocd id, the role the division plays for the ZCTA) -> land share
    index: dict[tuple[str, str, str], float | None] = {}
    used: dict[str, tuple[str, str]] = {}

    def add(zcta: str, key: str, area: float | None) -> None:
        found = by_geoid.get(key)
        if zcta == "00000":  # NCES marks "no ZCTA" this way; it is not a ZIP code
            return
        if not found:
            return
        ocd, name = found
        role = ROLES[key.split(":")[0]]
        share = None if area is None or not land.get(zcta) else min(area / land[zcta], 1.0)
        before = index.get((zcta, ocd, role)) or 0.0
        index[(zcta, ocd, role)] = max(share or 0.0, before) if share else share
        used[ocd] = (name, catalog[ocd][2])

    county_land: dict[str, float] = defaultdict(float)
    for r in rows(shared / "census" / "zcta_counties.csv.gz"):
        area = float(r["Land Area"] or 0)
        county_land[r["ZCTA5"]] += area
        add(r["ZCTA5"], f"county:{r['County GEOID']}", area)
        state = state_of_fips.get(r["County GEOID"][:2])
        if state:
            state_id = jurisdiction(state, known_ids)
            index[(r["ZCTA5"], state_id, "state")] = 1.0
            used[state_id] = (known_ids[state_id], "state")
    for r in rows(shared / "census" / "zcta_places.csv.gz"):
        area = float(r["Land Area"] or 0)
        if area > 0:  # zero-area rows are not Census places
            add(r["ZCTA5"], f"place:{r['Place GEOID']}", area)
    for r in rows(shared / "census" / "zcta_county_subdivisions.csv.gz"):
        area = float(r["Land Area"] or 0)
        if area > 0:
            add(r["ZCTA5"], f"town:{r['County Subdivision GEOID']}", area)
    for r in rows(shared / "nces" / "grf21_lea_zcta5ce20.csv.gz"):
        key = f"lea:{r['LEAID']}"
        if key in by_geoid:  # NCES names read better than the OCD slugs ("lawrence")
            by_geoid[key] = (by_geoid[key][0], r["NAME_LEA21"])
        add(r["ZCTA5CE20"], key, float(r["LANDAREA"] or 0))
    for r in rows(shared / "census" / "zcta_cd119.csv.gz"):
        ocd = f"ocd-division/country:us/state:{r['state_abbr'].lower()}/cd:{int(r['cd'] or 0)}"
        if ocd in known_ids:
            index[(r["zcta"].zfill(5), ocd, "cd")] = None
            used[ocd] = (known_ids[ocd], "cd")

    OUT.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT / "zcta_divisions.csv.gz", "wt", newline="", compresslevel=9) as f:
        w = csv.writer(f)
        w.writerow(["zcta", "ocd_id", "kind", "share"])
        for (zcta, ocd, role), share in sorted(index.items()):
            w.writerow([zcta, ocd, role, "" if share is None else f"{share:.6f}"])
    for ocd, (name, _kind) in used.items():
        catalog[ocd][1] = name  # the NCES name where it reads better than the OCD slug
    with gzip.open(OUT / "divisions.csv.gz", "wt", newline="", compresslevel=9) as f:
        w = csv.writer(f)
        w.writerow(["ocd_id", "name", "kind", "parent_id", "geoid", "valid_from", "valid_through"])
        for ocd in sorted(catalog):
            w.writerow(catalog[ocd])
    with gzip.open(OUT / "zcta_points.csv.gz", "wt", newline="", compresslevel=9) as f:
        w = csv.writer(f)
        w.writerow(["zcta", "latitude", "longitude"])
        for r in rows(shared / "census" / "2025_Gaz_zcta_national.txt.gz", "|"):
            w.writerow([r["GEOID"], r["INTPTLAT"].strip(), r["INTPTLONG"].strip()])
    zctas = len({z for z, _, _ in index})
    print(f"{len(index)} ZCTA-division rows over {zctas} ZCTAs; {len(used)} of {len(catalog)} divisions")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
