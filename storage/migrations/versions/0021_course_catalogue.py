"""the course catalogue: the care group's mandatory, basic, start and advanced courses, imported whole; the mandatory
courses leave the policy

When the latest stored policy version set its own mandatory courses (other than the defaults shipped before this
revision), they are brought into the catalogue as its first import, so a care group keeps what it set; the key is
then taken out of every stored version (the policy no longer has it).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 17:30:00.000000
"""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# domain.messages.NAMESPACE, as it was when this revision was written (a migration does not import the domain)
_NAMESPACE = uuid.UUID("6f1c1d8e-3a3b-5d1e-9c55-2f6a3c0b7a11")

# the policy's mandatory courses before this revision: a stored version with exactly these set nothing of its own
_OLD_DEFAULTS = [
    {"code": "caspir", "roles": ["doctors_assistant", "nurse", "poh_chronic"], "every_months": 24},
    {"code": "langerhans", "roles": ["gp", "gp_principal", "nurse_practitioner", "poh_chronic"], "every_months": 24},
]


def _shape(course: dict) -> dict:
    return {"code": course.get("code"), "roles": sorted(course.get("roles") or []),
            "every_months": course.get("every_months")}


def upgrade() -> None:
    op.create_table(
        'course',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('import_id', sa.String(length=36), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('roles', sa.JSON(), nullable=False),
        sa.Column('every_months', sa.Integer(), nullable=True),
        sa.Column('first_within_months', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_import_id'), ['import_id'], unique=False)

    bind = op.get_bind()
    versions = sa.table('policy_version', sa.column('number', sa.Integer), sa.column('policy', sa.JSON),
                        sa.column('recorded_at'))
    courses = sa.table('course', *(sa.column(c) for c in (
        'id', 'import_id', 'position', 'code', 'name', 'kind', 'every_months', 'first_within_months', 'url',
        'recorded_at', 'actor')), sa.column('roles', sa.JSON))
    rows = bind.execute(sa.select(versions.c.number, versions.c.policy, versions.c.recorded_at)
                        .order_by(versions.c.number)).all()
    own, own_at = None, None
    for number, policy, recorded_at in rows:
        policy = json.loads(policy) if isinstance(policy, str) else dict(policy or {})
        if "mandatory_courses" not in policy:
            continue
        set_ = policy.pop("mandatory_courses") or []
        # the latest version's courses stand: its own ones are brought in; the old defaults need nothing (the
        # shipped catalogue holds, now with practice managers)
        own, own_at = (set_, recorded_at) if [_shape(c) for c in set_] != _OLD_DEFAULTS else (None, None)
        bind.execute(versions.update().where(versions.c.number == number).values(policy=policy))
    if own:
        import_id = str(uuid.uuid5(_NAMESPACE, "course_catalogue:migration-0021"))
        bind.execute(courses.insert(), [{
            "id": str(uuid.uuid5(_NAMESPACE, f"course:{import_id}:{c['code']}")), "import_id": import_id,
            "position": i, "code": c["code"], "name": c["name"], "kind": "mandatory", "roles": sorted(c["roles"]),
            "every_months": c["every_months"], "first_within_months": c.get("first_within_months", 6),
            # recorded when the care group recorded them, in the policy version that set them (as stored, UTC): a
            # migration is given no moment of its own, and the wall clock at upgrade is no fact of the care group
            "url": c.get("url"), "recorded_at": own_at, "actor": "migratie 0021"} for i, c in enumerate(own)])


def downgrade() -> None:
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_import_id'))
    op.drop_table('course')
