"""Group commit: one commit per batch; a failing item fails alone; nothing after stop."""

from __future__ import annotations

import queue
import threading
from typing import Any

import pytest

from runway_eventbus.group_commit import GroupCommit, WriterStopped, take_batch


class FakeUnitOfWork:
    def __init__(self, log: list[list[int]]) -> None:
        self.log = log
        self.pending: list[int] = []

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.pending = []  # not committed: nothing kept

    def commit(self) -> None:
        self.log.append(self.pending)


def test_queued_items_share_one_commit_and_a_bad_item_fails_alone() -> None:
    commits: list[list[int]] = []
    batches: list[list[int]] = []

    def write_batch(uow: FakeUnitOfWork, items: list[int]) -> list[str]:
        batches.append(list(items))
        if 13 in items:
            raise ValueError("unlucky")
        uow.pending = list(items)
        return [f"ok {i}" for i in items]

    writer: GroupCommit[int, str] = GroupCommit(lambda: FakeUnitOfWork(commits), write_batch, name="test")  # type: ignore[arg-type]
    futures = [writer.submit(i) for i in (1, 2, 13, 4)]  # queued before the writer starts: one batch
    writer.start()
    assert [futures[i].result(5) for i in (0, 1, 3)] == ["ok 1", "ok 2", "ok 4"]
    with pytest.raises(ValueError, match="unlucky"):
        futures[2].result(5)
    assert batches == [[1, 2, 13, 4], [1], [2], [13], [4]]  # together, then each on its own
    assert commits == [[1], [2], [4]]  # 13's failure kept nothing of it, and cost the others nothing

    more = [writer.submit(i) for i in range(20, 40)]
    assert [f.result(5) for f in more] == [f"ok {i}" for i in range(20, 40)]
    writer.stop()
    with pytest.raises(WriterStopped):
        writer.submit(99)


def test_an_item_whose_waiter_gave_up_is_not_written_and_the_writer_carries_on() -> None:
    commits: list[list[int]] = []

    def write_batch(uow: FakeUnitOfWork, items: list[int]) -> list[str]:
        uow.pending = list(items)
        return [f"ok {i}" for i in items]

    writer: GroupCommit[int, str] = GroupCommit(lambda: FakeUnitOfWork(commits), write_batch, name="test")  # type: ignore[arg-type]
    given_up, kept = writer.submit(1), writer.submit(2)
    assert given_up.cancel()  # its request was cancelled while queued (a shutdown's grace ran out)
    writer.start()
    assert kept.result(5) == "ok 2"
    assert writer.submit(3).result(5) == "ok 3"  # the writer thread is still there
    assert commits == [[2], [3]]
    assert not kept.cancel()  # a taken item can no longer be cancelled, so its answer always lands
    writer.stop()


def test_a_lingering_batch_takes_what_arrives_shortly_after_its_first_item() -> None:
    def second_later(pending: queue.Queue[int | None]) -> None:
        pending.put(1)
        threading.Timer(0.05, pending.put, (2,)).start()

    pending: queue.Queue[int | None] = queue.Queue()
    second_later(pending)
    assert take_batch(pending, 10) == [1]  # no linger: what is queued, now
    assert take_batch(pending, 10) == [2]
    second_later(pending)
    assert take_batch(pending, 10, linger=1.0) == [1, 2]
    # Full, or the stop marker, ends the wait early.
    for item in (3, 4, None):
        pending.put(item)
    assert take_batch(pending, 2, linger=5.0) == [3, 4]
    assert take_batch(pending, 10, linger=5.0) is None
