"""`runway-matching import` and `import-boundaries` as an operator runs them: exit codes, reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DOUGLAS = "ocd-division/country:us/state:ks/county:douglas"
HEADER = "source_id,office_name,office_type,level,division_id,election_name,election_date,filing_closes\n"
GOOD = f"c1,Douglas County Commission,county_commission,county,{DOUGLAS},KS general,2030-11-05,2030-06-01\n"
LATE = f"c2,Late Commission,county_commission,county,{DOUGLAS},KS general,2030-11-05,2030-12-01\n"


def matching(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNWAY_MATCHING_DATABASE_URL": f"sqlite:///{tmp_path}/matching.db"}
    command = [str(Path(sys.executable).with_name("runway-matching")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    assert matching(tmp_path, "migrate").returncode == 0
    return tmp_path


def test_a_bad_file_exits_1_with_every_error_and_a_good_one_is_applied(migrated: Path) -> None:
    bad = migrated / "bad.csv"
    bad.write_text(HEADER + GOOD + LATE)
    refused = matching(migrated, "import", str(bad), "--source", "ks-sos")
    assert refused.returncode == 1
    report = json.loads(refused.stderr)
    assert report["applied"] is False and [(e["row"], e["field"]) for e in report["errors"]] == [
        (2, "filing_closes")
    ]

    good = migrated / "good.csv"
    good.write_text(HEADER + GOOD)
    applied = matching(migrated, "import", str(good), "--source", "ks-sos")
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout)["created"] == 1
    again = matching(migrated, "import", str(good), "--source", "ks-sos")
    assert json.loads(again.stdout)["unchanged"] == 1

    unreadable = migrated / "latin1.csv"
    unreadable.write_bytes((HEADER + GOOD.replace("Douglas", "Dóuglas")).encode("latin-1"))
    refused = matching(migrated, "import", str(unreadable), "--source", "ks-sos")
    assert refused.returncode == 1 and "not UTF-8" in json.loads(refused.stderr)["file_error"]


def test_boundaries_import_all_or_nothing(migrated: Path) -> None:
    ring = [[-95.3, 38.9], [-95.2, 38.9], [-95.2, 39.0], [-95.3, 39.0], [-95.3, 38.9]]

    def feature(ocd_id: str) -> dict[str, object]:
        return {
            "type": "Feature",
            "properties": {"ocd_id": ocd_id},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }

    path = migrated / "districts.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature(DOUGLAS), feature("nowhere")]})
    )
    refused = matching(migrated, "import-boundaries", str(path))
    assert refused.returncode == 1 and json.loads(refused.stderr)["errors"][0]["row"] == 2
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature(DOUGLAS)]}))
    applied = matching(migrated, "import-boundaries", str(path))
    assert applied.returncode == 0 and json.loads(applied.stdout) == {"applied": True, "boundaries": 1}
