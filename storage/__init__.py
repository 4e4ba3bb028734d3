"""Persistence over SQLModel/SQLAlchemy: SQLite by default, PostgreSQL in production.

Depends on ``domain`` only. The schema is owned by Alembic migrations (``storage/migrations``).
"""
