"""Reading and writing the course catalogue (seed section 4, "Scholing").

The caller owns the transaction, as in ``storage.repository``.

Invariants:
- An import is kept whole (its rows share an ``import_id``), never changed; the latest import is the catalogue.
- Before any import there is no stored catalogue: ``catalogue`` returns ``None`` and the caller takes the shipped
  one (``domain.courses.SHIPPED_CATALOGUE``).
- What every practice owes changes with the mandatory courses: their fingerprint is part of the planning basis
  (``flows.services.duties.ReviewBasis``), so the next sweep plans every practice again after an import.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from domain.courses import Course
from domain.messages import uuid5_text
from domain.vocabulary import Role
from storage.tables import CourseRow


def add_catalogue(session: Session, courses: Sequence[Course], now: datetime, actor: str) -> str:
    """Store ``courses`` as the catalogue from now on; returns the import's id."""
    import_id = uuid5_text(f"course_catalogue:{now.isoformat()}:{actor}")
    for position, c in enumerate(courses):
        session.add(CourseRow(id=uuid5_text(f"course:{import_id}:{c.code}"), import_id=import_id,
                              position=position, code=c.code, name=c.name, kind=c.kind.value,
                              roles=sorted(r.value for r in c.roles), every_months=c.every_months,
                              first_within_months=c.first_within_months, url=c.url, recorded_at=now, actor=actor))
    session.flush()
    return import_id


def catalogue(session: Session) -> tuple[Course, ...] | None:
    """The catalogue as last imported, in the file's order; ``None`` before any import."""
    latest = session.exec(select(CourseRow.import_id).order_by(col(CourseRow.recorded_at).desc(),
                                                              col(CourseRow.import_id).desc()).limit(1)).first()
    if latest is None:
        return None
    rows = session.exec(select(CourseRow).where(col(CourseRow.import_id) == latest)
                        .order_by(col(CourseRow.position))).all()
    return tuple(Course(code=r.code, name=r.name, kind=r.kind, roles=frozenset(Role(x) for x in r.roles),
                        every_months=r.every_months, first_within_months=r.first_within_months, url=r.url)
                 for r in rows)


def current(session: Session) -> tuple[Course, ...]:
    """The catalogue in force: the last import, else the shipped one."""
    from domain.courses import SHIPPED_CATALOGUE

    return catalogue(session) or SHIPPED_CATALOGUE
