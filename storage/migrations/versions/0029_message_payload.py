"""a payload several messages share kept once (``message_payload``, ``outbox.payload_id``): a conversation's
invitation carried the conversation's pack, some 4-5 KB, to each of its five or six recipients, 485 MB of the outbox
at 5,000 practices over three years (issue 16). Messages queued before keep their payload in their own row.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'message_payload',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    # no foreign key: on SQLite adding one rebuilds the whole outbox; the payload row is written in the transaction
    # that queues its messages and never deleted (``storage.repository.queue_messages``)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    outbox = sa.table('outbox', sa.column('payload_id', sa.String()), sa.column('payload', sa.JSON()))
    payloads = sa.table('message_payload', sa.column('id', sa.String()), sa.column('payload', sa.JSON()))
    # the shared payloads put back in each of their messages before the table goes
    op.get_bind().execute(outbox.update().where(outbox.c.payload_id.is_not(None)).values(
        payload=sa.select(payloads.c.payload).where(payloads.c.id == outbox.c.payload_id).scalar_subquery()))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('payload_id')
    op.drop_table('message_payload')
