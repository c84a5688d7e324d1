"""Composition root: builds donations' app from settings."""

from __future__ import annotations

from fastapi import FastAPI

from runway_donations.adapters import tables
from runway_donations.config import Settings
from runway_donations.entrypoints import admin_http
from runway_donations.entrypoints.http import router
from runway_donations.entrypoints.subscribers import subscriptions
from runway_runtime.host import create_host, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    host = create_host(
        "donations",
        settings,
        settings.database_url,
        tables.outbox,
        subscriptions=lambda h: subscriptions(h, settings.donations_max_failed_payments),
    )
    app = create_service_app(
        host,
        title="Runway donations",
        description="Verified payment-provider webhooks, recurring plans and an append-only ledger.",
    )
    app.state.settings = settings
    app.include_router(router)
    app.include_router(admin_http.router)
    return app
