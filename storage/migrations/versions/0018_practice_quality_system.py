"""the practice's own quality system (seed 003): its yearly checklist, its NHG accreditation and its peer review
group

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'practice_checklist',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('agb_code', sa.String(length=8), nullable=False),
        sa.Column('filled_on', sa.Date(), nullable=False),
        sa.Column('dispensing_practice', sa.Boolean(), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('agb_code', 'filled_on', name='uq_practice_checklist_day'),
    )
    with op.batch_alter_table('practice_checklist', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_checklist_agb_code'), ['agb_code'], unique=False)
    op.create_table(
        'nhg_accreditation',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('agb_code', sa.String(length=8), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('audited_on', sa.Date(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('nhg_accreditation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nhg_accreditation_agb_code'), ['agb_code'], unique=False)
    op.create_table(
        'peer_review_group',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('agb_code', sa.String(length=8), nullable=False),
        sa.Column('group_name', sa.String(), nullable=False),
        sa.Column('led_by_ekc', sa.Boolean(), nullable=False),
        sa.Column('ekc_name', sa.String(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('peer_review_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peer_review_group_agb_code'), ['agb_code'], unique=False)


def downgrade() -> None:
    for table in ('peer_review_group', 'nhg_accreditation', 'practice_checklist'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_agb_code'))
        op.drop_table(table)
