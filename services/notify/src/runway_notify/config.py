"""Notify settings, read from `RUNWAY_*` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from runway_runtime.settings import CommonSettings

DEV_SIGNING_KEY = "dev-signing-key"


class Settings(CommonSettings):
    notify_database_url: str | None = None
    notify_port: int = 8003
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Runway <hello@runway.localhost>"
    organization_name: str = "Runway"
    organization_postal_address: str = "123 Main St, Lawrence, KS 66044"
    notify_public_url: str = "http://127.0.0.1:8003"
    notify_signing_key: str = DEV_SIGNING_KEY

    @property
    def database_url(self) -> str:
        return self.notify_database_url or self.sqlite_url("notify")

    @model_validator(mode="after")
    def _refuse_dev_signing_key(self) -> Settings:
        if self.environment != "development" and self.notify_signing_key == DEV_SIGNING_KEY:
            raise ValueError("RUNWAY_NOTIFY_SIGNING_KEY must be set outside development")
        return self
