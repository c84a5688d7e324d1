"""A registered form, and how its own field names become the canonical lead.

Forms post in their own vocabulary: nested JSON, bracketed keys
(`q3_name[first]`), repeated keys. Everything is flattened to dot paths
(`q3_name.first`), the form's mapping picks the canonical fields, optional
value maps translate choices ("School Board" -> "school_board"), and every
field the mapping does not use is kept verbatim as a custom field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

CANONICAL_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "full_name",
        "email",
        "phone",
        "street",
        "city",
        "state",
        "zip",
        "birth_date",
        "age",
        "interests",
        "email_consent",
        "sms_consent",
        "consent_wording",
        "tags",
        "refcode",
        "utm_source",
        "utm_medium",
        "utm_campaign",
    }
)
_BRACKETS = re.compile(r"\[([^\]]*)\]")


@dataclass(frozen=True)
class Form:
    key: str
    name: str
    owner: str
    mapping: dict[str, str]  # canonical field -> the form's field path
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    default_tags: tuple[str, ...] = ()
    default_source: str | None = None
    default_refcode: str | None = None
    consent_wording: str | None = None  # shown on the form when it does not post its own
    allowed_origins: tuple[str, ...] = ()
    auth: str = "none"  # none, hmac, bearer
    secret: str | None = None
    thank_you_url: str | None = None
    honeypot_field: str | None = "website"
    active: bool = True

    @cached_property
    def canonical_by_path(self) -> dict[str, str]:
        """The mapping read backwards: a submitted field's path -> its canonical name."""
        return {normalize_path(path): canonical for canonical, path in self.mapping.items()}


def normalize_path(name: str) -> str:
    """`q3_name[first]` and `q3_name.first` name the same field."""
    if "[" not in name and not name.startswith(".") and not name.endswith("."):
        return name  # most names: nothing to rewrite, and no regex to run
    return _BRACKETS.sub(lambda m: "." + m.group(1) if m.group(1) else "", name).strip(".")


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects become dot paths; lists of scalars stay lists (multi-choice answers)."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            path = normalize_path(f"{prefix}.{key}" if prefix else str(key))
            flat |= flatten(inner, path)
        return flat
    if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        flat = {}
        for index, item in enumerate(value):
            flat |= flatten(item, f"{prefix}.{index}")
        return flat
    return {prefix: value}


@dataclass(frozen=True)
class MappedSubmission:
    fields: dict[str, Any]  # canonical name -> raw value (not yet validated)
    custom_fields: dict[str, Any]


def apply_mapping(form: Form, flat: dict[str, Any]) -> MappedSubmission:
    by_path = form.canonical_by_path
    fields: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for path, value in flat.items():
        canonical = by_path.get(path)
        if canonical is None:
            if path != form.honeypot_field:
                custom[path] = value
            continue
        choices = form.value_maps.get(canonical)
        if choices:
            value = (
                [choices.get(v, v) for v in value] if isinstance(value, list) else choices.get(value, value)
            )
        fields[canonical] = value
    return MappedSubmission(fields, custom)


def honeypot_tripped(form: Form, flat: dict[str, Any]) -> bool:
    """Bots fill every input, including the one people never see."""
    return bool(form.honeypot_field and str(flat.get(form.honeypot_field) or "").strip())


IDENTITY_MAPPING = {name: name for name in CANONICAL_FIELDS}
