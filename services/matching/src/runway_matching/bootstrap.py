"""Composition root: builds matching's app from settings."""

from __future__ import annotations

from fastapi import FastAPI

from runway_eventbus.group_commit import GroupCommit
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters import tables
from runway_matching.adapters.boundaries import Boundaries
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.config import Settings
from runway_matching.entrypoints import admin_http
from runway_matching.entrypoints.http import router
from runway_matching.entrypoints.subscribers import NewLead, lead_matcher, subscriptions
from runway_matching.service_layer.live_catalog import LiveCatalog
from runway_matching.service_layer.reminders import ReminderScheduler
from runway_runtime.host import create_host, create_service_app
from runway_storage import create_database_engine
from runway_storage.sessions import core_sessions


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    geography = GeographyIndex.load()
    offsets = tuple(settings.matching_reminder_days)
    # Event handling writes through one engine whose SQLite transactions take the write lock
    # up front and in turn with other processes' writers; new leads, the bulk, are matched
    # by one group-commit writer per process, many to a transaction.
    writer_engine = create_database_engine(settings.database_url, immediate=True)
    writer_sessions = core_sessions(writer_engine)

    def writer_uow() -> UnitOfWork:
        return host.unit_of_work(writer_sessions)

    lead_writer: GroupCommit[NewLead, bool] = GroupCommit(
        writer_uow,
        # The catalog is made below, once the host's sessions exist.
        lead_matcher(
            geography, offsets, lambda session, division_ids: catalog.races_in(session, division_ids)
        ),
        name="matching-lead-writer",
        max_batch=64,
    )
    host = create_host(
        "matching",
        settings,
        settings.database_url,
        tables.outbox,
        tables.inbox,
        subscriptions=lambda h: subscriptions(writer_uow, lead_writer, geography, offsets),
    )
    app = create_service_app(
        host,
        title="Runway matching",
        description="The race catalog, and the races each person could run for near them.",
    )

    def load_boundaries() -> None:
        with host.sessions() as session:
            geography.use_boundaries(Boundaries.from_database(session))

    host.on_start.append(lead_writer.start)
    host.on_stop += [lead_writer.stop, writer_engine.dispose]
    catalog = LiveCatalog(host.sessions, settings.matching_catalog_refresh_seconds)
    host.on_start.append(load_boundaries)
    host.on_start.append(catalog.start)
    host.on_stop.append(catalog.stop)
    scheduler = ReminderScheduler(writer_uow, geography, settings.matching_reminder_poll_seconds)
    host.on_start.append(scheduler.start)
    host.on_stop.append(scheduler.stop)
    app.state.geography = geography
    app.state.catalog = catalog
    app.include_router(router)
    app.include_router(admin_http.router)
    return app
