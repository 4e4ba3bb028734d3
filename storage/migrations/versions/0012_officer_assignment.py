"""officer assignment: which officers hold a practice's conversations, kept once chosen

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'officer_assignment',
        sa.Column('agb_code', sa.String(length=8), nullable=False),
        sa.Column('officers', sa.JSON(), nullable=False),
        sa.Column('by_hand', sa.Boolean(), nullable=False),
        sa.Column('assigned_at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.PrimaryKeyConstraint('agb_code'),
    )


def downgrade() -> None:
    op.drop_table('officer_assignment')
