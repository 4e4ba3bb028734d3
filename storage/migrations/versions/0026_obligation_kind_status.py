"""obligations indexed by kind and status (``ix_obligation_kind_status``, replacing ``ix_obligation_kind``): the
open rows of some kinds (the care group's meetings every sweep keeps in line, a batch's practice duties) are a
range of this index; SQLite's planner, which has no statistics, chose the status index for such a query and read
every open obligation, some 36,000 at 5,000 practices, to find 30 meetings (issue 16)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 05:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_obligation_kind'))
        batch_op.create_index('ix_obligation_kind_status', ['kind', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index('ix_obligation_kind_status')
        batch_op.create_index(batch_op.f('ix_obligation_kind'), ['kind'], unique=False)
