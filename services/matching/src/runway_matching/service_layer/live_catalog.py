"""The race catalog held in memory for the public API, reloaded when the database's changes.

`GET /v1/races` is the busiest route and the catalog changes a few times a day,
so lookups read an immutable in-memory snapshot (one dictionary lookup per
division) instead of the database. A thread checks the catalog's revision (bumped
by every catalog write) every few seconds and swaps in a fresh snapshot when
another process changed it; this process's own imports refresh it at once.
Lead matching reads what the database holds in its own transaction (reverse
matching depends on a race being visible the moment it is committed): the
snapshot when its revision is the one committed, the database otherwise.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from runway_matching.adapters.tables import catalog_revision
from runway_matching.domain.races import Race
from runway_matching.service_layer.race_finder import all_races, race_by_id, races_in

log = logging.getLogger(__name__)
INCREMENTAL_LIMIT = 1000
UNLOADED = object()  # the version of the empty snapshot before the first load
PARTIAL = object()  # the version of a snapshot patched with this process's own writes


class CatalogSnapshot:
    def __init__(self, catalog: Iterable[Race], version: Any) -> None:
        by_division: dict[str, list[Race]] = defaultdict(list)
        by_id: dict[str, Race] = {}
        for race in catalog:
            by_division[race.division_id].append(race)
            by_id[race.race_id] = race
        self._by_division = {k: tuple(v) for k, v in by_division.items()}
        self._by_id = by_id
        self.version = version

    def with_races(self, changed: list[Race], version: Any) -> CatalogSnapshot:
        """A copy with these races added or replaced (a few races: no full reload)."""
        copy = CatalogSnapshot((), version)
        copy._by_id = {**self._by_id, **{r.race_id: r for r in changed}}
        copy._by_division = dict(self._by_division)
        ids = {r.race_id for r in changed}
        touched = {r.division_id for r in changed} | {
            self._by_id[i].division_id
            for i in ids
            if i in self._by_id  # a race that moved division
        }
        for division_id in touched:
            kept = [r for r in self._by_division.get(division_id, ()) if r.race_id not in ids]
            copy._by_division[division_id] = (*kept, *(r for r in changed if r.division_id == division_id))
        return copy

    def __len__(self) -> int:
        return len(self._by_id)

    def races_in(self, division_ids: Iterable[str]) -> list[Race]:
        found: list[Race] = []
        for division_id in dict.fromkeys(division_ids):
            found += self._by_division.get(division_id, ())
        return found

    def race(self, race_id: str) -> Race | None:
        return self._by_id.get(race_id)


_REVISION = sa.select(catalog_revision.c.revision)


def catalog_version(session: Session) -> Any:
    return session.scalar(_REVISION)


class LiveCatalog:
    def __init__(self, sessions: sessionmaker[Session], refresh_seconds: float) -> None:
        self._sessions = sessions
        self._every = refresh_seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="catalog-refresh", daemon=True)
        self.snapshot = CatalogSnapshot((), UNLOADED)

    def refresh(self, race_ids: list[str] | None = None) -> bool:
        """Reload if the catalog changed since the snapshot; True if it did.

        `race_ids`: the races this process just wrote; when the snapshot was current
        before them, only they are read.
        """
        with self._lock, self._sessions() as session:
            version = catalog_version(session)
            if version == self.snapshot.version:
                return False
            if (
                race_ids is not None
                and len(race_ids) <= INCREMENTAL_LIMIT
                and self.snapshot.version is not UNLOADED
            ):
                changed = [r for r in (race_by_id(session, i) for i in race_ids) if r is not None]
                # Another process's change in between would be missed here, so the snapshot is
                # marked partial: the next check finds the revision different and reloads it all.
                snapshot = self.snapshot.with_races(changed, PARTIAL)
            else:
                snapshot = CatalogSnapshot(all_races(session), version)
                # Hundreds of thousands of long-lived objects (this and the geography): left to the
                # cyclic collector, every full collection walks them all, a 100 ms pause in the
                # middle of requests. Frozen, it skips them; refcounting still frees old snapshots.
                gc.freeze()
        self.snapshot = snapshot  # one reference swap: readers see the old or the new, whole
        log.info("catalog snapshot loaded: %d races", len(snapshot))
        return True

    def races_in(self, session: Session, division_ids: list[str]) -> list[Race]:
        """The races in these divisions as `session`'s transaction sees the catalog.

        From the snapshot when it holds the revision the database has (one small read
        instead of the races' rows: a tenth of matching's CPU went to reading and building
        them for every batch of new leads); from the database while it does not, as between
        an import's commit and the next refresh.
        """
        snapshot = self.snapshot  # one read: a refresh may swap it meanwhile
        if snapshot.version == catalog_version(session):
            return snapshot.races_in(division_ids)
        return races_in(session, division_ids)

    def start(self) -> None:
        self.refresh()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self.refresh()
            except Exception:
                log.exception("reloading the catalog failed; keeping the last snapshot")
