"""Matching settings, read from `RUNWAY_*` environment variables."""

from __future__ import annotations

from runway_runtime.settings import CommonSettings


class Settings(CommonSettings):
    matching_database_url: str | None = None
    matching_port: int = 8002
    matching_reminder_days: list[int] = [14, 7, 1]  # days before filing closes
    matching_reminder_poll_seconds: float = 30.0
    # How often the public API's in-memory catalog checks whether another process changed it.
    matching_catalog_refresh_seconds: float = 5.0

    @property
    def database_url(self) -> str:
        return self.matching_database_url or self.sqlite_url("matching")
