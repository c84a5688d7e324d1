"""Every published event's JSON schema is pinned by a snapshot in schemas/.

Run with RUNWAY_UPDATE_SCHEMAS=1 to record a compatible change (or a new event).
A breaking change to a `.v1` contract fails: publish a `.v2` class beside it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from schema_compat import breaking_changes, inline_refs

from runway_contracts import EVENT_TYPES

SNAPSHOTS = Path(__file__).parents[1] / "schemas"
UPDATE = os.environ.get("RUNWAY_UPDATE_SCHEMAS") == "1"


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_event_schema_is_compatible_with_its_snapshot(event_type: str) -> None:
    current = EVENT_TYPES[event_type].model_json_schema()
    snapshot = SNAPSHOTS / f"{event_type}.json"
    if UPDATE:
        snapshot.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert snapshot.exists(), f"{event_type} has no snapshot: run with RUNWAY_UPDATE_SCHEMAS=1"
    old = inline_refs(json.loads(snapshot.read_text()))
    problems = breaking_changes(old, inline_refs(current))
    assert not problems, f"breaking change to {event_type}; publish a new version: {problems}"


def test_no_published_event_type_has_disappeared() -> None:
    recorded = {p.name.removesuffix(".json") for p in SNAPSHOTS.glob("*.json")}
    assert recorded <= set(EVENT_TYPES), f"removed without a successor: {recorded - set(EVENT_TYPES)}"


def test_the_checker_flags_removed_retyped_and_newly_required_fields() -> None:
    old = {
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}, "c": {"type": "string"}},
        "required": ["a"],
    }
    new = {
        "properties": {"a": {"type": "integer"}, "c": {"type": "string"}, "d": {"type": "string"}},
        "required": ["a", "c"],
    }
    assert breaking_changes(old, new) == [
        ".a: type changed from {'type': 'string'} to {'type': 'integer'}",
        ".b: removed",
        ".c: now required",
    ]


def test_the_checker_accepts_a_new_optional_field() -> None:
    old = {"properties": {"a": {"type": "string"}}, "required": ["a"]}
    new = {"properties": {"a": {"type": "string"}, "z": {"type": "string"}}, "required": ["a"]}
    assert breaking_changes(old, new) == []
