"""Composition root: builds notify's app from settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from fastapi import FastAPI

from runway_eventbus.group_commit import GroupCommit
from runway_eventbus.unit_of_work import UnitOfWork
from runway_notify.adapters import tables
from runway_notify.adapters.sms import SmsAccount, SmsSender
from runway_notify.adapters.smtp import EmailSender, SmtpServer
from runway_notify.adapters.templates import Templates
from runway_notify.adapters.time_zones import load_time_zones
from runway_notify.config import Settings
from runway_notify.entrypoints import admin_http
from runway_notify.entrypoints.http import router, sms_router
from runway_notify.entrypoints.subscribers import Received, plans, resume, subscriptions, write_events
from runway_notify.service_layer.awaiting import WaitingSweep
from runway_notify.service_layer.composing import Composer
from runway_notify.service_layer.dispatcher import Dispatcher, DispatchSettings, lease_covering
from runway_runtime.host import create_host, create_service_app
from runway_storage import create_database_engine
from runway_storage.sessions import core_sessions


def email_sender(settings: Settings) -> EmailSender:
    primary = SmtpServer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_security,
        settings.smtp_username,
        settings.smtp_password,
        settings.smtp_timeout_seconds,
    )
    fallback = (
        SmtpServer(
            settings.smtp_fallback_host,
            settings.smtp_fallback_port,
            settings.smtp_fallback_security,
            settings.smtp_fallback_username,
            settings.smtp_fallback_password,
            settings.smtp_timeout_seconds,
        )
        if settings.smtp_fallback_host
        else None
    )
    return EmailSender(
        primary,
        fallback,
        connections=settings.smtp_connections,
        trip_after=settings.smtp_fallback_after_failures,
        cool_down=settings.smtp_fallback_cool_down_seconds,
    )


def sms_sender(settings: Settings) -> SmsSender | None:
    if not settings.sms_api_base_url:
        return None
    return SmsSender(
        SmsAccount(
            base_url=settings.sms_api_base_url,
            account_sid=settings.sms_account_sid,
            auth_token=settings.sms_auth_token,
            sender=settings.sms_from,
            status_callback=settings.notify_public_url.rstrip("/") + "/v1/sms/status",
        )
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    composer = Composer(
        Templates(), settings.mail_from, settings.notify_signing_key, settings.notify_public_url
    )
    org = {
        "organization": settings.organization_name,
        "postal_address": settings.organization_postal_address,
        "disclaimer": settings.organization_disclaimer,
    }
    # Every write of the queue (events queued, sends claimed and recorded) goes through one
    # engine whose SQLite transactions take turns instead of polling for the lock.
    writer_engine = create_database_engine(settings.database_url, immediate=True)
    writer_sessions = core_sessions(writer_engine)

    def writer_uow() -> UnitOfWork:
        return host.unit_of_work(writer_sessions)

    notify_plans = plans(org, settings.notify_digest_hour)
    plan_of = {durable: plan for _, durable, _, plan in notify_plans}
    event_writer: GroupCommit[Received, int] = GroupCommit(
        writer_uow, partial(write_events, plan_of=plan_of), name="notify-event-writer", max_batch=64
    )
    host = create_host(
        "notify",
        settings,
        settings.database_url,
        tables.outbox,
        tables.inbox,
        subscriptions=lambda h: subscriptions(event_writer, notify_plans, lambda: dispatcher.wake()),
    )
    dispatcher = Dispatcher(
        writer_uow,
        composer,
        email_sender(settings),
        sms_sender(settings),
        host.tracer_provider.get_tracer("runway-notify"),
        settings=DispatchSettings(
            batch_size=settings.notify_dispatch_batch,
            lease=lease_covering(
                settings.notify_dispatch_batch, settings.smtp_connections, settings.smtp_timeout_seconds
            ),
            poll_interval=settings.notify_dispatch_poll_seconds,
            give_up_after=timedelta(hours=settings.notify_give_up_after_hours),
        ),
        registry=host.registry,
    )
    waiting_sweep = WaitingSweep(
        writer_uow,
        lambda uow, waiting: sum(resume(uow.session, waiting, plan_of, datetime.now(UTC)).values()),
        settings.notify_awaiting_sweep_seconds,
        on_queued=lambda: dispatcher.wake(),
        registry=host.registry,
    )
    app = create_service_app(
        host, title="Runway notify", description="Email and SMS, with consent, at the right hour, once."
    )
    host.on_start += [load_time_zones, event_writer.start, dispatcher.start, waiting_sweep.start]
    host.on_stop += [event_writer.stop, waiting_sweep.stop, dispatcher.stop, writer_engine.dispose]
    app.state.settings = settings
    app.state.composer = composer
    app.include_router(router)
    app.include_router(sms_router)
    app.include_router(admin_http.router)
    return app
