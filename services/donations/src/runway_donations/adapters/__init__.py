"""Donations' adapters: its tables."""
