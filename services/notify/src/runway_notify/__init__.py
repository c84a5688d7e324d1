"""Runway notify: turns events into email and SMS, with consent, once."""
