"""Runway intake: accepts sign-ups from any form and keeps one lead per person."""
