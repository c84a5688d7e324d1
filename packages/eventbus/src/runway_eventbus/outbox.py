"""Stage events in the same transaction as the business rows that caused them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from opentelemetry import propagate
from opentelemetry.context import Context
from sqlalchemy.orm import Session

from runway_contracts import CloudEvent, Event
from runway_storage.bulk import Insert, insert_tuples, once_per_value
from runway_storage.ids import new_id


class Outbox:
    """Writes CloudEvents into a service's `outbox` table.

    The row's `event_id` is the CloudEvent `id` and, when the relay publishes
    it, the `Nats-Msg-Id` header. The current trace context is stored with the
    row so the consumer's span joins the producer's trace.
    """

    def __init__(self, table: sa.Table, source: str) -> None:
        self._table = table
        self._insert = table.insert()  # built once; rows travel as parameters
        self._source = source

    def stage(self, session: Session, event: Event, *, subject_id: str) -> str:
        row = self.row(event, subject_id=subject_id)
        session.execute(self._insert, row)
        session.info["outbox_staged"] = True
        return str(row["event_id"])

    def stage_rows(self, session: Session, rows: list[dict[str, object]]) -> None:
        """Stage many events made with `row()` in one bulk write.

        Written through the driver: COPY on PostgreSQL, one executemany elsewhere. Going
        through SQLAlchemy's executemany cost tens of microseconds a row (a bind processor per
        value, and on psycopg 3 a pipelined statement per row).
        """
        if rows:
            write_rows(session, self._table, rows)
            session.info["outbox_staged"] = True

    def staging(self, session: Session, rows: list[dict[str, object]]) -> Insert:
        """Stage many events made with `row()` as part of a `write_together` with the rows
        that caused them (on PostgreSQL one statement for all of it)."""
        if rows:
            session.info["outbox_staged"] = True
        return Insert(self._table, rows)

    def stage_fan_out(
        self,
        session: Session,
        event_type: str,
        recipients: list[tuple[str, str]],
        variants: dict[str, str],
        *,
        subject_field: str,
        variant_field: str,
        shared: dict[str, object] | None = None,
    ) -> str:
        """Many events of one type staged as one row; the relay publishes each as its own message.

        For fan-out (one new race to the 30,000 people of a county): each recipient
        `(subject id, variant key)` gets the event whose data is
        `{subject_field: subject id, variant_field: variants[key], **shared}`, the variants
        being JSON texts the caller validated and encoded once (the race as shown to a ZIP).
        One row instead of 30,000 is most of the cost of telling a county in under a second;
        each event keeps its own deterministic id (`<row id>.<n>`), so a re-publish after a
        crash is deduplicated by JetStream and by the consumers' inboxes as any other.
        """
        headers: dict[str, str] = {FAN_OUT_HEADER: "1"}
        propagate.inject(headers)
        now = datetime.now(UTC)
        spec = json.dumps(
            {
                "source": self._source,
                "type": event_type,
                "time": now.isoformat().replace("+00:00", "Z"),
                "subject_field": subject_field,
                "variant_field": variant_field,
                "shared": shared or {},
                "recipients": recipients,
            },
            separators=(",", ":"),
        )
        encoded = ",".join(f"{json.dumps(key)}:{text}" for key, text in variants.items())
        event_id = new_id()
        row = {
            "event_id": event_id,
            "subject": event_type,
            "body": f'{spec[:-1]},"variants":{{{encoded}}}}}'.encode(),
            "headers": headers,
            "created_at": now,
        }
        session.execute(self._insert, row)
        session.info["outbox_staged"] = True
        return event_id

    def row(
        self, event: Event, *, subject_id: str, trace_context: Context | None = None
    ) -> dict[str, object]:
        """The outbox row for `event`: its CloudEvent, and the trace it belongs to.

        `trace_context` defaults to the current one; a writer working for many
        requests at once passes each request's own.
        """
        event_id = new_id()
        now = datetime.now(UTC)
        headers: dict[str, str] = {}
        propagate.inject(headers, context=trace_context)
        return {
            "event_id": event_id,
            "subject": event.TYPE,
            "body": encode_event(event, event_id, self._source, subject_id, now),
            "headers": headers,
            "created_at": now,
        }


def encode_event(event: Event, event_id: str, source: str, subject_id: str | None, time: datetime) -> bytes:
    """The CloudEvent's JSON, with the event serialized once, straight into `data`.

    `data` is the envelope's last field: the envelope is serialized with an empty
    `data` and the event's own JSON put in its place, instead of turning the event
    into a dict, validating that dict into the envelope and serializing it again.
    """
    envelope = CloudEvent(id=event_id, source=source, type=event.TYPE, subject=subject_id, time=time, data={})
    head = envelope.model_dump_json(exclude_none=True)
    assert head.endswith('"data":{}}')
    return f"{head.removesuffix('{}}')}{event.model_dump_json()}}}".encode()


COLUMNS = ("event_id", "subject", "body", "headers", "created_at")


def write_rows(session: Session, table: sa.Table, rows: list[dict[str, object]]) -> None:
    """Insert outbox rows in the transaction `session` is in, by the fastest path its driver has."""
    connection = session.connection()
    dialect = connection.dialect
    name = dialect.identifier_preparer.format_table(table)
    columns = ", ".join(dialect.identifier_preparer.quote(c) for c in COLUMNS)
    if dialect.name == "postgresql":
        # Binary COPY: the body goes as raw bytes rather than escaped text (2.5 times faster).
        # The headers go as their JSON text (json's binary form is its text), encoded once for
        # a run of rows sharing one headers object.
        headers = once_per_value(json.dumps)
        driver = connection.connection.driver_connection
        copying = f"COPY {name} ({columns}) FROM STDIN (FORMAT BINARY)"
        with driver.cursor() as cursor, cursor.copy(copying) as copy:  # type: ignore[union-attr]
            copy.set_types(["text", "text", "bytea", "text", "timestamptz"])
            for row in rows:
                copy.write_row(
                    (
                        row["event_id"],
                        row["subject"],
                        row["body"],
                        headers(row["headers"]),
                        row["created_at"],
                    )
                )
        return
    if dialect.name != "sqlite":
        session.execute(table.insert(), rows)
        return
    insert_tuples(connection, table, COLUMNS, [tuple(row[c] for c in COLUMNS) for row in rows])


FAN_OUT_HEADER = "Runway-Fan-Out"  # marks an outbox row that stands for many events


def messages_of(event_id: str, body: bytes, headers: dict[str, str]) -> list[tuple[str, bytes]]:
    """The (message id, CloudEvent) pairs an outbox row stands for: itself, or each event of
    a fan-out row, in the envelope `Outbox.row` writes."""
    if FAN_OUT_HEADER not in headers:
        return [(event_id, body)]
    spec = json.loads(body)
    compact = {"separators": (",", ":")}
    middle = json.dumps(
        {
            "source": spec["source"],
            "type": spec["type"],
            "time": spec["time"],
            "datacontenttype": "application/json",
        },
        **compact,  # type: ignore[arg-type]
    )[1:-1]
    variants = {key: json.dumps(value, **compact) for key, value in spec["variants"].items()}  # type: ignore[arg-type]
    subject_field, variant_field = json.dumps(spec["subject_field"]), json.dumps(spec["variant_field"])
    shared = "".join(f",{json.dumps(k)}:{json.dumps(v, **compact)}" for k, v in spec["shared"].items())  # type: ignore[arg-type]
    messages = []
    for n, (subject_id, key) in enumerate(spec["recipients"]):
        message_id = f"{event_id}.{n}"
        subject = json.dumps(subject_id)
        data = f"{{{subject_field}:{subject},{variant_field}:{variants[key]}{shared}}}"
        envelope = f'{{"specversion":"1.0","id":"{message_id}",{middle},"subject":{subject},"data":{data}}}'
        messages.append((message_id, envelope.encode()))
    return messages
