"""Explicit state machines (``transitions``) over the domain's states. No I/O here."""
