"""How a serving process collects cyclic garbage.

CPython's cyclic collector walks every object of a generation when it runs,
and a service's heap is mostly objects that live as long as the process
(modules, classes, routes, SQLAlchemy metadata, pydantic validators,
OpenTelemetry): every full collection walked all of them, and every request
waiting on that process waited too. Under load that was the largest part of
the ingest endpoints' p99 (decision 0015). So, once the app is built, its heap
is collected one last time and frozen (left out of every later collection),
and young collections run less often: request garbage is mostly freed by
reference counting, so a collection finds little.
"""

from __future__ import annotations

import gc

# (allocations before a young collection, young collections per middle one, middle per full)
THRESHOLDS = (10_000, 20, 10)


def settle_heap() -> None:
    """Call once the app is built, just before serving: freeze what startup made."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
