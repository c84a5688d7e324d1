"""Composition root: builds donations' app from settings."""

from __future__ import annotations

from functools import partial

from runway_donations.adapters import tables
from runway_donations.config import Settings
from runway_donations.entrypoints import admin_http
from runway_donations.entrypoints.http import WEBHOOK_ROUTES, router
from runway_donations.entrypoints.subscribers import (
    WEBHOOK_RECEIVED_DURABLE,
    LeadFact,
    subscriptions,
    write_leads,
)
from runway_donations.service_layer.webhooks import Incoming, ToApply, apply_batch, store_batch
from runway_eventbus.group_commit import GroupCommit
from runway_eventbus.inbox import Inbox
from runway_runtime.host import create_host, create_service_app
from runway_runtime.lean_routes import ServiceApp
from runway_storage import create_database_engine
from runway_storage.sessions import core_sessions


def create_app(settings: Settings | None = None) -> ServiceApp:
    settings = settings or Settings()
    # Both write paths commit in groups, on one engine whose SQLite transactions take turns:
    # stored webhooks (one commit answers every provider waiting on it) and applied ones.
    writer_engine = create_database_engine(settings.database_url, immediate=True)
    writer_sessions = core_sessions(writer_engine)
    inbox = Inbox(tables.inbox, WEBHOOK_RECEIVED_DURABLE)
    applier: GroupCommit[ToApply, str] = GroupCommit(
        lambda: host.unit_of_work(writer_sessions),
        partial(apply_batch, max_failures=settings.donations_max_failed_payments, inbox=inbox),
        name="webhook-applier",
        # Short turns: the writer that answers providers gets the database between them.
        # On SQLite a turn excludes every writer of every serving process, and an applier's
        # turn lasts as long as its Python work: 4 events, not 16, took accepting at 300/s
        # from p99 217 to 85 ms (benchmarks/results/donations.md). PostgreSQL has no such
        # turns and applies more per round trip in bigger batches.
        max_batch=4 if settings.database_url.startswith("sqlite") else 16,
    )
    writer: GroupCommit[Incoming, str] = GroupCommit(
        lambda: host.unit_of_work(writer_sessions), store_batch, name="webhook-writer"
    )
    lead_writer: GroupCommit[LeadFact, bool] = GroupCommit(
        lambda: host.unit_of_work(writer_sessions), write_leads, name="lead-writer", max_batch=64
    )
    host = create_host(
        "donations",
        settings,
        settings.database_url,
        tables.outbox,
        tables.inbox,
        subscriptions=lambda h: subscriptions(applier, lead_writer),
    )
    app = create_service_app(
        host,
        title="Runway donations",
        description="Verified payment-provider webhooks, recurring plans and an append-only ledger.",
    )
    app.state.settings = settings
    host.on_start += [writer.start, applier.start, lead_writer.start]
    host.on_stop += [writer.stop, applier.stop, lead_writer.stop, writer_engine.dispose]
    app.state.webhook_writer = writer
    app.include_router(router)
    app.include_router(admin_http.router)
    # Every provider's webhooks come through these; they take only the request (decision 0014).
    app.serve_lean(host.tracer_provider, router, *WEBHOOK_ROUTES)
    return app
