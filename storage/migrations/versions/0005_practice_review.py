"""practice review: change counters so a sweep looks only at practices whose facts or deadlines moved

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('practice_review',
    sa.Column('agb_code', sa.String(length=8), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.Column('scores', sa.Integer(), nullable=False),
    sa.Column('evaluated_changes', sa.Integer(), nullable=False),
    sa.Column('evaluated_scores', sa.Integer(), nullable=False),
    sa.Column('evaluated_basis', sa.String(length=64), nullable=False),
    sa.Column('evaluate_on', sa.Date(), nullable=True),
    sa.Column('planned_changes', sa.Integer(), nullable=False),
    sa.Column('planned_basis', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code'], ),
    sa.PrimaryKeyConstraint('agb_code')
    )
    with op.batch_alter_table('practice_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_review_evaluate_on'), ['evaluate_on'], unique=False)
    # a row for every practice registered before: one change counted, so the first sweep reviews it
    op.execute("INSERT INTO practice_review (agb_code, changes, scores, evaluated_changes, evaluated_scores, "
               "evaluated_basis, evaluate_on, planned_changes, planned_basis) "
               "SELECT agb_code, 1, 0, 0, 0, '', NULL, 0, '' FROM practice")


def downgrade() -> None:
    with op.batch_alter_table('practice_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practice_review_evaluate_on'))
    op.drop_table('practice_review')
