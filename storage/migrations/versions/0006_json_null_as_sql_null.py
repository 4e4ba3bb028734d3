"""JSON columns that may be empty hold SQL NULL, never the JSON text 'null'

A conversation without a plan was stored as the JSON text ``null``: ``plan IS NOT NULL`` let it through, and
the next invitation lost the agreements of the practice's last plan. The columns are now declared with
``none_as_null``; this turns what was stored before into SQL NULL (conversation.plan, obligation_change
old and new).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 15:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

COLUMNS = (("conversation", "plan"), ("obligation_change", "old"), ("obligation_change", "new"))


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, column in COLUMNS:
        text = f"CAST({column} AS TEXT)" if postgres else column
        op.execute(f"UPDATE {table} SET {column} = NULL WHERE {text} = 'null'")


def downgrade() -> None:
    pass  # SQL NULL reads back as None, as the JSON text did
