"""Accepting a sign-up: resolve the person, store the submission, stage the events.

Everything happens in one transaction: the lead (created, joined or merged),
the submission, the exact lead count, and `intake.lead.received.v1` (plus
`intake.lead.merged.v1` when two leads turn out to be one person).

Concurrency is settled by the database: the unique email key and phone decide
who wins when two first submissions race; the loser's transaction fails on the
constraint and is retried, finds the winner's lead and joins it. On PostgreSQL
the leads involved are also locked (FOR UPDATE) so two merges cannot interleave.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from runway_contracts.intake import ChannelConsent, LeadMerged, LeadReceived, LeadView
from runway_eventbus.unit_of_work import UnitOfWork
from runway_intake.adapters.tables import (
    COUNT_SHARDS,
    idempotency_keys,
    lead_count_shards,
    lead_identities,
    lead_merges,
    leads,
    submissions,
)
from runway_intake.domain.contact_details import email_identity
from runway_intake.domain.identity import Create, Join, KnownLead, Merge, resolve
from runway_intake.domain.signup import Consent, Signup, combine_leads, merged_values
from runway_storage import insert_if_absent
from runway_storage.bulk import Add, write_together
from runway_storage.ids import new_id

RETRIES = 5


class IdentityTaken(IntegrityError):
    """An identifier this submission brought became another lead's (a concurrent writer won)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"{kind} identity taken concurrently", None, Exception(kind))


@dataclass(frozen=True)
class Accepted:
    lead_id: str
    submission_id: str
    is_new_lead: bool
    merged_lead_ids: tuple[str, ...] = ()
    replayed: bool = False


@dataclass(frozen=True)
class IdempotencyKey:
    key: str
    request_hash: str  # a different body under the same key is refused


class IdempotencyKeyReused(ValueError):
    pass


def accept_signup(
    signup: Signup, uow_factory: Callable[[], UnitOfWork], idempotency: IdempotencyKey | None = None
) -> Accepted:
    """One sign-up in its own transaction (the batch writer runs many per transaction)."""
    for attempt in range(RETRIES):
        try:
            with uow_factory() as uow:
                accepted = accept_in(uow, signup, idempotency)
                apply_lead_count(uow.session)
                uow.commit()
                return accepted
        except (IntegrityError, OperationalError) as error:
            # IntegrityError: another transaction took the same identity first.
            # OperationalError: a deadlock or serialization failure between two merges.
            if attempt == RETRIES - 1 or not retryable(error):
                raise
    raise AssertionError("unreachable")


def accept_in(uow: UnitOfWork, signup: Signup, idempotency: IdempotencyKey | None = None) -> Accepted:
    """Everything a sign-up writes, inside the caller's transaction; the caller commits."""
    if idempotency and (earlier := _earlier_response(uow.session, signup.form_key, idempotency)):
        return earlier
    accepted = _accept(signup, uow)
    if idempotency:
        _remember(uow.session, signup.form_key, idempotency, accepted)
    return accepted


def _earlier_response(session: Session, form_key: str, idem: IdempotencyKey) -> Accepted | None:
    row = (
        session.execute(
            sa.select(idempotency_keys).where(
                idempotency_keys.c.form_key == form_key, idempotency_keys.c.key == idem.key
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    if row["request_hash"] != idem.request_hash:
        raise IdempotencyKeyReused(idem.key)
    r = row["response"]
    return Accepted(
        r["lead_id"], r["submission_id"], r["is_new_lead"], tuple(r["merged_lead_ids"]), replayed=True
    )


def _remember(session: Session, form_key: str, idem: IdempotencyKey, accepted: Accepted) -> None:
    response = {
        "lead_id": accepted.lead_id,
        "submission_id": accepted.submission_id,
        "is_new_lead": accepted.is_new_lead,
        "merged_lead_ids": list(accepted.merged_lead_ids),
    }
    session.execute(
        idempotency_keys.insert().values(
            form_key=form_key,
            key=idem.key,
            request_hash=idem.request_hash,
            status_code=202,
            response=response,
            created_at=datetime.now(UTC),
        )
    )


def retryable(error: Exception) -> bool:
    if isinstance(error, IntegrityError):
        return True
    text = str(error).lower()
    return "deadlock" in text or "could not serialize" in text or "database is locked" in text


_OWNERS = (
    sa.select(lead_identities.c.kind, leads)
    .join(leads, leads.c.id == lead_identities.c.lead_id)
    .where(
        sa.or_(
            sa.and_(lead_identities.c.kind == "email", lead_identities.c.value == sa.bindparam("email")),
            sa.and_(lead_identities.c.kind == "phone", lead_identities.c.value == sa.bindparam("phone")),
        )
    )
)
_OWNERS_LOCKED = _OWNERS.with_for_update(of=leads)
_INSERT_LEAD = leads.insert()
_INSERT_SUBMISSION = submissions.insert()


def _find_owners(
    session: Session, email_key: str | None, phone: str | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The leads owning this email key and this phone, in one query (locked on PostgreSQL).

    The statements on this path are built once at import and take their values
    as parameters: SQLAlchemy then compiles each once instead of per sign-up.
    """
    if not (email_key or phone):
        return None, None
    query = _OWNERS_LOCKED if session.get_bind().dialect.name == "postgresql" else _OWNERS
    rows = session.execute(query, {"email": email_key, "phone": phone}).mappings()
    found = {r["kind"]: {k: v for k, v in r.items() if k != "kind"} for r in rows}
    return found.get("email"), found.get("phone")


def _claim_identities(
    session: Session, lead_id: str, email_key: str | None, phone: str | None, now: datetime
) -> None:
    """Record the submission's identifiers as this lead's (ones it already owns stay as they are).

    Two transactions claiming one new identifier race on its primary key: the
    second waits, finds it taken and fails, and the retry joins that lead.
    """
    for kind, value in (("email", email_key), ("phone", phone)):
        if not value:
            continue
        row = {"kind": kind, "value": value, "lead_id": lead_id, "created_at": now}
        if not insert_if_absent(session, lead_identities, row):
            owner = session.scalar(
                sa.select(lead_identities.c.lead_id).where(
                    lead_identities.c.kind == kind, lead_identities.c.value == value
                )
            )
            if owner != lead_id:
                raise IdentityTaken(kind)


def _known(row: dict[str, Any] | None) -> KnownLead | None:
    return KnownLead(row["id"], row["created_at"]) if row else None


def _consent_json(consent: Consent | None) -> dict[str, Any] | None:
    if consent is None:
        return None
    # spelled out: dataclasses.asdict deep-copies every field, a hot spot on the write path
    return {
        "granted": consent.granted,
        "recorded_at": consent.recorded_at.isoformat(),
        "wording": consent.wording,
        "ip": consent.ip,
        "user_agent": consent.user_agent,
    }


def _bump_count(session: Session, delta: int) -> None:
    """Count a created (+1) or merged-away (-1) lead; applied once, just before commit."""
    session.info["lead_count_delta"] = session.info.get("lead_count_delta", 0) + delta


def apply_lead_count(session: Session, shard: int | None = None) -> None:
    """Add this transaction's change to one shard of the exact count.

    Once per transaction, on a shard the caller owns (each writer thread its
    own): concurrent transactions then never wait on each other's count row,
    nor lock count rows in different orders.
    """
    write_together(session, [lead_count_change(session.info.pop("lead_count_delta", 0), shard)])


def lead_count_change(delta: int, shard: int | None) -> Add:
    """`delta` leads more (or fewer) on `shard`'s count row (a random one if None); nothing for 0."""
    which = random.randrange(COUNT_SHARDS) if shard is None else shard % COUNT_SHARDS
    return Add(lead_count_shards, ("shard",), [{"shard": which, "count": delta}] if delta else [])


def _accept(signup: Signup, uow: UnitOfWork) -> Accepted:
    session = uow.session
    now = datetime.now(UTC)
    email_key = email_identity(signup.email) if signup.email else None
    by_email, by_phone = _find_owners(session, email_key, signup.phone)
    submission_id = new_id()
    resolution = resolve(_known(by_email), _known(by_phone))
    merged: tuple[str, ...] = ()

    if isinstance(resolution, Create):
        lead = new_lead_row(signup, email_key, now)
        lead_id = lead["id"]
        session.execute(_INSERT_LEAD, lead)
        _bump_count(session, +1)
        existing: dict[str, Any] | None = None
    else:
        if isinstance(resolution, Merge):
            survivor = by_email if by_email and by_email["id"] == resolution.survivor_id else by_phone
            absorbed = by_phone if survivor is by_email else by_email
            assert survivor is not None and absorbed is not None
            survivor = _merge(session, survivor, absorbed, submission_id, now)
            merged = (absorbed["id"],)
            lead_id = survivor["id"]
            existing = survivor
        else:
            assert isinstance(resolution, Join)
            lead_id = resolution.lead_id
            existing = by_email if by_email and by_email["id"] == lead_id else by_phone
        assert existing is not None
        updates = lead_updates(existing, signup, email_key)
        if updates:
            session.execute(leads.update().where(leads.c.id == lead_id).values(**updates, updated_at=now))
        lead = {**existing, **updates}

    _claim_identities(session, lead_id, email_key, signup.phone, now)
    session.execute(
        _INSERT_SUBMISSION,
        {
            "id": submission_id,
            "form_key": signup.form_key,
            "lead_id": lead_id,
            "payload": signup.raw,
            "ip": signup.ip,
            "user_agent": signup.user_agent,
            "received_at": signup.received_at,
        },
    )
    view = lead_view(lead)
    if merged:
        uow.outbox.stage(
            session,
            LeadMerged(survivor_lead_id=lead_id, merged_lead_ids=list(merged), merged_at=now, lead=view),
            subject_id=lead_id,
        )
    uow.outbox.stage(
        session,
        LeadReceived(
            submission_id=submission_id,
            form_key=signup.form_key,
            is_new_lead=existing is None,
            received_at=signup.received_at,
            lead=view,
        ),
        subject_id=lead_id,
    )
    return Accepted(lead_id, submission_id, existing is None, merged)


def new_lead_row(signup: Signup, email_key: str | None, now: datetime) -> dict[str, Any]:
    return {
        "id": new_id(),
        "email": signup.email,
        "email_key": email_key,
        "phone": signup.phone,
        "first_name": signup.first_name,
        "last_name": signup.last_name,
        "postal_code": signup.postal_code,
        "birth_date": signup.birth_date,
        "interests": sorted(set(signup.interests)),
        "tags": sorted(set(signup.tags)),
        "email_consent": _consent_json(signup.email_consent),
        "sms_consent": _consent_json(signup.sms_consent),
        "created_at": now,
        "updated_at": now,
        "street": signup.street,
        "city": signup.city,
        "state": signup.state,
        "age": signup.age,
        "source": signup.source,
        "refcode": signup.refcode,
        "utm": signup.utm,
        "custom_fields": signup.custom_fields,
        "first_form_key": signup.form_key,
    }


def lead_updates(existing: dict[str, Any], signup: Signup, email_key: str | None) -> dict[str, Any]:
    """What a later submission changes on its person's lead."""
    updates = merged_values(existing, signup)
    if signup.email and not existing.get("email"):
        updates |= {"email": signup.email, "email_key": email_key}
    if signup.phone and not existing.get("phone"):
        updates["phone"] = signup.phone
    # (An identifier the lead already shows stays its display value; a new one is
    # still recorded as an identity, so it finds this lead next time.)
    for name in ("email_consent", "sms_consent"):  # the latest decision stands
        if getattr(signup, name) is not None:
            updates[name] = _consent_json(getattr(signup, name))
    return updates


def _merge(
    session: Session, survivor: dict[str, Any], absorbed: dict[str, Any], submission_id: str, now: datetime
) -> dict[str, Any]:
    """Fold `absorbed` into `survivor`; returns the survivor as it now stands."""
    session.execute(
        lead_identities.update()
        .where(lead_identities.c.lead_id == absorbed["id"])
        .values(lead_id=survivor["id"])
    )
    session.execute(
        submissions.update().where(submissions.c.lead_id == absorbed["id"]).values(lead_id=survivor["id"])
    )
    session.execute(
        lead_merges.update()
        .where(lead_merges.c.survivor_id == absorbed["id"])
        .values(survivor_id=survivor["id"])
    )
    session.execute(
        lead_merges.insert().values(
            absorbed_id=absorbed["id"], survivor_id=survivor["id"], submission_id=submission_id, merged_at=now
        )
    )
    # The absorbed row goes first: its email or phone moves to the survivor.
    session.execute(leads.delete().where(leads.c.id == absorbed["id"]))
    updates = combine_leads(survivor, absorbed)
    if updates:
        session.execute(leads.update().where(leads.c.id == survivor["id"]).values(**updates, updated_at=now))
    _bump_count(session, -1)
    return {**survivor, **updates}


def lead_view(row: Any) -> LeadView:
    return LeadView(
        lead_id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row["email"],
        phone=row["phone"],
        postal_code=row["postal_code"],
        birth_date=row["birth_date"],
        interests=list(row["interests"]),
        tags=list(row["tags"]),
        email_consent=ChannelConsent(**row["email_consent"]) if row["email_consent"] else None,
        sms_consent=ChannelConsent(**row["sms_consent"]) if row["sms_consent"] else None,
    )
