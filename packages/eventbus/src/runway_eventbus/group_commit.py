"""Group commit: many requests' small writes in one transaction, one commit, then every answer.

A request hands its item to the writer and waits; the writer thread takes
whatever is queued (up to `max_batch`), runs `write_batch` on it in one unit of
work, commits once and answers each waiter — so a 2xx still means "committed".
Batches form by themselves under load; a lone request pays one commit. An
item's answer may be an exception (`write_batch` refusing one item while the
rest commits); that waiter gets the exception. If the batch itself fails, nothing of it was kept, and each item
is written again in a transaction of its own, so a failure is only ever its own
item's.

(intake's SignupWriter is the same idea with sign-up-specific fast and slow
paths; see docs/decisions/0007.)
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from runway_eventbus.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
Item = TypeVar("Item")
Result = TypeVar("Result")


def take_batch(pending: queue.Queue[Any], max_batch: int, linger: float = 0.0) -> list[Any] | None:
    """Wait for one queued item, then take whatever else is queued, up to `max_batch` —
    or whatever else arrives within `linger` seconds of the first.

    None (the stop marker) ends the batch and stays queued for the next taker,
    so every writer thread finishes what it holds, then stops. Returns None
    when the first thing found is the stop marker.
    """
    first = pending.get()
    if first is None:
        pending.put(None)
        return None
    batch = [first]
    until = time.monotonic() + linger
    while len(batch) < max_batch:
        try:
            wait = until - time.monotonic()
            item = pending.get(timeout=wait) if wait > 0 else pending.get_nowait()
        except queue.Empty:
            break
        if item is None:
            pending.put(None)
            break
        batch.append(item)
    return batch


class WriterStopped(RuntimeError):
    """The service is shutting down: nothing was written; the caller should answer 503."""


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        write_batch: Callable[[UnitOfWork, list[Item]], Sequence[Result | Exception]],
        *,
        name: str,
        max_batch: int = 256,
        linger: float = 0.0,
    ) -> None:
        self._uow_factory = uow_factory
        self._write_batch = write_batch
        self._max_batch = max_batch
        # Seconds a batch waits for more after its first item: fewer, larger transactions for
        # writers nobody waits on, at the price of that much latency (0: a lone item is written
        # at once; under load batches form anyway).
        self._linger = linger
        self._queue: queue.Queue[tuple[Item, Future[Result]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._stopped = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Write everything already queued, then stop."""
        self._stopped = True
        self._queue.put(None)
        self._thread.join(timeout=30)

    def submit(self, item: Item) -> Future[Result]:
        if self._stopped:
            raise WriterStopped("shutting down")
        future: Future[Result] = Future()
        self._queue.put((item, future))
        return future

    async def write(self, item: Item) -> Result:
        return await asyncio.wrap_future(self.submit(item))

    def _run(self) -> None:
        while (batch := take_batch(self._queue, self._max_batch, self._linger)) is not None:
            self._write(batch)

    def _write(self, batch: list[tuple[Item, Future[Result]]]) -> None:
        # An item whose waiter gave up while it was queued (its task cancelled) is not
        # written; one taken here can no longer be cancelled, so answering it never fails
        # (setting a cancelled future's result raises, and would end this thread).
        batch = [(item, future) for item, future in batch if future.set_running_or_notify_cancel()]
        if not batch:
            return
        try:
            results: list[Result | BaseException] = list(self._together([item for item, _ in batch]))
        except Exception as error:
            log.info("batch of %d written one by one: %s", len(batch), error)
            results = [self._alone(item) for item, _ in batch]
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    def _together(self, items: list[Item]) -> Sequence[Result | Exception]:
        with self._uow_factory() as uow:
            results = self._write_batch(uow, items)
            uow.commit()
        return results

    def _alone(self, item: Item) -> Result | BaseException:
        try:
            return self._together([item])[0]
        except Exception as error:
            return error
