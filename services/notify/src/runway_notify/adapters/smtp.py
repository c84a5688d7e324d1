"""The email channel: SMTP servers with kept-open connections, and a fallback server.

Each server keeps a few connections open (connecting per message would cost
more than the message). A send that fails for reasons of the connection or a
4xx reply is transient; a 5xx refusal of the recipient is permanent and the
address is suppressed; other 5xx replies fail that message only.

When the primary server fails `trip_after` times in a row, messages go to the
fallback server (if one is configured) for `cool_down` seconds, then the
primary is tried again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiosmtplib

from runway_notify.adapters.mime import OutgoingEmail
from runway_notify.domain.outcomes import Accepted, Outcome, Rejected, TryLater

# Replies that say the mailbox does not exist or the address is malformed (RFC 5321 §4.2.2).
BAD_MAILBOX_CODES = frozenset({550, 551, 553})


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str = "none"  # none, starttls, tls
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0


class SmtpConnections:
    """Up to `size` open connections to one server, reused across messages."""

    def __init__(self, server: SmtpServer, size: int) -> None:
        self.server = server
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(size)

    def _client(self) -> aiosmtplib.SMTP:
        s = self.server
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            username=s.username,
            password=s.password,
            use_tls=s.security == "tls",
            start_tls=s.security == "starttls",  # "none" means never, not opportunistic
            timeout=s.timeout,
        )

    async def send(self, message: OutgoingEmail) -> None:
        async with self._slots:
            client = self._idle.pop() if self._idle else self._client()
            try:
                if not client.is_connected:
                    await client.connect()
                await client.sendmail(
                    message.envelope_from,
                    [message.recipient],
                    message.data,
                    mail_options=["SMTPUTF8"] if message.utf8 else (),
                )
            except aiosmtplib.SMTPRecipientsRefused:
                await _reset(client)  # the connection is still good after a refused recipient
                self._idle.append(client)
                raise
            except BaseException:
                await _close(client)
                raise
            self._idle.append(client)

    async def close(self) -> None:
        while self._idle:
            await _close(self._idle.pop())


async def _reset(client: aiosmtplib.SMTP) -> None:
    try:
        await client.rset()
    except aiosmtplib.SMTPException:
        await _close(client)


async def _close(client: aiosmtplib.SMTP) -> None:
    try:
        if client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()


def classify(error: BaseException, route: str) -> Outcome:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
        detail = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
        if codes and all(code >= 500 for code in codes):
            return Rejected(route, detail, suppress=any(code in BAD_MAILBOX_CODES for code in codes))
        return TryLater(route, detail)
    if isinstance(error, aiosmtplib.SMTPResponseException) and error.code >= 500:
        return Rejected(route, f"{error.code} {error.message}", suppress=False)
    return TryLater(route, f"{type(error).__name__}: {error}"[:500])


class EmailSender:
    """Sends through the primary server, or the fallback while the primary keeps failing."""

    def __init__(
        self,
        primary: SmtpServer,
        fallback: SmtpServer | None = None,
        *,
        connections: int = 4,
        trip_after: int = 3,
        cool_down: float = 30.0,
    ) -> None:
        self._servers = {"primary": primary, "fallback": fallback}
        self._connections_per_server = connections
        self._pools: dict[str, SmtpConnections] = {}
        self._trip_after = trip_after
        self._cool_down = cool_down
        self._primary_failures = 0
        self._primary_tripped_at: float | None = None

    def _pool(self, route: str) -> SmtpConnections:
        # Made on first use, inside the event loop that will use it.
        if route not in self._pools:
            server = self._servers[route]
            assert server is not None
            self._pools[route] = SmtpConnections(server, self._connections_per_server)
        return self._pools[route]

    def _primary_resting(self) -> bool:
        if self._primary_tripped_at is None:
            return False
        if time.monotonic() - self._primary_tripped_at >= self._cool_down:
            self._primary_tripped_at = None  # half-open: the next message probes the primary
            return False
        return True

    async def _try(self, route: str, message: OutgoingEmail) -> Outcome:
        try:
            await self._pool(route).send(message)
        except Exception as error:  # noqa: BLE001 - every failure becomes an outcome
            return classify(error, route)
        return Accepted(route)

    async def send(self, message: OutgoingEmail) -> Outcome:
        has_fallback = self._servers["fallback"] is not None
        if has_fallback and self._primary_resting():
            return await self._try("fallback", message)
        outcome = await self._try("primary", message)
        if not isinstance(outcome, TryLater):
            self._primary_failures = 0
            return outcome
        self._primary_failures += 1
        if self._primary_failures >= self._trip_after:
            self._primary_tripped_at = time.monotonic()
            self._primary_failures = 0
            if has_fallback:
                return await self._try("fallback", message)
        return outcome

    async def close(self) -> None:
        for pool in self._pools.values():
            await pool.close()
