"""One database transaction holding business rows and the outbox rows they cause.

After a commit that staged events, the relay is woken so they go out at once.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from runway_eventbus.outbox import Outbox


class UnitOfWork:
    def __init__(
        self, sessions: sessionmaker[Session], outbox: Outbox, on_commit: Callable[[], None]
    ) -> None:
        self._sessions = sessions
        self.outbox = outbox
        self._on_commit = on_commit

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        staged = self.session.info.pop("outbox_staged", False)
        self.session.commit()
        if staged:
            self._on_commit()
