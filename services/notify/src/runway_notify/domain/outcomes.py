"""What a channel says about one send attempt."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Accepted:
    route: str  # primary, fallback, sms
    provider_message_id: str | None = None


@dataclass(frozen=True)
class TryLater:
    """Transient: the server is down, busy or said 4xx. The message waits and is retried."""

    route: str
    detail: str


@dataclass(frozen=True)
class Rejected:
    """Permanent: retrying cannot help. `suppress` when the address itself is bad."""

    route: str
    detail: str
    suppress: bool


Outcome = Accepted | TryLater | Rejected
