"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 03:51:55.719914
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('care_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('email', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('email', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('role', 'name', name='uq_contact_role_name')
    )
    op.create_table('engine_run',
    sa.Column('moment', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('transitions', sa.Integer(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('moment')
    )
    op.create_table('gp_group',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('indicator',
    sa.Column('programme', sa.String(length=16), nullable=False),
    sa.Column('indicator', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('main', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('programme', 'indicator')
    )
    op.create_table('national_average',
    sa.Column('programme', sa.String(length=16), nullable=False),
    sa.Column('indicator', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('national_average', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('programme', 'indicator', 'year')
    )
    op.create_table('outbox',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('agb_code', sa.String(length=8), nullable=True),
    sa.Column('recipient_name', sa.String(), nullable=False),
    sa.Column('recipient_email', sa.String(), nullable=True),
    sa.Column('recipient_role', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_status'), ['status'], unique=False)

    op.create_table('target',
    sa.Column('programme', sa.String(length=16), nullable=False),
    sa.Column('indicator', sa.String(length=64), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('programme', 'indicator')
    )
    op.create_table('practice',
    sa.Column('agb_code', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('gp_group', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['gp_group'], ['gp_group.code'], ),
    sa.PrimaryKeyConstraint('agb_code')
    )
    op.create_table('conversation',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agb_code', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('programme', sa.String(length=16), nullable=True),
    sa.Column('attendees', sa.JSON(), nullable=False),
    sa.Column('attendance_gaps', sa.JSON(), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_agb_code'), ['agb_code'], unique=False)

    op.create_table('enrolment',
    sa.Column('agb_code', sa.String(length=8), nullable=False),
    sa.Column('programme', sa.String(length=16), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code'], ),
    sa.PrimaryKeyConstraint('agb_code', 'programme')
    )
    op.create_table('indicator_score',
    sa.Column('agb_code', sa.String(length=8), nullable=False),
    sa.Column('programme', sa.String(length=16), nullable=False),
    sa.Column('indicator', sa.String(length=64), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('numerator', sa.Integer(), nullable=False),
    sa.Column('denominator', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code'], ),
    sa.PrimaryKeyConstraint('agb_code', 'programme', 'indicator', 'period_end')
    )
    op.create_table('practice_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agb_code', sa.String(length=8), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('email', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agb_code', 'role', 'name', name='uq_practice_person')
    )
    with op.batch_alter_table('practice_person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_person_agb_code'), ['agb_code'], unique=False)

    op.create_table('trajectory',
    sa.Column('agb_code', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('since', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('view', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code'], ),
    sa.PrimaryKeyConstraint('agb_code')
    )
    with op.batch_alter_table('trajectory', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trajectory_state'), ['state'], unique=False)

    op.create_table('trajectory_event',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agb_code', sa.String(length=8), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=False),
    sa.Column('to_state', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agb_code', 'seq', name='uq_trajectory_event_seq')
    )


def downgrade() -> None:
    op.drop_table('trajectory_event')
    with op.batch_alter_table('trajectory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trajectory_state'))

    op.drop_table('trajectory')
    with op.batch_alter_table('practice_person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practice_person_agb_code'))

    op.drop_table('practice_person')
    op.drop_table('indicator_score')
    op.drop_table('enrolment')
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_agb_code'))

    op.drop_table('conversation')
    op.drop_table('practice')
    op.drop_table('target')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_status'))
        batch_op.drop_index(batch_op.f('ix_outbox_kind'))

    op.drop_table('outbox')
    op.drop_table('national_average')
    op.drop_table('indicator')
    op.drop_table('gp_group')
    op.drop_table('engine_run')
    op.drop_table('contact')
    op.drop_table('care_group')
