"""A serving process freezes its startup heap and collects young garbage less often."""

from __future__ import annotations

import json
import subprocess
import sys

from runway_runtime.garbage import THRESHOLDS


def test_settle_heap_freezes_what_startup_made() -> None:
    # In a process of its own: freezing is for the whole process, not for the test run.
    script = (
        "import gc, json; from runway_runtime.garbage import settle_heap; "
        "import runway_runtime.host; "  # a service's startup imports: something to freeze
        "before = gc.get_freeze_count(); settle_heap(); "
        "print(json.dumps([before, gc.get_freeze_count(), gc.get_threshold()]))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    before, frozen, thresholds = json.loads(out)
    assert before == 0
    assert frozen > 10_000  # modules, classes, functions: out of every later collection
    assert tuple(thresholds) == THRESHOLDS
