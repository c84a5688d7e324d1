"""CloudEvents 1.0 structured-mode envelope shared by every subject.

The envelope `id` is also the outbox row id and the `Nats-Msg-Id` header, so a
re-published event is recognised by JetStream's duplicate window and by every
consumer's inbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


class Event(BaseModel):
    """Base class of every event payload (the CloudEvent `data`).

    Consumers are tolerant readers: unknown fields are ignored, so adding an
    optional field is a compatible change that keeps the `.v1` subject.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str]
    """The CloudEvent `type`, which is also the NATS subject."""


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 message in structured JSON mode."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(
        description="Unique event id; equals the outbox row id (`<row id>.<n>` for the events of a"
        " fan-out row) and Nats-Msg-Id."
    )
    source: str = Field(description="The producing service, e.g. /runway/intake.")
    type: str = Field(description="The event type; equals the NATS subject.")
    subject: str | None = Field(default=None, description="Id of the entity the event is about.")
    time: datetime = Field(description="When the fact happened (UTC).")
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]

    def payload(self) -> Event:
        """Parse `data` into the contract class registered for `type`."""
        from runway_contracts.catalogue import event_class_for

        return event_class_for(self.type).model_validate(self.data)
