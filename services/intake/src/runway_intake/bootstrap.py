"""Composition root: builds intake's app from settings."""

from __future__ import annotations

from runway_intake.adapters import tables
from runway_intake.config import Settings
from runway_intake.entrypoints import admin_http
from runway_intake.entrypoints.form_cache import FormCache
from runway_intake.entrypoints.http import router
from runway_intake.entrypoints.rate_limits import TokenBuckets
from runway_intake.service_layer.signup_writer import SignupWriter
from runway_runtime.host import create_host, create_service_app
from runway_runtime.lean_routes import ServiceApp
from runway_storage import create_database_engine
from runway_storage.sessions import core_sessions


def create_app(settings: Settings | None = None) -> ServiceApp:
    settings = settings or Settings()
    host = create_host("intake", settings, settings.database_url, tables.outbox, tables.inbox)
    app = create_service_app(
        host,
        title="Runway intake",
        description="Accepts sign-ups from any form and keeps one lead per person.",
    )
    writer_engine = create_database_engine(settings.database_url, immediate=True)
    writer_sessions = core_sessions(writer_engine)
    threads = settings.intake_writer_threads
    writer = SignupWriter(
        lambda: host.unit_of_work(writer_sessions),
        threads=threads,
        max_batch=settings.intake_writer_max_batch,
        first_shard=settings.worker_index * threads,  # each thread of each process its own count row
    )
    host.on_start.append(writer.start)
    host.on_stop += [writer.stop, writer_engine.dispose]
    app.state.writer = writer
    app.state.forms = FormCache(host.sessions, settings.intake_form_cache_seconds)
    app.state.max_body_bytes = settings.intake_max_body_bytes
    # Buckets live in each serving process; with N processes each allows 1/N
    # of the configured rate (connections are spread across them by the kernel).
    per_ip = settings.intake_rate_per_ip_per_minute / settings.workers
    per_form = settings.intake_rate_per_form_per_minute / settings.workers
    app.state.rate_limits = {
        "ip": TokenBuckets(per_ip, max(per_ip / 4, 1)),
        "form": TokenBuckets(per_form, max(per_form / 10, 1)),
    }
    app.include_router(router)
    app.include_router(admin_http.router)
    # Every sign-up comes through these two; they take only the request (decision 0014).
    app.serve_lean(host.tracer_provider, router, "post_signup", "post_submission")
    return app
