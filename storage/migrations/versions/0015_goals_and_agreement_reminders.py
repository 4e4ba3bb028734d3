"""goals and agreement reminders: every goal set in a conversation is a row, judged once on its day; an agreement
notes the day its owner was reminded that it is past due

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 10:00:00.000000

The goals of plans and reports recorded before this revision are brought in from the conversations (ids as the
application derives them), open: the next sweep judges those whose day has passed.
"""

from __future__ import annotations

import json
import uuid
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# as domain.rules.goals.goal_id: a migration does not import the application (it must run as written, whatever
# the application later becomes)
_NAMESPACE = uuid.UUID("7a1c2e4b-3d5f-5a6b-8c9d-1e2f3a4b5c6d")


def _goal_id(conversation_id: str, position: int) -> str:
    return uuid.uuid5(_NAMESPACE, f"{conversation_id}:goal:{position}").hex[:12]


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def upgrade() -> None:
    goal = op.create_table(
        'goal',
        sa.Column('id', sa.String(length=12), nullable=False),
        sa.Column('agb_code', sa.String(length=8), nullable=False),
        sa.Column('conversation_id', sa.String(length=36), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('programme', sa.String(length=16), nullable=False),
        sa.Column('indicator', sa.String(length=64), nullable=False),
        sa.Column('target', sa.Float(), nullable=False),
        sa.Column('by', sa.Date(), nullable=False),
        sa.Column('set_on', sa.Date(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('judged_on', sa.Date(), nullable=True),
        sa.Column('judged_at', sa.DateTime(), nullable=True),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('numerator', sa.Integer(), nullable=True),
        sa.Column('denominator', sa.Integer(), nullable=True),
        sa.Column('period_end', sa.Date(), nullable=True),
        sa.Column('interval_low', sa.Float(), nullable=True),
        sa.Column('interval_high', sa.Float(), nullable=True),
        sa.Column('reason', sa.String(), nullable=True),
        sa.ForeignKeyConstraint(['agb_code'], ['practice.agb_code']),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_agb_code'), ['agb_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_goal_by'), ['by'], unique=False)
        batch_op.create_index(batch_op.f('ix_goal_status'), ['status'], unique=False)
    with op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_on', sa.Date(), nullable=True))
    conversation = sa.table('conversation', sa.column('id', sa.String), sa.column('agb_code', sa.String),
                            sa.column('held_on', sa.Date), sa.column('plan', sa.JSON),
                            sa.column('report', sa.JSON), sa.column('recorded_at', sa.DateTime))
    rows = []
    for c in op.get_bind().execute(sa.select(conversation)).mappings():
        for source in (c['plan'], c['report']):
            data = json.loads(source) if isinstance(source, str) else source
            goals = (data or {}).get('goals') or []
            if not goals:
                continue
            rows += [{'id': _goal_id(c['id'], i), 'agb_code': c['agb_code'], 'conversation_id': c['id'],
                      'position': i, 'programme': g['programme'], 'indicator': g['indicator'],
                      'target': float(g['target']), 'by': _as_date(g['by']), 'set_on': _as_date(c['held_on']),
                      'recorded_at': c['recorded_at'],  # the conversation's (never NULL: 0001)
                      'status': 'open'} for i, g in enumerate(goals)]
            break  # a conversation has a plan or a report with goals, not both
    if rows:
        op.bulk_insert(goal, rows)


def downgrade() -> None:
    with op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.drop_column('reminded_on')
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_status'))
        batch_op.drop_index(batch_op.f('ix_goal_by'))
        batch_op.drop_index(batch_op.f('ix_goal_agb_code'))
    op.drop_table('goal')
