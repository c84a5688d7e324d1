"""The compliance team's view: an exact count and a list with no duplicate email or phone.

Duplicates cannot exist by construction: each email key and phone belongs to
one lead (unique constraints), so the leads table itself is the view. The
count is kept incrementally in the same transactions that create and merge
leads, so reading it never scans.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_intake.adapters.tables import lead_count_shards, leads

EXPORT_COLUMNS = [
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "postal_code",
    "street",
    "city",
    "state",
    "birth_date",
    "age",
    "interests",
    "tags",
    "refcode",
    "source",
    "first_form_key",
    "created_at",
    "email_consent_at",
    "sms_consent_at",
]


def unique_lead_count(session: Session) -> int:
    return int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(lead_count_shards.c.count), 0))) or 0)


@dataclass(frozen=True)
class LeadFilter:
    form_key: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    tag: str | None = None


def _where(session: Session, f: LeadFilter) -> list[Any]:
    clauses: list[Any] = []
    if f.form_key:
        clauses.append(leads.c.first_form_key == f.form_key)
    if f.since:
        clauses.append(leads.c.created_at >= f.since)
    if f.until:
        clauses.append(leads.c.created_at < f.until)
    if f.tag:
        if session.get_bind().dialect.name == "postgresql":
            clauses.append(sa.text("CAST(leads.tags AS jsonb) ? :tag").bindparams(tag=f.tag))
        else:
            clauses.append(
                sa.text(
                    "EXISTS (SELECT 1 FROM json_each(leads.tags) WHERE json_each.value = :tag)"
                ).bindparams(tag=f.tag)
            )
    return clauses


def encode_cursor(row: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([row["created_at"].isoformat(), row["id"]]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    created, lead_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    return datetime.fromisoformat(created), str(lead_id)


def page_of_leads(
    session: Session, f: LeadFilter, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Keyset pagination on (created_at, id): stable while new leads arrive."""
    query = (
        sa.select(leads).where(*_where(session, f)).order_by(leads.c.created_at, leads.c.id).limit(limit + 1)
    )
    if after:
        created, lead_id = decode_cursor(after)
        query = query.where(
            sa.tuple_(leads.c.created_at, leads.c.id) > sa.tuple_(sa.literal(created), sa.literal(lead_id))
        )
    rows = [dict(r) for r in session.execute(query).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1]) if more and rows else None


def export_rows(session: Session, f: LeadFilter, batch: int = 1000) -> Iterator[list[Any]]:
    """Every matching lead, streamed in batches (constant memory)."""
    after: str | None = None
    while True:
        rows, after = page_of_leads(session, f, batch, after)
        for r in rows:
            yield [
                r["id"],
                r["first_name"],
                r["last_name"],
                r["email"],
                r["phone"],
                r["postal_code"],
                r["street"],
                r["city"],
                r["state"],
                r["birth_date"],
                r["age"],
                " ".join(r["interests"]),
                " ".join(r["tags"]),
                r["refcode"],
                r["source"],
                r["first_form_key"],
                r["created_at"].isoformat(),
                (r["email_consent"] or {}).get("recorded_at"),
                (r["sms_consent"] or {}).get("recorded_at"),
            ]
        if after is None:
            return
