"""Notify's adapters: tables, templates, the SMTP channel."""
