"""Group commit: one commit per batch; a failing item fails alone; nothing after stop."""

from __future__ import annotations

from typing import Any

import pytest

from runway_eventbus.group_commit import GroupCommit, WriterStopped


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
