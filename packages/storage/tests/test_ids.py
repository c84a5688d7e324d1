"""New row ids are UUIDs that sort in the order they were made."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from runway_storage.ids import first_id_at, new_id


def test_a_new_id_is_a_canonical_version_7_uuid() -> None:
    made = new_id()
    parsed = uuid.UUID(made)
    assert str(parsed) == made
    assert parsed.version == 7


def test_ids_made_later_sort_after_earlier_ones() -> None:
    # What keeps inserts at the right edge of an index: text order is creation order.
    first = [new_id() for _ in range(1_000)]
    time.sleep(0.002)
    later = [new_id() for _ in range(1_000)]
    assert len(set(first + later)) == 2_000
    assert max(first) < min(later)


def test_the_id_carries_the_millisecond_it_was_made() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid.UUID(new_id())
    after = time.time_ns() // 1_000_000
    assert before <= made.int >> 80 <= after


def test_first_id_at_divides_the_ids_made_before_a_moment_from_those_made_after() -> None:
    before = [new_id() for _ in range(100)]
    time.sleep(0.003)
    moment = datetime.now(UTC)
    time.sleep(0.003)
    after = [new_id() for _ in range(100)]
    line = first_id_at(moment)
    assert max(before) < line < min(after)
    assert max(f"{i}.7" for i in before) < line  # a fan-out's ids share their row's prefix
