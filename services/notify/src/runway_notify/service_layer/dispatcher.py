"""The delivery queue's worker: claims due messages, sends them, records what happened.

1. Claim: due rows (queued and due, or `sending` whose lease ran out because
   a process died mid-send) are marked `sending` under a fresh claim token, in
   one transaction. Several dispatchers (processes, instances) can run: a row
   goes to whichever UPDATE takes it first.
2. At claim time the rules are checked again: a STOP or an unsubscribe that
   arrived while the message waited wins, and an SMS whose retry fell outside
   the recipient's sending window waits for the next one.
3. Send, outside any transaction, several at once.
4. Record each accepted message as soon as the server took it (the recorder's
   thread commits whatever was accepted since its last commit, in one
   transaction), and every other outcome once the round is over: the attempt,
   the new state, and `notify.notification.sent.v1` / `.failed.v1` through the
   outbox.

If the database is away at 4, the outcomes stay in memory and are recorded as soon
as it answers again, before anything new is claimed: the messages they hold are
`sending` under this dispatcher's lease, so nobody sends them meanwhile. Only a
crash between a server accepting a message and its record's commit (or a database
outage longer than the lease) sends a message again, with the same Message-ID (the
one point SMTP cannot close; receivers dedupe on it). Recording as each message is
accepted keeps that window to one commit, not a round (decision 0005).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Protocol

import sqlalchemy as sa
import uvloop
from opentelemetry import propagate
from opentelemetry.trace import Tracer
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.orm import Session

from runway_contracts.notify import NotificationFailed, NotificationSent
from runway_eventbus.group_commit import GroupCommit
from runway_eventbus.unit_of_work import UnitOfWork
from runway_notify.adapters.tables import deliveries, delivery_attempts, opt_outs, suppressions
from runway_notify.domain import quiet_hours
from runway_notify.domain.message_types import ALL, NEW_RACE_DIGEST
from runway_notify.domain.outcomes import Accepted, Outcome, Rejected, TryLater
from runway_notify.domain.retries import backoff
from runway_notify.domain.rules import reason_blocked
from runway_notify.service_layer.composing import Claimed, Composer
from runway_notify.service_layer.messages import digest_races
from runway_notify.service_layer.queue import TRACE_KEY
from runway_storage import insert_if_absent
from runway_storage.bulk import Insert, Update, write_together

log = logging.getLogger(__name__)


class EmailChannel(Protocol):
    async def send(self, message: Any) -> Outcome: ...


class SmsChannel(Protocol):
    async def send(self, to: str, body: str) -> Outcome: ...


OUTCOME_NAMES = {Accepted: "accepted", TryLater: "try_later", Rejected: "rejected"}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DispatchSettings:
    batch_size: int = 128
    lease: timedelta = timedelta(seconds=120)
    poll_interval: float = 1.0
    give_up_after: timedelta = timedelta(days=3)


def lease_covering(batch_size: int, connections: int, send_timeout: float) -> timedelta:
    """A claim's lease, longer than a whole round can take when every send runs into its
    timeout (a message may try the primary server, then the fallback), so that no other
    dispatcher takes a message back while this one may still be sending it. The price: the
    messages of a dispatcher that crashed wait this long before another sends them."""
    turns = -(-batch_size // max(connections, 1))  # messages each connection sends in turn
    return max(timedelta(seconds=120), timedelta(seconds=2 * turns * send_timeout + 30))


@dataclass(frozen=True)
class _ClaimStatements:
    """A claim's statements, built once per batch size: building them took about a
    millisecond a round, more than running them from SQLAlchemy's compiled cache, and at a
    few messages a round the dispatcher runs many rounds."""

    queued: sa.Select[tuple[str]]
    lease_ran_out: sa.Select[tuple[str]]
    take: sa.Update
    taken: sa.Select[Any]
    suppressed: sa.Select[tuple[str, str]]
    opted_out: sa.Select[tuple[str, str, str]]


@cache
def _claim_statements(batch_size: int) -> _ClaimStatements:
    now = sa.bindparam("now", type_=deliveries.c.due_at.type)
    ids = sa.bindparam("ids", expanding=True)
    channels, addresses = sa.bindparam("channels", expanding=True), sa.bindparam("addresses", expanding=True)
    first = (
        sa.select(deliveries.c.id)
        .order_by(deliveries.c.due_at)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    due = sa.or_(
        sa.and_(deliveries.c.status == "queued", deliveries.c.due_at <= now),
        sa.and_(deliveries.c.status == "sending", deliveries.c.lease_until < now),
    )
    return _ClaimStatements(
        queued=first.where(deliveries.c.status == "queued", deliveries.c.due_at <= now),
        lease_ran_out=first.where(deliveries.c.status == "sending", deliveries.c.lease_until < now),
        take=deliveries.update()
        .where(deliveries.c.id.in_(ids), due)
        .values(
            status="sending",
            claim_token=sa.bindparam("token"),
            lease_until=sa.bindparam("lease_ends", type_=deliveries.c.lease_until.type),
            attempts=deliveries.c.attempts + 1,
        ),
        # By primary key: claim_token has no index, and a scan of every delivery ever made
        # was most of a claim's time.
        taken=sa.select(deliveries).where(
            deliveries.c.id.in_(ids), deliveries.c.claim_token == sa.bindparam("token")
        ),
        # Channel and address both constrained, so the primary keys (channel, address, …) answer.
        suppressed=sa.select(suppressions.c.channel, suppressions.c.address).where(
            suppressions.c.channel.in_(channels), suppressions.c.address.in_(addresses)
        ),
        opted_out=sa.select(opt_outs.c.channel, opt_outs.c.address, opt_outs.c.message_type).where(
            opt_outs.c.channel.in_(channels), opt_outs.c.address.in_(addresses)
        ),
    )


def record_attempt(
    session: Session,
    delivery_id: str,
    attempt: int,
    now: datetime,
    route: str,
    outcome: str,
    detail: str | None,
) -> None:
    session.execute(
        delivery_attempts.insert().values(
            delivery_id=delivery_id, attempt=attempt, at=now, route=route, outcome=outcome, detail=detail
        )
    )


def claim(uow: UnitOfWork, now: datetime, settings: DispatchSettings) -> list[Claimed]:
    statements = _claim_statements(settings.batch_size)
    with uow:
        session = uow.session
        # Two index-friendly queries rather than one OR, which would scan every delivery ever made.
        # SKIP LOCKED (PostgreSQL): dispatchers claiming at the same moment take different rows
        # instead of queueing on the same ones and finding them taken.
        ids = list(session.execute(statements.queued, {"now": now}).scalars())
        ids += session.execute(statements.lease_ran_out, {"now": now}).scalars()
        if not ids:
            return []
        token = str(uuid.uuid4())
        session.execute(
            statements.take, {"ids": ids, "now": now, "token": token, "lease_ends": now + settings.lease}
        )
        rows = session.execute(statements.taken, {"ids": ids, "token": token}).mappings().all()
        blocked = _blocked(session, rows, statements)
        claimed = []
        for row in rows:
            reason = blocked.get((row["channel"], row["recipient"], row["message_type"]))
            if reason:
                session.execute(
                    deliveries.update()
                    .where(deliveries.c.id == row["id"])
                    .values(status="skipped", last_error=reason, finished_at=now, lease_until=None)
                )
                record_attempt(session, row["id"], row["attempts"], now, row["channel"], "skipped", reason)
                continue
            context = dict(row["context"])
            if row["channel"] == "sms":
                allowed = quiet_hours.next_allowed(now, context.get("time_zone"))
                if allowed > now:
                    session.execute(
                        deliveries.update()
                        .where(deliveries.c.id == row["id"])
                        .values(
                            status="queued", due_at=allowed, attempts=row["attempts"] - 1, lease_until=None
                        )
                    )
                    record_attempt(
                        session,
                        row["id"],
                        row["attempts"] - 1,
                        now,
                        "sms",
                        "deferred",
                        f"quiet hours until {allowed.isoformat()}",
                    )
                    continue
            if row["message_type"] == NEW_RACE_DIGEST.name:
                context["races"] = digest_races(session, row["lead_id"], context["digest_date"])
            claimed.append(Claimed.from_row(row, context))
        uow.commit()
        return claimed


def _blocked(session: Session, rows: Any, statements: _ClaimStatements) -> dict[tuple[str, str, str], str]:
    """Why each (channel, address, type) may no longer be sent, checked in two queries per batch."""
    addresses = {row["recipient"] for row in rows}
    if not addresses:
        return {}
    params = {"channels": list({row["channel"] for row in rows}), "addresses": list(addresses)}
    suppressed = set(session.execute(statements.suppressed, params).tuples())
    opted = set(session.execute(statements.opted_out, params).tuples())
    reasons = {}
    for row in rows:
        where = (row["channel"], row["recipient"])
        opted_out_of = {kind for channel, address, kind in opted if (channel, address) == where}
        reason = reason_blocked(ALL[row["message_type"]], where in suppressed, opted_out_of)
        if reason:
            reasons[(*where, row["message_type"])] = reason
    return reasons


def record(
    uow: UnitOfWork, results: list[tuple[Claimed, Outcome]], now: datetime, settings: DispatchSettings
) -> None:
    """Record these outcomes in one transaction of their own."""
    with uow:
        write_outcomes(uow, results, now, settings)
        uow.commit()


def write_outcomes(
    uow: UnitOfWork, results: list[tuple[Claimed, Outcome]], now: datetime, settings: DispatchSettings
) -> None:
    """Record these outcomes in the caller's transaction."""
    session = uow.session
    accepted = [(d, o) for d, o in results if isinstance(o, Accepted)]
    # Every accepted message given marked sent, its attempt and its event, in one write
    # (on PostgreSQL one statement, not one per table and row batch).
    write_together(
        session,
        [
            Update(
                deliveries,
                ("id", "claim_token"),  # only while the claim is still this round's
                [
                    {
                        "id": d.id,
                        "claim_token": d.claim_token,
                        "status": "sent",
                        "sent_at": now,
                        "finished_at": now,
                        "last_error": None,
                        "lease_until": None,
                        "provider_message_id": o.provider_message_id,
                    }
                    for d, o in accepted
                    if isinstance(o, Accepted)
                ],
            ),
            Insert(
                delivery_attempts,
                [
                    {
                        "delivery_id": d.id,
                        "attempt": d.attempts,
                        "at": now,
                        "route": o.route,
                        "outcome": "accepted",
                        "detail": o.provider_message_id if isinstance(o, Accepted) else None,
                    }
                    for d, o in accepted
                ],
            ),
            uow.outbox.staging(
                session,
                [
                    uow.outbox.row(
                        NotificationSent(
                            notification_id=d.id,
                            notification_key=d.notification_key,
                            message_type=d.message_type,
                            channel=d.channel,  # type: ignore[arg-type]
                            recipient=d.recipient,
                            lead_id=d.lead_id,
                            sent_at=now,
                        ),
                        subject_id=d.id,
                    )
                    for d, _ in accepted
                ],
            ),
        ],
    )
    for delivery, outcome in results:
        if isinstance(outcome, Accepted):
            continue
        mine = sa.and_(deliveries.c.id == delivery.id, deliveries.c.claim_token == delivery.claim_token)
        if isinstance(outcome, TryLater) and now - delivery.created_at < settings.give_up_after:
            session.execute(
                deliveries.update()
                .where(mine)
                .values(
                    status="queued",
                    due_at=now + backoff(delivery.attempts),
                    last_error=outcome.detail,
                    lease_until=None,
                )
            )
            record_attempt(
                session, delivery.id, delivery.attempts, now, outcome.route, "retry", outcome.detail
            )
        else:
            permanent = isinstance(outcome, Rejected)
            fail(session, uow, delivery, outcome.route, outcome.detail, permanent, now)
            if isinstance(outcome, Rejected) and outcome.suppress:
                reason = "hard_bounce" if delivery.channel == "email" else "invalid_number"
                suppress(session, delivery.channel, delivery.recipient, reason, now)


def fail(
    session: Session,
    uow: UnitOfWork,
    delivery: Claimed,
    route: str,
    detail: str,
    permanent: bool,
    now: datetime,
) -> None:
    session.execute(
        deliveries.update()
        .where(deliveries.c.id == delivery.id)
        .values(status="failed", finished_at=now, last_error=detail, lease_until=None)
    )
    record_attempt(session, delivery.id, delivery.attempts, now, route, "failed", detail)
    uow.outbox.stage(
        session,
        NotificationFailed(
            notification_id=delivery.id,
            notification_key=delivery.notification_key,
            message_type=delivery.message_type,
            channel=delivery.channel,  # type: ignore[arg-type]
            recipient=delivery.recipient,
            lead_id=delivery.lead_id,
            permanent=permanent,
            reason=detail[:500],
            failed_at=now,
        ),
        subject_id=delivery.id,
    )


def suppress(session: Session, channel: str, address: str, reason: str, now: datetime) -> bool:
    return insert_if_absent(
        session, suppressions, {"channel": channel, "address": address, "reason": reason, "created_at": now}
    )


class Dispatcher:
    """Runs the claim → send → record loop on its own thread and event loop."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        composer: Composer,
        email: EmailChannel,
        sms: SmsChannel | None,
        tracer: Tracer,
        *,
        settings: DispatchSettings | None = None,
        clock: Callable[[], datetime] = utc_now,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._uow = uow_factory
        self._composer = composer
        self._email = email
        self._sms = sms
        self._tracer = tracer
        self._settings = settings or DispatchSettings()
        registry = registry or CollectorRegistry()
        self._attempts = Counter(
            "runway_notify_send_attempts",
            "Send attempts by channel and outcome (accepted, try_later, rejected)",
            ["channel", "outcome"],
            registry=registry,
        )
        self._lag = Gauge(
            "runway_notify_dispatch_lag_seconds",
            "How long the oldest message of the last claimed batch waited past its due time",
            registry=registry,
        )
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._stopping = threading.Event()
        # Sent, not yet recorded (the database was away when we tried): recorded first.
        self._unrecorded: list[tuple[Claimed, Outcome]] = []
        # Records each accepted message while the round goes on; runs as long as `run` does.
        self._recorder: GroupCommit[tuple[Claimed, Outcome], None] | None = None
        self._thread: threading.Thread | None = None

    async def _send_one(self, delivery: Claimed) -> Outcome:
        parent = propagate.extract(delivery.context.get(TRACE_KEY) or {})
        name = "smtp send" if delivery.channel == "email" else "sms send"
        with self._tracer.start_as_current_span(
            name,
            context=parent,
            attributes={"notify.message_type": delivery.message_type, "notify.delivery_id": delivery.id},
        ):
            try:
                if delivery.channel == "email":
                    return await self._email.send(self._composer.email(delivery))
                if self._sms is None:
                    return TryLater("sms", "no SMS provider configured")
                return await self._sms.send(delivery.recipient, self._composer.sms(delivery))
            except Exception as error:  # a template or composition bug: keep it, retry later
                log.exception("could not send delivery %s", delivery.id)
                return TryLater(delivery.channel, f"{type(error).__name__}: {error}"[:500])

    async def _send_and_record(self, delivery: Claimed) -> tuple[Outcome, bool]:
        """The outcome, and whether it is recorded already (an accepted message, as soon as
        the recorder commits it, so that a crash later in the round does not send it again)."""
        outcome = await self._send_one(delivery)
        recorder = self._recorder
        if recorder is None or not isinstance(outcome, Accepted):
            return outcome, False
        try:
            await recorder.write((delivery, outcome))
        except Exception:  # the database away: recorded with the rest of the round, or kept
            return outcome, False
        return outcome, True

    def _write_accepted(self, uow: UnitOfWork, results: list[tuple[Claimed, Outcome]]) -> list[None]:
        write_outcomes(uow, results, self._clock(), self._settings)
        return [None] * len(results)

    async def run_once(self) -> int:
        """Claim, send and record one batch; how many deliveries it held."""
        if self._unrecorded:
            record(self._uow(), self._unrecorded, self._clock(), self._settings)  # raises while still away
            self._unrecorded = []
        now = self._clock()
        # The database work runs right here, blocking this loop: the dispatcher's own thread
        # and loop exist for it, and nothing else waits on the loop between batches. A hop to
        # a worker thread would only add GIL hand-offs to every message's latency.
        claimed = claim(self._uow(), now, self._settings)
        if not claimed:
            self._lag.set(0)
            return 0
        self._lag.set(max(((now - d.due_at).total_seconds() for d in claimed if d.due_at), default=0))
        sent = await asyncio.gather(*(self._send_and_record(d) for d in claimed))
        counted: dict[tuple[str, str], int] = {}  # a batch's few label sets, not a look-up a message
        for delivery, (outcome, _) in zip(claimed, sent, strict=True):
            key = (delivery.channel, OUTCOME_NAMES[type(outcome)])
            counted[key] = counted.get(key, 0) + 1
        for (channel, kind), n in counted.items():
            self._attempts.labels(channel, kind).inc(n)
        self._unrecorded = [
            (delivery, outcome)
            for delivery, (outcome, recorded) in zip(claimed, sent, strict=True)
            if not recorded
        ]
        if self._unrecorded:
            record(self._uow(), self._unrecorded, self._clock(), self._settings)
            self._unrecorded = []
        return len(claimed)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        # A 20 ms linger: a transaction per message accepted would cost notify's CPU when it
        # is saturated (decision 0005); 20 ms more in the window is still far less than a round.
        recorder = GroupCommit(self._uow, self._write_accepted, name="notify-recorder", linger=0.02)
        recorder.start()
        self._recorder = recorder
        try:
            await self._loop_until_stopped()
        finally:
            self._recorder = None
            recorder.stop()  # after the last round: it has nothing left to write
        for channel in (self._email, self._sms):
            close = getattr(channel, "close", None)
            if close:
                await close()

    async def _loop_until_stopped(self) -> None:
        assert self._wakeup is not None
        while not self._stopping.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("delivery dispatcher failed; retrying")
                handled = 0
                await asyncio.sleep(self._settings.poll_interval)
            if handled:
                continue  # more may be due already
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._settings.poll_interval)
        if self._unrecorded:  # stopping while the database is away: one last try
            try:
                record(self._uow(), self._unrecorded, self._clock(), self._settings)
            except Exception:
                log.exception(
                    "%d sent messages left unrecorded; resent after their lease", len(self._unrecorded)
                )

    def wake(self) -> None:
        """Thread-safe: a handler just queued something."""
        loop, wakeup = self._loop, self._wakeup
        if loop is not None and wakeup is not None:
            loop.call_soon_threadsafe(wakeup.set)

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run_in_own_loop, name="notify-dispatcher", daemon=True)
        self._thread.start()

    def _run_in_own_loop(self) -> None:
        # uvloop, as uvicorn runs the main loop: asyncio's own loop sends on a socket with
        # the GIL let go, and in a busy process each of a message's four SMTP writes then
        # waited to get it back — 15 % of the dispatcher's time (py-spy --idle, 2026-11-29);
        # uvloop's writes keep it, and took half as long.
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(self.run())

    def stop(self) -> None:
        """Finish the batch in hand, record it, then return."""
        self._stopping.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout=60)
