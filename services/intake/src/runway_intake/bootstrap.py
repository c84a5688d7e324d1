"""Composition root: builds intake's app from settings."""

from __future__ import annotations

from fastapi import FastAPI

from runway_intake.adapters import tables
from runway_intake.config import Settings
from runway_intake.entrypoints.http import router
from runway_runtime.host import create_host, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    host = create_host("intake", settings, settings.database_url, tables.outbox)
    app = create_service_app(
        host,
        title="Runway intake",
        description="Accepts sign-ups from any form and keeps one lead per person.",
    )
    app.state.max_body_bytes = settings.intake_max_body_bytes
    app.include_router(router)
    return app
