"""Notify settings, read from `RUNWAY_*` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from runway_runtime.settings import CommonSettings

DEV_SIGNING_KEY = "dev-signing-key"


class Settings(CommonSettings):
    notify_database_url: str | None = None
    notify_port: int = 8003
    notify_public_url: str = "http://127.0.0.1:8003"  # where links in messages and provider callbacks point
    notify_signing_key: str = DEV_SIGNING_KEY

    # Email: the primary SMTP server, and a fallback used while the primary keeps failing.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = 10.0
    smtp_connections: int = 4
    smtp_fallback_host: str | None = None
    smtp_fallback_port: int = 587
    smtp_fallback_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_fallback_username: str | None = None
    smtp_fallback_password: str | None = None
    smtp_fallback_after_failures: int = 3
    smtp_fallback_cool_down_seconds: float = 30.0
    mail_from: str = "Runway <hello@runway.localhost>"

    # SMS: a Twilio-compatible Messages API. No base URL: SMS stays queued, nothing is lost.
    sms_api_base_url: str | None = None
    sms_account_sid: str = ""
    sms_auth_token: str = ""
    sms_from: str = ""  # E.164 number, or a messaging service id (MG…)
    sms_keyword_replies: bool = True  # answer STOP/START/HELP with a confirmation text

    organization_name: str = "Runway"
    organization_postal_address: str = "123 Main St, Lawrence, KS 66044"
    organization_disclaimer: str = "Paid for by Runway. Contributions are not tax deductible."

    notify_digest_hour: int = 17  # local hour the day's new-race digest goes out
    notify_dispatch_batch: int = 128
    notify_dispatch_poll_seconds: float = 1.0
    notify_give_up_after_hours: float = 72.0
    # How often events waiting for a contact another process wrote are looked for (the
    # process that writes a contact handles the events waiting for it at once).
    notify_awaiting_sweep_seconds: float = 2.0

    @property
    def database_url(self) -> str:
        return self.notify_database_url or self.sqlite_url("notify")

    @model_validator(mode="after")
    def _refuse_dev_signing_key(self) -> Settings:
        if self.environment != "development" and self.notify_signing_key == DEV_SIGNING_KEY:
            raise ValueError("RUNWAY_NOTIFY_SIGNING_KEY must be set outside development")
        if not 0 <= self.notify_digest_hour <= 23:
            raise ValueError("RUNWAY_NOTIFY_DIGEST_HOUR must be an hour, 0 to 23")
        return self
