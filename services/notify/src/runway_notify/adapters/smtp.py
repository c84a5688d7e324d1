"""The email channel: SMTP with optional STARTTLS/TLS and auth."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from runway_notify.config import Settings


class SmtpChannel:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, message: EmailMessage) -> None:
        s = self._settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",  # "none" means never, not opportunistic
            timeout=s.smtp_timeout_seconds,
        )
