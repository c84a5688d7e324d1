"""Donations settings, read from `RUNWAY_*` environment variables."""

from __future__ import annotations

from runway_runtime.settings import CommonSettings


class Settings(CommonSettings):
    donations_database_url: str | None = None
    donations_port: int = 8004
    donations_max_body_bytes: int = 256 * 1024
    stripe_webhook_secret: str | None = None
    stripe_tolerance_seconds: int = 300
    # ActBlue authenticates its webhooks with HTTP Basic credentials the receiver chooses.
    actblue_username: str | None = None
    actblue_password: str | None = None
    anedot_webhook_secret: str | None = None
    # A recurring plan is failed (dunning gave up) after this many failed payments in a row.
    donations_max_failed_payments: int = 3
    # Aggregate (cents) above which a donor must be itemized with employer and occupation.
    # JSON object of jurisdiction → cents; "federal" is the FEC's $200.
    donations_itemization_thresholds: dict[str, int] = {"federal": 20_000}

    @property
    def database_url(self) -> str:
        return self.donations_database_url or self.sqlite_url("donations")

    @property
    def stripe_secrets(self) -> list[str]:
        """Comma-separated, so an old and a new secret both verify while rotating."""
        return [s.strip() for s in (self.stripe_webhook_secret or "").split(",") if s.strip()]
