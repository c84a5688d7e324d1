"""Stage events in the same transaction as the business rows that caused them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from opentelemetry import propagate
from opentelemetry.context import Context
from sqlalchemy.orm import Session

from runway_contracts import CloudEvent, Event


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
        """Stage many events made with `row()` in one multi-row insert."""
        if rows:
            session.execute(self._insert, rows)
            session.info["outbox_staged"] = True

    def rows_of_one_type(
        self, event_type: str, items: list[tuple[str, str]], trace_context: Context | None = None
    ) -> list[dict[str, object]]:
        """Rows for many events of one type, each `(subject id, data as JSON text)`.

        For fan-out (one new race to tens of thousands of people): the caller validates
        and encodes the shared part once and splices it into each event's data, so no
        model is built and no race encoded per event. The envelope is the one `row()`
        writes.
        """
        headers: dict[str, str] = {}
        propagate.inject(headers, context=trace_context)
        now = datetime.now(UTC)
        # Everything but the id, subject and data is the same for every event of the batch.
        middle = json.dumps(
            {
                "source": self._source,
                "type": event_type,
                "time": now.isoformat().replace("+00:00", "Z"),
                "datacontenttype": "application/json",
            },
            separators=(",", ":"),
        )[1:-1]
        rows = []
        for subject_id, data in items:
            event_id = str(uuid.uuid4())
            body = (
                f'{{"specversion":"1.0","id":"{event_id}",{middle},'
                f'"subject":{json.dumps(subject_id)},"data":{data}}}'
            )
            rows.append(
                {
                    "event_id": event_id,
                    "subject": event_type,
                    "body": body.encode(),
                    "headers": headers,
                    "created_at": now,
                }
            )
        return rows

    def row(
        self, event: Event, *, subject_id: str, trace_context: Context | None = None
    ) -> dict[str, object]:
        """The outbox row for `event`: its CloudEvent, and the trace it belongs to.

        `trace_context` defaults to the current one; a writer working for many
        requests at once passes each request's own.
        """
        event_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        envelope = CloudEvent(
            id=event_id,
            source=self._source,
            type=event.TYPE,
            subject=subject_id,
            time=now,
            data=event.model_dump(mode="json"),
        )
        headers: dict[str, str] = {}
        propagate.inject(headers, context=trace_context)
        return {
            "event_id": event_id,
            "subject": event.TYPE,
            "body": envelope.model_dump_json(exclude_none=True).encode(),
            "headers": headers,
            "created_at": now,
        }
