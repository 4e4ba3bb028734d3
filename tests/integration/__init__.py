"""Integration tests: the services over SQLite and PostgreSQL (the ``services`` fixture of ``tests/conftest.py``),
with the clock in hand; rendering and the channels against a real SMTP server on loopback."""
