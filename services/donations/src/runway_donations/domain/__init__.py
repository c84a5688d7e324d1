"""Donations' rules: what a provider's webhook proves and what it means for the ledger."""
