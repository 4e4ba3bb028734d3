"""the neighbourhood (seed 5): each practice's core team for elderly care, its GPO cadence and its GPO and MDO counts
per quarter; each GP group's network plan with partners as events and their projection

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

_PER_PRACTICE = ('core_team', 'gpo_cadence', 'neighbourhood_count')


def _practice_columns() -> list[sa.Column]:
    return [sa.Column('id', sa.String(length=36), nullable=False),
            sa.Column('agb_code', sa.String(length=8), nullable=False)]


def _recorded() -> list[sa.Column]:
    return [sa.Column('recorded_at', sa.DateTime(), nullable=False), sa.Column('actor', sa.String(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'core_team', *_practice_columns(),
        sa.Column('formed_on', sa.Date(), nullable=False),
        sa.Column('members', sa.JSON(), nullable=False),
        sa.Column('complete', sa.Boolean(), nullable=False),
        *_recorded(),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'gpo_cadence', *_practice_columns(),
        sa.Column('every_weeks', sa.Integer(), nullable=False),
        sa.Column('since', sa.Date(), nullable=False),
        *_recorded(),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'neighbourhood_count', *_practice_columns(),
        sa.Column('quarter', sa.String(length=6), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        *_recorded(),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.PrimaryKeyConstraint('id'),
    )
    for table in _PER_PRACTICE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_agb_code'), ['agb_code'], unique=False)
    op.create_table(
        'network_plan_event',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('gp_group', sa.String(length=64), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('from_state', sa.String(length=16), nullable=False),
        sa.Column('to_state', sa.String(length=16), nullable=False),
        sa.Column('on', sa.Date(), nullable=False),
        *_recorded(),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['gp_group'], ['gp_group.code']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('gp_group', 'seq', name='uq_network_plan_event_seq'),
    )
    with op.batch_alter_table('network_plan_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_plan_event_gp_group'), ['gp_group'], unique=False)
    op.create_table(
        'network_plan',
        sa.Column('gp_group', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('view', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['gp_group'], ['gp_group.code']),
        sa.PrimaryKeyConstraint('gp_group'),
    )


def downgrade() -> None:
    op.drop_table('network_plan')
    with op.batch_alter_table('network_plan_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_plan_event_gp_group'))
    op.drop_table('network_plan_event')
    for table in reversed(_PER_PRACTICE):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_agb_code'))
        op.drop_table(table)
