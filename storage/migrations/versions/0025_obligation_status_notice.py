"""obligations indexed by status and next notice day (``ix_obligation_status_notice``, replacing
``ix_obligation_status``): every sweep reads the open obligations with a notice due by its day, a range of this
index; by status alone it read every open obligation, tens of thousands at 5,000 practices (issue 16)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 03:15:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_obligation_status'))
        batch_op.create_index('ix_obligation_status_notice', ['status', 'next_notice_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index('ix_obligation_status_notice')
        batch_op.create_index(batch_op.f('ix_obligation_status'), ['status'], unique=False)
