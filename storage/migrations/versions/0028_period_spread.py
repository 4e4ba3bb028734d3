"""the care group's spread of each indicator and period kept as rows (``period_spread``), so that a page reads the
spreads of its period instead of every practice's figures of it (issue 16: a practice's page at 5,000 practices
read 96,000 figures); filled here from the figures already stored

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 05:20:00.000000
"""

from __future__ import annotations

import itertools
import statistics

import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def _spread(counts: list[tuple[int, int]]) -> dict[str, float | int]:
    """``domain.indicator_views.spread`` as it was when this revision was written (a migration does not import the
    domain); ``tests/integration/test_migrations.py`` holds the two together."""
    values = sorted(100 * n / d for n, d in counts)
    if len(values) == 1:
        p10 = p90 = values[0]
    else:
        cuts = statistics.quantiles(values, n=10, method="inclusive")
        p10, p90 = cuts[0], cuts[-1]
    pooled = 100 * sum(n for n, _ in counts) / sum(d for _, d in counts)
    return {"practices": len(values), "pooled": round(pooled, 2), "mean": round(statistics.fmean(values), 2),
            "median": round(statistics.median(values), 2), "p10": round(p10, 2), "p90": round(p90, 2)}


def upgrade() -> None:
    op.create_table(
        'period_spread',
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('programme', sa.String(length=16), nullable=False),
        sa.Column('indicator', sa.String(length=64), nullable=False),
        sa.Column('practices', sa.Integer(), nullable=False),
        sa.Column('pooled', sa.Float(), nullable=False),
        sa.Column('mean', sa.Float(), nullable=False),
        sa.Column('median', sa.Float(), nullable=False),
        sa.Column('p10', sa.Float(), nullable=False),
        sa.Column('p90', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('period_end', 'programme', 'indicator'),
    )
    bind = op.get_bind()
    scores = sa.table('indicator_score', *(sa.column(c) for c in (
        'period_end', 'programme', 'indicator', 'numerator', 'denominator')))
    spreads = sa.table('period_spread', *(sa.column(c) for c in (
        'period_end', 'programme', 'indicator', 'practices', 'pooled', 'mean', 'median', 'p10', 'p90')))
    ordered = bind.execute(sa.select(scores.c.period_end, scores.c.programme, scores.c.indicator, scores.c.numerator,
                                     scores.c.denominator)
                           .order_by(scores.c.period_end, scores.c.programme, scores.c.indicator))
    rows = [{"period_end": period_end, "programme": programme, "indicator": indicator,
             **_spread([(n, d) for *_, n, d in group])}
            for (period_end, programme, indicator), group in itertools.groupby(ordered, key=lambda r: tuple(r[:3]))]
    if rows:
        bind.execute(spreads.insert(), rows)


def downgrade() -> None:
    op.drop_table('period_spread')
