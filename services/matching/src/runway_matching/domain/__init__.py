"""Matching's rules: where a person lives, which races they could run for, in what order."""
