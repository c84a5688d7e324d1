"""Runway donations: verified provider webhooks, an append-only ledger in cents."""
