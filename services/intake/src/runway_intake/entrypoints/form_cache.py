"""Registered forms, read from the database at most once per form every few seconds.

Every submission needs its form; reading it per request would cost a query on
the hot path. A change made through the admin API reaches every instance
within `ttl` seconds (and this instance at once).
"""

from __future__ import annotations

import time

import anyio
from sqlalchemy.orm import Session, sessionmaker

from runway_intake.domain.forms import Form
from runway_intake.service_layer.forms_registry import load_form


class FormCache:
    def __init__(self, sessions: sessionmaker[Session], ttl: float) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._entries: dict[str, tuple[float, Form | None]] = {}

    async def get(self, key: str) -> Form | None:
        cached = self._entries.get(key)
        if cached and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        form = await anyio.to_thread.run_sync(self._load, key)
        self._entries[key] = (time.monotonic(), form)
        return form

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def _load(self, key: str) -> Form | None:
        with self._sessions() as session:
            return load_form(session, key)
