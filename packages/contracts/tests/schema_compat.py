"""Decides whether a contract's current JSON schema breaks readers of its snapshot.

Breaking: a field removed, a field's type changed, a field newly required, an
event type removed. Compatible: a new optional field, changed descriptions.
"""

from __future__ import annotations

from typing import Any

_IGNORED = {"title", "description", "default", "examples"}


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: resolve(v) for k, v in node.items() if k not in _IGNORED and k != "$defs"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)  # type: ignore[no-any-return]


def breaking_changes(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    if "properties" in old:
        if "properties" not in new:
            return [f"{path or '<root>'}: no longer an object"]
        problems: list[str] = []
        for name, old_prop in old["properties"].items():
            if name not in new["properties"]:
                problems.append(f"{path}.{name}: removed")
            else:
                problems += breaking_changes(old_prop, new["properties"][name], f"{path}.{name}")
        newly_required = set(new.get("required", [])) - set(old.get("required", []))
        problems += [f"{path}.{name}: now required" for name in sorted(newly_required)]
        return problems
    if old.get("type") == "array" and new.get("type") == "array":
        return breaking_changes(old.get("items", {}), new.get("items", {}), f"{path}[]")
    if "anyOf" in old and "anyOf" in new and len(old["anyOf"]) == len(new["anyOf"]):
        problems = []
        for i, (o, n) in enumerate(zip(old["anyOf"], new["anyOf"], strict=True)):
            problems += breaking_changes(o, n, f"{path}|{i}")
        return problems
    if old != new:
        return [f"{path}: type changed from {old} to {new}"]
    return []
