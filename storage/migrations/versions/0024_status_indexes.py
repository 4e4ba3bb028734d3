"""the outbox indexed by status, retry moment and failure (``ix_outbox_status_retry``, replacing ``ix_outbox_status``):
the messages held for want of an address are read by every status page of the workspace (issue 15), as a range;
indicator scores indexed by period (``ix_indicator_score_period_end``: the care group's spread of one period); a
duty run names the Prefect flow run that ran it (``duty_run.flow_run_id``: the workspace's runs page links to it)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 23:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_status'))
        batch_op.create_index('ix_outbox_status_retry', ['status', 'next_attempt_at', 'last_error'], unique=False)
    with op.batch_alter_table('indicator_score', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_score_period_end', ['period_end'], unique=False)
    with op.batch_alter_table('duty_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flow_run_id', sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('duty_run', schema=None) as batch_op:
        batch_op.drop_column('flow_run_id')
    with op.batch_alter_table('indicator_score', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_score_period_end')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_retry')
        batch_op.create_index(batch_op.f('ix_outbox_status'), ['status'], unique=False)
