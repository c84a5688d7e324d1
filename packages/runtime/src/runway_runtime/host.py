"""Builds a service's FastAPI app around its database, telemetry and messaging."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import anyio
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from runway_eventbus.consumer import Subscription
from runway_eventbus.outbox import Outbox
from runway_eventbus.retention import Retention
from runway_eventbus.runtime import Messaging
from runway_eventbus.unit_of_work import UnitOfWork
from runway_observability.http_tracing import RequestTracing
from runway_observability.probes import probes_router
from runway_observability.tracing import create_tracer_provider, trace_engine
from runway_runtime.lean_routes import ServiceApp
from runway_runtime.settings import CommonSettings
from runway_storage import create_database_engine, database_reachable
from runway_storage.sessions import core_sessions

log = logging.getLogger(__name__)


@dataclass
class ServiceHost:
    """What a service's composition root wires its handlers and routes to."""

    name: str
    settings: CommonSettings
    engine: Engine
    sessions: sessionmaker[Session]
    registry: CollectorRegistry
    tracer_provider: TracerProvider
    outbox: Outbox
    messaging: Messaging
    # Started after messaging, stopped before it, so their last work still goes out.
    on_start: list[Callable[[], None]] = field(default_factory=list)
    on_stop: list[Callable[[], None]] = field(default_factory=list)

    def unit_of_work(self, sessions: sessionmaker[Session] | None = None) -> UnitOfWork:
        return UnitOfWork(sessions or self.sessions, self.outbox, self.messaging.wake_relay)


def create_host(
    name: str,
    settings: CommonSettings,
    database_url: str,
    outbox_table: sa.Table,
    inbox_table: sa.Table,
    subscriptions: Callable[[ServiceHost], list[Subscription]] = lambda host: [],
) -> ServiceHost:
    registry = CollectorRegistry()
    tracer_provider = create_tracer_provider(f"runway-{name}", settings.otel_exporter_otlp_endpoint)
    engine = create_database_engine(database_url)
    trace_engine(engine, tracer_provider)
    sessions = core_sessions(engine)
    messaging = Messaging(
        settings.nats_url,
        engine,
        outbox_table,
        registry,
        tracer_provider,
        relay_partition=(settings.worker_index, settings.workers),
    )
    host = ServiceHost(
        name=name,
        settings=settings,
        engine=engine,
        sessions=sessions,
        registry=registry,
        tracer_provider=tracer_provider,
        outbox=Outbox(outbox_table, source=f"/runway/{name}"),
        messaging=messaging,
    )
    for subscription in subscriptions(host):
        messaging.add_subscription(subscription)
    if settings.worker_index == 0:  # one process per service is enough; the others would wait on it
        retention = Retention(
            engine,
            outbox_table,
            inbox_table,
            registry,
            outbox_keep=_days(settings.outbox_keep_days),
            inbox_keep=_days(settings.inbox_keep_days),
            every=settings.retention_every_seconds,
        )
        host.on_start.append(retention.start)
        host.on_stop.append(retention.stop)
    return host


def _days(days: float) -> timedelta | None:
    return timedelta(days=days) if days > 0 else None


def create_service_app(host: ServiceHost, *, title: str, description: str) -> ServiceApp:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await host.messaging.start()
        for start in host.on_start:
            start()
        try:
            yield
        finally:
            # Handlers in flight wait on the service's writers: let them finish first, then
            # stop the writers (on_stop), then let the relay publish what they staged.
            await host.messaging.stop_consuming()
            for stop in host.on_stop:
                await anyio.to_thread.run_sync(stop)
            await host.messaging.stop()
            host.tracer_provider.shutdown()
            host.engine.dispose()

    app = ServiceApp(title=title, description=description, lifespan=lifespan, version="1")
    app.state.host = host
    for unavailable in (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError):
        app.add_exception_handler(unavailable, database_unavailable)

    async def database_ready() -> bool:
        return await anyio.to_thread.run_sync(database_reachable, host.engine)

    async def nats_ready() -> bool:
        return host.messaging.is_connected()

    app.include_router(
        probes_router(
            host.registry,
            {"database": database_ready, "nats": nats_ready},
            worker=host.settings.worker_index,
            workers=host.settings.workers,
        )
    )
    app.add_middleware(
        RequestTracing,
        tracer_provider=host.tracer_provider,
        excluded_paths=frozenset({"/livez", "/readyz", "/metrics"}),
    )
    return app


async def database_unavailable(_request: Request, error: Exception) -> JSONResponse:
    """The database is away (stopped, restarting, out of connections): 503, try again.

    The transaction did not commit (or, if the connection broke during COMMIT, its
    outcome is unknown to us): never a 2xx for work that may not be kept. A retry is
    safe: sign-ups resolve to the same lead, webhooks are stored once by event id.
    """
    log.warning("database unavailable: %s", str(error).splitlines()[0][:300])
    return JSONResponse(
        {"detail": "the database is unavailable; retry shortly"},
        status_code=503,
        headers={"Retry-After": "5"},
    )
