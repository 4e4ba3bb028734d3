"""the workspace (issue 15): accounts with a role and an Argon2 password hash, signed-in sessions (the hash of their
token, their CSRF token); the outbox indexed by practice (a practice's page lists its messages)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 21:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'user_account',
        sa.Column('login', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('agb_code', sa.String(length=8), nullable=True),
        sa.Column('gp_group', sa.String(length=64), nullable=True),
        sa.Column('password_hash', sa.String(), nullable=False),
        sa.Column('disabled', sa.Boolean(), nullable=False),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('last_failed_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.PrimaryKeyConstraint('login'),
    )
    op.create_table(
        'web_session',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('login', sa.String(length=64), nullable=False),
        sa.Column('csrf_token', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['login'], ['user_account.login']),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_login'), ['login'], unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_agb_code'), ['agb_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_agb_code'))
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_login'))
    op.drop_table('web_session')
    op.drop_table('user_account')
