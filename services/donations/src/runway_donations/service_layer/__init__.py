"""Donations' use cases."""
