"""New row ids are UUIDs that sort in the order they were made."""

from __future__ import annotations

import time
import uuid

from runway_storage.ids import new_id


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
