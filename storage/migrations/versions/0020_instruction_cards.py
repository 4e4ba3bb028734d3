"""instruction cards and patient leaflets: the card sets published, each practice's folder marked current, and the
register of leaflets per programme

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'card_set',
        sa.Column('version', sa.String(length=32), nullable=False),
        sa.Column('published_on', sa.Date(), nullable=False),
        sa.Column('note', sa.String(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.Column('behind_reported_on', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('version'),
    )
    with op.batch_alter_table('card_set', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_set_published_on'), ['published_on'], unique=False)
    op.create_table(
        'card_folder',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('agb_code', sa.String(length=8), nullable=False),
        sa.Column('version', sa.String(length=32), nullable=False),
        sa.Column('current_on', sa.Date(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.ForeignKeyConstraint(['version'], ['card_set.version']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('card_folder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_folder_agb_code'), ['agb_code'], unique=False)
    op.create_table(
        'leaflet',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('programme', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('url', sa.String(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('leaflet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leaflet_programme'), ['programme'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('leaflet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leaflet_programme'))
    op.drop_table('leaflet')
    with op.batch_alter_table('card_folder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_folder_agb_code'))
    op.drop_table('card_folder')
    with op.batch_alter_table('card_set', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_set_published_on'))
    op.drop_table('card_set')
