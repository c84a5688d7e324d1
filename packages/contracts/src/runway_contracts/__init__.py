"""Runway's published language: the events services exchange over NATS JetStream.

Data only: pydantic models, subject constants and stream names. No I/O.
"""

from runway_contracts.catalogue import EVENT_TYPES, event_class_for
from runway_contracts.cloudevent import CloudEvent, Event

__all__ = ["EVENT_TYPES", "CloudEvent", "Event", "event_class_for"]
