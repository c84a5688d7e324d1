"""Composition root: builds notify's app from settings."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from runway_notify.adapters import tables
from runway_notify.adapters.sms import SmsAccount, SmsSender
from runway_notify.adapters.smtp import EmailSender, SmtpServer
from runway_notify.adapters.templates import Templates
from runway_notify.config import Settings
from runway_notify.entrypoints import admin_http
from runway_notify.entrypoints.http import router, sms_router
from runway_notify.entrypoints.subscribers import subscriptions
from runway_notify.service_layer.composing import Composer
from runway_notify.service_layer.dispatcher import Dispatcher, DispatchSettings
from runway_runtime.host import create_host, create_service_app


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
    host = create_host(
        "notify",
        settings,
        settings.database_url,
        tables.outbox,
        subscriptions=lambda h: subscriptions(h, org, settings.notify_digest_hour, lambda: dispatcher.wake()),
    )
    dispatcher = Dispatcher(
        host.unit_of_work,
        composer,
        email_sender(settings),
        sms_sender(settings),
        host.tracer_provider.get_tracer("runway-notify"),
        settings=DispatchSettings(
            batch_size=settings.notify_dispatch_batch,
            poll_interval=settings.notify_dispatch_poll_seconds,
            give_up_after=timedelta(hours=settings.notify_give_up_after_hours),
        ),
    )
    app = create_service_app(
        host, title="Runway notify", description="Email and SMS, with consent, at the right hour, once."
    )
    host.on_start.append(dispatcher.start)
    host.on_stop.append(dispatcher.stop)
    app.state.settings = settings
    app.state.composer = composer
    app.include_router(router)
    app.include_router(sms_router)
    app.include_router(admin_http.router)
    return app
