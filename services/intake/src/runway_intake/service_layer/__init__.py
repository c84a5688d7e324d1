"""Intake's use cases, each a plain function over a unit of work."""
