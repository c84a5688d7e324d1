"""Composition root: builds intake's app from settings."""

from __future__ import annotations

from fastapi import FastAPI

from runway_intake.adapters import tables
from runway_intake.config import Settings
from runway_intake.entrypoints import admin_http
from runway_intake.entrypoints.http import router
from runway_intake.entrypoints.rate_limits import TokenBuckets
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
    app.state.admin_token = settings.admin_token
    app.state.rate_limits = {
        "ip": TokenBuckets(
            settings.intake_rate_per_ip_per_minute, settings.intake_rate_per_ip_per_minute / 4
        ),
        "form": TokenBuckets(
            settings.intake_rate_per_form_per_minute, settings.intake_rate_per_form_per_minute / 10
        ),
    }
    app.include_router(router)
    app.include_router(admin_http.router)
    return app
