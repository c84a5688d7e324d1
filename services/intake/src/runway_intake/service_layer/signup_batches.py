"""A whole batch of sign-ups written with one look-up and one write.

The per-sign-up path (`signups.accept_in`) issues about six statements for
each sign-up; here the batch's identities are looked up in one query, the
sign-ups are resolved in memory in arrival order (a later sign-up sees the
leads created or changed by earlier ones), and every table's rows (and the
count's increment) go in one `write_together`: on PostgreSQL one statement,
on SQLite one multi-row insert or update per table (decision 0023). Merges are
rare and subtle, so a batch that needs one is handed back (`MergeNeeded`) to
the per-sign-up path.

Same rules, same results as `accept_in`: identity by email key and phone,
newer values fill in, idempotency keys replay, one `intake.lead.received.v1`
per sign-up. Plain INSERTs (no ON CONFLICT) make a concurrent writer's claim
of the same identifier fail the batch, which the caller then redoes one
sign-up at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from opentelemetry.context import Context
from sqlalchemy.dialects import postgresql

from runway_contracts.intake import LeadReceived
from runway_eventbus.unit_of_work import UnitOfWork
from runway_intake.adapters.tables import idempotency_keys, lead_identities, leads, submissions
from runway_intake.domain.contact_details import email_identity
from runway_intake.domain.identity import Create, Merge, resolve
from runway_intake.domain.signup import Signup
from runway_intake.service_layer.signups import (
    Accepted,
    IdempotencyKey,
    IdempotencyKeyReused,
    _known,
    lead_count_change,
    lead_updates,
    lead_view,
    new_lead_row,
)
from runway_storage.bulk import Insert, Update, write_together
from runway_storage.ids import new_id


def _owners_query(values: Callable[[str], Any]) -> sa.Select[Any]:
    return (
        sa.select(lead_identities.c.kind, lead_identities.c.value, leads)
        .join(leads, leads.c.id == lead_identities.c.lead_id)
        .where(
            sa.or_(
                sa.and_(lead_identities.c.kind == "email", values("emails")),
                sa.and_(lead_identities.c.kind == "phone", values("phones")),
            )
        )
    )


# On PostgreSQL each list goes as one array parameter: one statement text whatever the
# batch holds, so it is prepared once and not planned again for every batch (an IN list
# of each length is a statement of its own, and they crowded psycopg's prepared cache).
_OWNERS_LOCKED = _owners_query(
    lambda name: lead_identities.c.value == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(sa.String)))
).with_for_update(of=leads)
_OWNERS = _owners_query(lambda name: lead_identities.c.value.in_(sa.bindparam(name, expanding=True)))
_EARLIER = sa.select(idempotency_keys).where(idempotency_keys.c.key.in_(sa.bindparam("keys", expanding=True)))
_UPDATABLE = [
    "email",
    "email_key",
    "phone",
    "first_name",
    "last_name",
    "postal_code",
    "birth_date",
    "interests",
    "tags",
    "email_consent",
    "sms_consent",
    "updated_at",
    "street",
    "city",
    "state",
    "age",
    "source",
    "refcode",
    "utm",
    "custom_fields",
]


class MergeNeeded(Exception):
    """The batch proves two leads are one person: write it one sign-up at a time."""


Item = tuple[Signup, IdempotencyKey | None, Context | None]


def _owners(session: Any, items: list[Item]) -> dict[tuple[str, str], dict[str, Any]]:
    emails = sorted({email_identity(s.email) for s, _, _ in items if s.email})
    phones = sorted({s.phone for s, _, _ in items if s.phone})
    if not (emails or phones):
        return {}
    query = _OWNERS_LOCKED if session.get_bind().dialect.name == "postgresql" else _OWNERS
    by_id: dict[str, dict[str, Any]] = {}
    owners: dict[tuple[str, str], dict[str, Any]] = {}
    for row in session.execute(query, {"emails": emails or [""], "phones": phones or [""]}).mappings():
        lead = by_id.setdefault(row["id"], {k: v for k, v in row.items() if k not in ("kind", "value")})
        owners[(row["kind"], row["value"])] = lead  # one dict per lead, shared by its identifiers
    return owners


def write_batch(uow: UnitOfWork, items: list[Item], count_shard: int) -> list[Accepted | BaseException]:
    """Each item: the sign-up, its idempotency key, and the trace its event belongs to.
    New leads are counted on `count_shard` (see `signups.apply_lead_count`)."""
    session = uow.session
    now = datetime.now(UTC)
    keys = sorted({i.key for _, i, _ in items if i})
    earlier = {
        (r["form_key"], r["key"]): (r["request_hash"], r["response"])
        for r in (session.execute(_EARLIER, {"keys": keys}).mappings() if keys else [])
    }
    owners = _owners(session, items)
    created: dict[str, dict[str, Any]] = {}
    changed: dict[str, dict[str, Any]] = {}
    identity_rows: list[dict[str, Any]] = []
    submission_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, object]] = []
    key_rows: list[dict[str, Any]] = []
    results: list[Accepted | BaseException] = []

    for signup, idem, trace_context in items:
        if idem and (prior := earlier.get((signup.form_key, idem.key))):
            request_hash, r = prior
            results.append(
                IdempotencyKeyReused(idem.key)
                if request_hash != idem.request_hash
                else Accepted(
                    r["lead_id"],
                    r["submission_id"],
                    r["is_new_lead"],
                    tuple(r["merged_lead_ids"]),
                    replayed=True,
                )
            )
            continue
        email_key = email_identity(signup.email) if signup.email else None
        by_email = owners.get(("email", email_key)) if email_key else None
        by_phone = owners.get(("phone", signup.phone)) if signup.phone else None
        resolution = resolve(_known(by_email), _known(by_phone))
        if isinstance(resolution, Merge):
            raise MergeNeeded(resolution.survivor_id)
        if isinstance(resolution, Create):
            lead = new_lead_row(signup, email_key, now)
            created[lead["id"]] = lead
        else:
            lead = by_email if by_email is not None else by_phone  # type: ignore[assignment]
            assert lead is not None
            updates = lead_updates(lead, signup, email_key)
            if updates:
                lead.update(updates, updated_at=now)  # later sign-ups in the batch see it
                if lead["id"] not in created:
                    changed[lead["id"]] = lead
        for kind, value in (("email", email_key), ("phone", signup.phone)):
            if value and (kind, value) not in owners:
                owners[(kind, value)] = lead
                identity_rows.append({"kind": kind, "value": value, "lead_id": lead["id"], "created_at": now})
        submission_id = new_id()
        submission_rows.append(
            {
                "id": submission_id,
                "form_key": signup.form_key,
                "lead_id": lead["id"],
                "payload": signup.raw,
                "ip": signup.ip,
                "user_agent": signup.user_agent,
                "received_at": signup.received_at,
            }
        )
        is_new = isinstance(resolution, Create)
        event_rows.append(
            uow.outbox.row(
                LeadReceived(
                    submission_id=submission_id,
                    form_key=signup.form_key,
                    is_new_lead=is_new,
                    received_at=signup.received_at,
                    lead=lead_view(lead),
                ),
                subject_id=lead["id"],
                trace_context=trace_context,
            )
        )
        accepted = Accepted(lead["id"], submission_id, is_new)
        if idem:
            response = {
                "lead_id": lead["id"],
                "submission_id": submission_id,
                "is_new_lead": is_new,
                "merged_lead_ids": [],
            }
            earlier[(signup.form_key, idem.key)] = (idem.request_hash, response)
            key_rows.append(
                {
                    "form_key": signup.form_key,
                    "key": idem.key,
                    "request_hash": idem.request_hash,
                    "status_code": 202,
                    "response": response,
                    "created_at": now,
                }
            )
        results.append(accepted)

    # Only now, with nothing left that could hand the batch back: counted once.
    write_together(
        session,
        [
            Insert(leads, list(created.values())),
            Update(
                leads,
                ("id",),
                [{"id": lead["id"], **{c: lead.get(c) for c in _UPDATABLE}} for lead in changed.values()],
            ),
            Insert(lead_identities, identity_rows),
            Insert(submissions, submission_rows),
            Insert(idempotency_keys, key_rows),
            uow.outbox.staging(session, event_rows),
            lead_count_change(len(created), count_shard),
        ],
    )
    return results
