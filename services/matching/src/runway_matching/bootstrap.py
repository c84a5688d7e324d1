"""Composition root: builds matching's app from settings."""

from __future__ import annotations

from fastapi import FastAPI

from runway_matching.adapters import tables
from runway_matching.adapters.boundaries import Boundaries
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.config import Settings
from runway_matching.entrypoints import admin_http
from runway_matching.entrypoints.http import router
from runway_matching.entrypoints.subscribers import subscriptions
from runway_matching.service_layer.live_catalog import LiveCatalog
from runway_matching.service_layer.reminders import ReminderScheduler
from runway_runtime.host import create_host, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    geography = GeographyIndex.load()
    offsets = tuple(settings.matching_reminder_days)
    host = create_host(
        "matching",
        settings,
        settings.database_url,
        tables.outbox,
        subscriptions=lambda h: subscriptions(h, geography, offsets),
    )
    app = create_service_app(
        host,
        title="Runway matching",
        description="The race catalog, and the races each person could run for near them.",
    )

    def load_boundaries() -> None:
        with host.sessions() as session:
            geography.use_boundaries(Boundaries.from_database(session))

    catalog = LiveCatalog(host.sessions, settings.matching_catalog_refresh_seconds)
    host.on_start.append(load_boundaries)
    host.on_start.append(catalog.start)
    host.on_stop.append(catalog.stop)
    scheduler = ReminderScheduler(host.unit_of_work, geography, settings.matching_reminder_poll_seconds)
    host.on_start.append(scheduler.start)
    host.on_stop.append(scheduler.stop)
    app.state.geography = geography
    app.state.catalog = catalog
    app.include_router(router)
    app.include_router(admin_http.router)
    return app
