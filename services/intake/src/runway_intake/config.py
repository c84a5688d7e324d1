"""Intake settings, read from `RUNWAY_*` environment variables."""

from __future__ import annotations

from pydantic import Field

from runway_runtime.settings import CommonSettings


class Settings(CommonSettings):
    intake_database_url: str | None = None
    intake_port: int = 8001
    intake_max_body_bytes: int = 64 * 1024
    # Per serving process. One on either database: on SQLite one writer commits at a time
    # anyway; on PostgreSQL more writers split the same load into smaller batches, each paying
    # the same round trips, and took throughput down (decision 0019).
    intake_writer_threads: int = Field(1, ge=1)  # 0 would leave sign-ups waiting for no writer
    intake_writer_max_batch: int = 256
    intake_form_cache_seconds: float = 5.0
    # Per process. An event sign-up sheet behind one NAT may post hundreds a minute.
    intake_rate_per_ip_per_minute: float = 600
    intake_rate_per_form_per_minute: float = 60_000

    @property
    def database_url(self) -> str:
        return self.intake_database_url or self.sqlite_url("intake")
