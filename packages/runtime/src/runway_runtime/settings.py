"""Settings every service shares, read from `RUNWAY_*` environment variables."""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_ADMIN_TOKEN = "dev-admin-token"


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RUNWAY_", extra="ignore")

    environment: str = "development"
    # One server, or a cluster's servers separated by commas.
    nats_url: str = "nats://127.0.0.1:4222"
    data_dir: str = ".runway"
    admin_token: str = DEV_ADMIN_TOKEN
    otel_exporter_otlp_endpoint: str | None = None
    log_level: str = "INFO"
    # Set by `serve --workers N` in each serving process it starts: which one
    # this is, so processes sharing a database split work instead of repeating it.
    worker_index: int = 0
    workers: int = 1
    # How old an event gets before its outbox row (once published) and its inbox rows go
    # (runway_eventbus.retention); 0 keeps them forever. The inbox must outlast any copy of
    # an event that can come back: a stream keeps 30 days, and the DLQ 90 more.
    outbox_keep_days: float = 7.0
    inbox_keep_days: float = 120.0
    retention_every_seconds: float = 600.0

    def sqlite_url(self, service: str) -> str:
        return f"sqlite:///{self.data_dir}/{service}.db"

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> CommonSettings:
        if self.environment != "development" and self.admin_token == DEV_ADMIN_TOKEN:
            raise ValueError("RUNWAY_ADMIN_TOKEN must be set outside development")
        return self
