"""Matching's adapters: its tables, the shipped geography, the sample catalog."""
