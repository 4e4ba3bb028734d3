"""obligations, kit refreshes, course completions and duty runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('duty_run',
    sa.Column('duty', sa.String(length=32), nullable=False),
    sa.Column('moment', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('duty', 'moment')
    )
    op.create_table('obligation',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('agb_code', sa.String(length=8), nullable=True),
    sa.Column('subject', sa.String(length=160), nullable=False),
    sa.Column('anchor_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('close_reason', sa.String(), nullable=True),
    sa.Column('basis', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('notices_done', sa.JSON(), nullable=False),
    sa.Column('next_notice_on', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_obligation_agb_code'), ['agb_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_obligation_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_obligation_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_obligation_next_notice_on'), ['next_notice_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_obligation_status'), ['status'], unique=False)

    op.create_table('obligation_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('obligation_key', sa.String(length=255), nullable=False),
    sa.Column('change', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('old', sa.JSON(), nullable=True),
    sa.Column('new', sa.JSON(), nullable=True),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('actor', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('obligation_key', 'change', 'at', name='uq_obligation_change')
    )
    with op.batch_alter_table('obligation_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_obligation_change_obligation_key'), ['obligation_key'], unique=False)

    op.create_table('course_completion',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agb_code', sa.String(length=8), nullable=False),
    sa.Column('person', sa.String(length=120), nullable=False),
    sa.Column('course', sa.String(length=32), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('course_completion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_completion_agb_code'), ['agb_code'], unique=False)

    op.create_table('kit_refresh',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agb_code', sa.String(length=8), nullable=False),
    sa.Column('kit', sa.String(length=16), nullable=False),
    sa.Column('refreshed_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kit_refresh', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kit_refresh_agb_code'), ['agb_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('kit_refresh', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kit_refresh_agb_code'))

    op.drop_table('kit_refresh')
    with op.batch_alter_table('course_completion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_completion_agb_code'))

    op.drop_table('course_completion')
    with op.batch_alter_table('obligation_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_obligation_change_obligation_key'))

    op.drop_table('obligation_change')
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_obligation_status'))
        batch_op.drop_index(batch_op.f('ix_obligation_next_notice_on'))
        batch_op.drop_index(batch_op.f('ix_obligation_kind'))
        batch_op.drop_index(batch_op.f('ix_obligation_due_on'))
        batch_op.drop_index(batch_op.f('ix_obligation_agb_code'))

    op.drop_table('obligation')
    op.drop_table('duty_run')
