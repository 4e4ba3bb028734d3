"""support as tracked work: every change of a support activity an event, and its projection

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'support_event',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('support_id', sa.String(length=12), nullable=False),
        sa.Column('agb_code', sa.String(length=8), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('from_state', sa.String(length=16), nullable=False),
        sa.Column('to_state', sa.String(length=16), nullable=False),
        sa.Column('on', sa.Date(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('support_id', 'seq', name='uq_support_event_seq'),
    )
    with op.batch_alter_table('support_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_event_support_id'), ['support_id'], unique=False)
    op.create_table(
        'support',
        sa.Column('id', sa.String(length=12), nullable=False),
        sa.Column('agb_code', sa.String(length=8), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('view', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('support', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_agb_code'), ['agb_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('support', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_state'))
        batch_op.drop_index(batch_op.f('ix_support_agb_code'))
    op.drop_table('support')
    with op.batch_alter_table('support_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_event_support_id'))
    op.drop_table('support_event')
