"""Matching's use cases."""
