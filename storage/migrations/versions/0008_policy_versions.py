"""policy versions: the care group's thresholds, each with the day from which it applies

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('policy_version',
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('applies_from', sa.Date(), nullable=False),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('number')
    )
    with op.batch_alter_table('policy_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_version_applies_from'), ['applies_from'], unique=False)


def downgrade() -> None:
    op.drop_table('policy_version')
