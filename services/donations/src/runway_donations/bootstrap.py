"""Composition root: builds donations' app from settings."""

from __future__ import annotations

from fastapi import FastAPI

from runway_donations.adapters import tables
from runway_donations.config import Settings
from runway_donations.entrypoints.http import router
from runway_runtime.host import create_host, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    host = create_host("donations", settings, settings.database_url, tables.outbox)
    app = create_service_app(
        host,
        title="Runway donations",
        description="Verified payment-provider webhooks and an append-only ledger.",
    )
    app.state.max_body_bytes = settings.donations_max_body_bytes
    app.state.stripe_secrets = settings.stripe_secrets
    app.state.stripe_tolerance = settings.stripe_tolerance_seconds
    app.include_router(router)
    return app
