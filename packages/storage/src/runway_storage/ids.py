"""Identifiers for new rows and events: UUIDs that sort by creation time.

A random UUID (version 4) as a key sends every insert to a random leaf of
each index that holds it, so a batch of N rows dirties about N pages per
index, and each page is written to the WAL (SQLite) or the heap and WAL
(PostgreSQL) at commit. A version 7 UUID (RFC 9562) starts with the
millisecond it was made, so new keys land together at the right edge of
the index: a batch dirties a few pages, and the pages a writer touches stay
in cache. Measured on intake's sign-up writer (docs/decisions/0016).

Not for secrets: the time is readable and the rest is not meant as a token.
"""

from __future__ import annotations

from datetime import datetime

from uuid_utils import uuid7


def new_id() -> str:
    """A fresh, time-ordered UUID as its canonical 36-character text."""
    return str(uuid7())


def first_id_at(moment: datetime) -> str:
    """A text that sorts below every id `new_id` makes in `moment`'s millisecond or later,
    and above every id it made in an earlier one: "made before `moment`" (to the
    millisecond) is `id < first_id_at(moment)`, which the id's index answers. The zeros
    after the time sort below the version digit (7) every real id carries there."""
    ms = int(moment.timestamp() * 1000)
    return f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-0000-0000-000000000000"
