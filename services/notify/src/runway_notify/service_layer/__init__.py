"""Notify's use cases."""
