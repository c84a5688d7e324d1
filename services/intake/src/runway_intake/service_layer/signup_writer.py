"""Group commit: one writer takes every queued sign-up and commits them together.

Each HTTP request hands its Signup to the writer and waits. The writer thread
takes whatever is queued (up to `max_batch`), runs them in one transaction,
commits once, then answers every waiter. A request is answered 202 only after
the commit that holds it. Batches form by themselves under load (no waiting
for a batch to fill), so a lone request pays one commit, and a burst pays one
commit per batch instead of one per row.

If anything in a batch fails, nothing of it was kept, and each of its
sign-ups is then written in a transaction of its own (with retries), so a
failure is only ever its own sign-up's.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry.context import Context

from runway_eventbus.group_commit import take_batch
from runway_eventbus.unit_of_work import UnitOfWork
from runway_intake.domain.signup import Signup
from runway_intake.service_layer.signup_batches import MergeNeeded, write_batch
from runway_intake.service_layer.signups import (
    Accepted,
    IdempotencyKey,
    IdempotencyKeyReused,
    accept_in,
    accept_signup,
    apply_lead_count,
)

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    signup: Signup
    idempotency: IdempotencyKey | None
    future: Future[Accepted]
    trace_context: Context  # the request's, so its event joins the request's trace


class WriterStopped(RuntimeError):
    pass


class SignupWriter:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        *,
        threads: int = 1,
        max_batch: int = 256,
        first_shard: int = 0,
    ) -> None:
        self._uow_factory = uow_factory
        self._max_batch = max_batch
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._threads = [
            threading.Thread(
                target=self._run, args=(first_shard + i,), name=f"signup-writer-{i}", daemon=True
            )
            for i in range(threads)
        ]
        self._stopped = False

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Finish everything queued, then stop."""
        self._stopped = True
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)

    def submit(self, signup: Signup, idempotency: IdempotencyKey | None = None) -> Future[Accepted]:
        if self._stopped:
            raise WriterStopped("intake is shutting down")
        future: Future[Accepted] = Future()
        self._queue.put(_Pending(signup, idempotency, future, otel_context.get_current()))
        return future

    async def accept(self, signup: Signup, idempotency: IdempotencyKey | None = None) -> Accepted:
        return await asyncio.wrap_future(self.submit(signup, idempotency))

    def _run(self, shard: int) -> None:
        while (batch := take_batch(self._queue, self._max_batch)) is not None:
            self._write(batch, shard)

    def _write(self, batch: list[_Pending], shard: int) -> None:
        # A request given up while queued (its task cancelled: a shutdown's grace ran out)
        # is not written; one taken here can no longer be cancelled, so answering it never
        # fails (setting a cancelled future's result would raise and end this thread).
        batch = [item for item in batch if item.future.set_running_or_notify_cancel()]
        if not batch:
            return
        try:
            outcomes = self._together(batch, shard)
        except Exception as error:
            # Something in the batch failed (a constraint race with another writer,
            # a lost connection): nothing of it was kept. Each sign-up now gets its
            # own transaction, with retries, so one failure stays its own.
            log.info("sign-up batch of %d retried one by one: %s", len(batch), error)
            outcomes = [self._alone(item) for item in batch]
        for item, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                item.future.set_exception(outcome)
            else:
                item.future.set_result(outcome)

    def _together(self, batch: list[_Pending], shard: int) -> list[Accepted | BaseException]:
        """The fast path: the batch in one transaction, one look-up, one write, one commit.

        A batch that merges two leads was only read so far; it goes through
        the per-sign-up rules instead, still in this one transaction.
        """
        outcomes: list[Accepted | BaseException] = []
        with self._uow_factory() as uow:
            try:
                outcomes = write_batch(
                    uow, [(item.signup, item.idempotency, item.trace_context) for item in batch], shard
                )
            except MergeNeeded:
                for item in batch:
                    token = otel_context.attach(item.trace_context)
                    try:
                        outcomes.append(accept_in(uow, item.signup, item.idempotency))
                    except IdempotencyKeyReused as refused:  # raised before it wrote anything
                        outcomes.append(refused)
                    finally:
                        otel_context.detach(token)
            apply_lead_count(uow.session, shard)
            uow.commit()
        return outcomes

    def _alone(self, item: _Pending) -> Accepted | BaseException:
        token = otel_context.attach(item.trace_context)
        try:
            return accept_signup(item.signup, self._uow_factory, item.idempotency)
        except Exception as error:
            return error
        finally:
            otel_context.detach(token)
