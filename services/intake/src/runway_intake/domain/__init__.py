"""Intake's rules: what a valid sign-up is and who it belongs to. No I/O here."""
