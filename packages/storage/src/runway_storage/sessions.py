"""Sessions that run Core statements straight on their transaction's connection.

Runway maps no classes: every statement is Core (tables, `select`, `insert`,
text), and a Session only holds the transaction. For such a statement the ORM's
execution path ends in exactly `connection.execute(statement, params)`, after
bookkeeping (an execution state, bind lookup, option merging) that cost about a
sixth of each statement's CPU in donations' applier (cProfile of
benchmarks/donations_apply, 2026-11-29). `CoreSession` takes the short way
whenever the ORM would add nothing: no ORM entity in the statement, no
execution options or bind arguments, no `do_orm_execute` listener; anything
else goes through `Session` as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


class CoreSession(Session):
    def _direct(self, statement: Any, options: dict[str, Any]) -> bool:
        # `_propagate_attrs` is how SQLAlchemy itself tells an ORM statement from a Core one.
        return (
            not options
            and not self.dispatch.do_orm_execute
            and getattr(statement, "_propagate_attrs", {}).get("compile_state_plugin") != "orm"
        )

    def execute(self, statement: Any, params: Any = None, **options: Any) -> Any:
        if self._direct(statement, options):
            return self.connection().execute(statement, params)
        return super().execute(statement, params, **options)

    def scalar(self, statement: Any, params: Any = None, **options: Any) -> Any:
        if self._direct(statement, options):
            return self.connection().scalar(statement, params)
        return super().scalar(statement, params, **options)

    def scalars(self, statement: Any, params: Any = None, **options: Any) -> Any:
        if self._direct(statement, options):
            return self.connection().scalars(statement, params)
        return super().scalars(statement, params, **options)


def core_sessions(engine: Engine) -> sessionmaker[CoreSession]:
    """A sessionmaker of `CoreSession`s (objects never expire: there are none)."""
    return sessionmaker(engine, class_=CoreSession, expire_on_commit=False)
