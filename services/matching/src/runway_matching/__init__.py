"""Runway matching: the race catalog, and the races each lead could run for."""
