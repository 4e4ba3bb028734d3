"""indicator definitions and import history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 04:24:10.363796
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('indicator_import',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('new', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('indicator_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_import_sha256'), ['sha256'], unique=False)

    op.create_table('score_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.String(length=36), nullable=False),
    sa.Column('agb_code', sa.String(length=8), nullable=False),
    sa.Column('programme', sa.String(length=16), nullable=False),
    sa.Column('indicator', sa.String(length=64), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('old_numerator', sa.Integer(), nullable=False),
    sa.Column('old_denominator', sa.Integer(), nullable=False),
    sa.Column('new_numerator', sa.Integer(), nullable=False),
    sa.Column('new_denominator', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['indicator_import.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('score_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_revision_agb_code'), ['agb_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_revision_import_id'), ['import_id'], unique=False)

    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('check', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('window_months', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('value_op', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('value_threshold', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('numerator', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('denominator', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(), nullable=True))

    with op.batch_alter_table('indicator_score', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_id', sa.String(length=36), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('indicator_score', schema=None) as batch_op:
        batch_op.drop_column('import_id')

    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.drop_column('source')
        batch_op.drop_column('denominator')
        batch_op.drop_column('numerator')
        batch_op.drop_column('value_threshold')
        batch_op.drop_column('value_op')
        batch_op.drop_column('window_months')
        batch_op.drop_column('check')

    with op.batch_alter_table('score_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_revision_import_id'))
        batch_op.drop_index(batch_op.f('ix_score_revision_agb_code'))

    op.drop_table('score_revision')
    with op.batch_alter_table('indicator_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_import_sha256'))

    op.drop_table('indicator_import')
