"""Telemetry setup shared by every Runway service (and nothing else)."""
