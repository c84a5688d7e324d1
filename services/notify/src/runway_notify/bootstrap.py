"""Composition root: builds notify's app from settings."""

from __future__ import annotations

from email.message import EmailMessage

from fastapi import FastAPI

from runway_notify.adapters import tables
from runway_notify.adapters.smtp import SmtpChannel
from runway_notify.adapters.templates import Templates
from runway_notify.config import Settings
from runway_notify.domain.unsubscribe_tokens import make_token
from runway_notify.entrypoints.http import router
from runway_notify.entrypoints.subscribers import subscriptions
from runway_notify.service_layer.email_delivery import EmailComposer
from runway_runtime.host import create_host, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    base = settings.notify_public_url.rstrip("/")
    composer = EmailComposer(
        Templates(),
        settings.mail_from,
        lambda address: f"{base}/v1/unsubscribe/{make_token(settings.notify_signing_key, 'email', address)}",
    )
    channel = SmtpChannel(settings)

    async def send(message: EmailMessage) -> None:
        await channel.send(message)

    org = {"organization": settings.organization_name, "postal_address": settings.organization_postal_address}
    host = create_host(
        "notify",
        settings,
        settings.database_url,
        tables.outbox,
        subscriptions=lambda h: subscriptions(h, composer, send, org),
    )
    app = create_service_app(
        host, title="Runway notify", description="Email and SMS, with consent, at the right hour, once."
    )
    app.state.signing_key = settings.notify_signing_key
    app.include_router(router)
    return app
