"""Notify's rules: who may be told what, on which channel, and never twice."""
