"""mirror meetings: a GP group's mirror meeting as events and their projection; a GP group names its EKC and
whether its mirror pack shows the practices anonymised

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('gp_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ekc_name', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('ekc_email', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('anonymise_mirror', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'mirror_meeting_event',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('meeting_id', sa.String(length=12), nullable=False),
        sa.Column('gp_group', sa.String(length=64), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('from_state', sa.String(length=16), nullable=False),
        sa.Column('to_state', sa.String(length=16), nullable=False),
        sa.Column('on', sa.Date(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['gp_group'], ['gp_group.code']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('meeting_id', 'seq', name='uq_mirror_meeting_event_seq'),
    )
    with op.batch_alter_table('mirror_meeting_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mirror_meeting_event_meeting_id'), ['meeting_id'], unique=False)
    op.create_table(
        'mirror_meeting',
        sa.Column('id', sa.String(length=12), nullable=False),
        sa.Column('gp_group', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('view', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['gp_group'], ['gp_group.code']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('mirror_meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mirror_meeting_gp_group'), ['gp_group'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mirror_meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mirror_meeting_gp_group'))
    op.drop_table('mirror_meeting')
    with op.batch_alter_table('mirror_meeting_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mirror_meeting_event_meeting_id'))
    op.drop_table('mirror_meeting_event')
    with op.batch_alter_table('gp_group', schema=None) as batch_op:
        batch_op.drop_column('anonymise_mirror')
        batch_op.drop_column('ekc_email')
        batch_op.drop_column('ekc_name')
