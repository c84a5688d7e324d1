"""Intake's adapters: its tables, and the outbox they share a transaction with."""
