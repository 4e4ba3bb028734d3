"""the indicators some practice has figures of (``scored_indicator``), kept with the figures: a chunk's latest
figures are looked up one seek per practice and indicator, instead of aggregating every figure of the chunk's
history (issue 16: at 5,000 practices after three years, 210,000 figures a chunk of 1,000); filled here from the
figures already stored

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scored_indicator',
        sa.Column('programme', sa.String(length=16), nullable=False),
        sa.Column('indicator', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('programme', 'indicator'),
    )
    scores = sa.table('indicator_score', sa.column('programme'), sa.column('indicator'))
    keys = sa.table('scored_indicator', sa.column('programme'), sa.column('indicator'))
    op.get_bind().execute(keys.insert().from_select(
        ['programme', 'indicator'], sa.select(scores.c.programme, scores.c.indicator).distinct()))


def downgrade() -> None:
    op.drop_table('scored_indicator')
