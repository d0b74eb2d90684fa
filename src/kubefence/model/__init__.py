"""Frozen value types: no I/O here."""
