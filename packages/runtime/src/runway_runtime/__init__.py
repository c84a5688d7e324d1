"""Hosting one Runway service process; each service's bootstrap.py composes it."""
