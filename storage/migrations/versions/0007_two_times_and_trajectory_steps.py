"""two times on trajectory events, and the steps recorded facts ask of a trajectory

``trajectory_event.recorded_at``: when an event was written (``at`` is when it happened); events stored
before hold one time, which becomes both. ``trajectory_step``: a conversation or a leave recorded, waiting
for the engine to reach the moment it happened; facts recorded before were taken at once, so none waits.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('trajectory_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE trajectory_event SET recorded_at = at")
    with op.batch_alter_table('trajectory_event', schema=None) as batch_op:
        batch_op.alter_column('recorded_at', existing_type=sa.DateTime(), nullable=False)
    op.create_table('trajectory_step',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agb_code', sa.String(length=8), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('happened_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('waiting', sa.String(), nullable=True),
    sa.Column('event_seq', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('trajectory_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trajectory_step_agb_code'), ['agb_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_trajectory_step_happened_at'), ['happened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_trajectory_step_status'), ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('trajectory_step')
    with op.batch_alter_table('trajectory_event', schema=None) as batch_op:
        batch_op.drop_column('recorded_at')
