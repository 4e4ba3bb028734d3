"""conversation reports and agreements: a conversation keeps its report and the agreements it left unevaluated;
every agreement made is a row, open until a later conversation evaluates it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report', sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column('agreement_gaps', sa.JSON(), nullable=False, server_default='[]'))
    op.create_table(
        'agreement',
        sa.Column('id', sa.String(length=12), nullable=False),
        sa.Column('agb_code', sa.String(length=8), nullable=False),
        sa.Column('conversation_id', sa.String(length=36), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('text', sa.String(), nullable=False),
        sa.Column('owner', sa.String(length=16), nullable=False),
        sa.Column('due', sa.Date(), nullable=True),
        sa.Column('support', sa.String(length=16), nullable=True),
        sa.Column('made_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('evaluated_on', sa.Date(), nullable=True),
        sa.Column('evaluated_in', sa.String(length=36), nullable=True),
        sa.Column('note', sa.String(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_agb_code'), ['agb_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_status'))
        batch_op.drop_index(batch_op.f('ix_agreement_agb_code'))
    op.drop_table('agreement')
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_column('agreement_gaps')
        batch_op.drop_column('report')
