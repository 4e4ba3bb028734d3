"""conversation moves: an officer moved a planned conversation to another day, and why

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'conversation_move',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('obligation_key', sa.String(length=255), nullable=False),
        sa.Column('agb_code', sa.String(length=8), nullable=False),
        sa.Column('moved_to', sa.Date(), nullable=False),
        sa.Column('moved_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('conversation_move', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_move_obligation_key'), ['obligation_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_move_agb_code'), ['agb_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conversation_move', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_move_agb_code'))
        batch_op.drop_index(batch_op.f('ix_conversation_move_obligation_key'))
    op.drop_table('conversation_move')
