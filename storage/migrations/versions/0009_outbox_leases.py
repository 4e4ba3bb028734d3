"""outbox leases: a claim holds a row for a while of real (database) time

A dispatcher's claim was judged by the caller's logical moment, so a second dispatcher working for a later
moment took an in-flight message for stranded and sent it twice. Rows already ``sending`` get a lease that has
ended (their last attempt), so the next dispatcher may take them as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(), nullable=True))
    op.execute("UPDATE outbox SET lease_until = last_attempt_at WHERE status = 'sending'")


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
