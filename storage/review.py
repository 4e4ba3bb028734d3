"""Which practices a sweep must look at: change counters written with the facts, read by the sweep.

A weekly sweep of every practice recomputed, for thousands of practices, what had not changed since the
week before. Instead, every write of a fact that a practice's trajectory or duties are computed from
bumps a counter on its ``practice_review`` row in the same transaction (``touch``), and the sweep reviews
only the practices whose counters passed what it last reviewed, whose shared inputs (policy, calendar,
reference figures: the *basis*) changed, or whose next time-based decision day has come.

Invariants:
- ``touch`` counts each practice once per transaction (a savepoint counts anew); it is called by the storage
  functions that write such facts (``repository.save_registry``,
  ``enrol``, ``append_transition``, ``add_conversation``, ``save_scores``; ``obligations.record_kit_refresh``,
  ``record_course_completion``, ``record_move``), never by callers, so no write path can forget it.
- A review reads the counters *before* the facts and records those: a write that lands in between leaves
  the counter ahead of the mark, so the practice is reviewed again. Marks may go backwards when two workers
  race; that only causes a review too many, never one too few.
- Every practice has a row from its registration on (``register``; the migration adds them for practices
  registered before), so no change is lost for want of a row to count it on. A practice without a row all
  the same is always due.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from storage import driver
from storage.tables import PracticeReviewRow, PracticeRow

_TABLE: Any = PracticeReviewRow.__table__  # type: ignore[attr-defined]


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # each dialect loaded only when its database is used

        return postgresql.insert(_TABLE)
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(_TABLE)
    raise NotImplementedError(dialect)  # pragma: no cover - only SQLite and PostgreSQL are supported


_TOUCH = {column: sa.update(_TABLE).where(_TABLE.c.agb_code.in_(sa.bindparam("codes", expanding=True)))
          .values({column: _TABLE.c[column] + 1}) for column in ("changes", "scores")}
# one practice (a conversation, a step, an event): a plain equality, not a list rendered anew for every call
_TOUCH_ONE = {column: sa.update(_TABLE).where(_TABLE.c.agb_code == sa.bindparam("code"))
              .values({column: _TABLE.c[column] + 1}) for column in ("changes", "scores")}


# per transaction (or savepoint) of a session, what it already counted: a change is counted once per transaction,
# which is all a review reads (a counter past its mark); a conversation touched its practice three times (the
# conversation, its step, the step's event). A savepoint counts anew: rolled back, its count is gone with it.
_COUNTED: weakref.WeakKeyDictionary[Any, set[tuple[str, bool]]] = weakref.WeakKeyDictionary()


def touch(session: Session, codes: Iterable[str], *, scores: bool = False) -> None:
    """Count a change of the facts (or, with ``scores``, of the indicator scores) of these practices, once per
    transaction.

    An update only (indicator scores may name a practice not registered); every registered practice has a
    row (``register``)."""
    connection = session.connection()  # begins the session's transaction, if it had none yet
    transaction = session.get_nested_transaction() or session.get_transaction()
    counted = _COUNTED.setdefault(transaction, set()) if transaction is not None else set()
    ordered = [code for code in sorted(set(codes)) if (code, scores) not in counted]
    column = "scores" if scores else "changes"
    if len(ordered) == 1:
        driver.execute(session, _TOUCH_ONE[column], {"code": ordered[0]})
    else:
        for start in range(0, len(ordered), 1000):
            connection.execute(_TOUCH[column], {"codes": ordered[start:start + 1000]})
    counted.update((code, scores) for code in ordered)


def _practices_with_review(codes: Sequence[str] | None) -> Any:
    query = (sa.select(col(PracticeRow.agb_code))
             .select_from(sa.outerjoin(PracticeRow.__table__, _TABLE,  # type: ignore[attr-defined]
                                       _TABLE.c.agb_code == col(PracticeRow.agb_code))))
    if codes is not None:
        query = query.where(col(PracticeRow.agb_code).in_(list(codes)))
    return query.order_by(col(PracticeRow.agb_code))


def due_for_evaluation(session: Session, basis: str, on: date, codes: Sequence[str] | None = None) -> list[str]:
    """Practices whose trajectory must be evaluated on ``on``: a fact or score changed, the basis changed,
    or a time-based decision falls due."""
    t = _TABLE
    query = _practices_with_review(codes).where(sa.or_(
        t.c.agb_code.is_(None), t.c.changes > t.c.evaluated_changes, t.c.scores > t.c.evaluated_scores,
        t.c.evaluated_basis != basis, t.c.evaluate_on <= on))
    return list(session.connection().execute(query).scalars())


def due_for_planning(session: Session, basis: str, codes: Sequence[str] | None = None) -> list[str]:
    """Practices whose duties must be planned again: a fact changed, or the planning basis did."""
    t = _TABLE
    query = _practices_with_review(codes).where(sa.or_(
        t.c.agb_code.is_(None), t.c.changes > t.c.planned_changes, t.c.planned_basis != basis))
    return list(session.connection().execute(query).scalars())


def stamps(session: Session, codes: Sequence[str] | None) -> dict[str, tuple[int, int]]:
    """(changes, scores) of these practices (``None``: of all), as they stand before a review reads their facts."""
    query = sa.select(_TABLE.c.agb_code, _TABLE.c.changes, _TABLE.c.scores)
    if codes is not None:
        if not codes:
            return {}
        query = query.where(_TABLE.c.agb_code.in_(list(codes)))
    return {code: (changes, scores) for code, changes, scores in session.connection().execute(query)}


def register(session: Session, codes: Iterable[str]) -> None:
    """Rows for newly registered practices: one change counted, nothing reviewed yet (``touch`` only updates
    rows, so every practice gets one when it is registered)."""
    rows = [_fresh(code, (1, 0)) for code in sorted(set(codes))]
    if rows:
        session.connection().execute(sa.insert(_TABLE), rows)


def _upsert(session: Session, rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    if not rows:
        return
    stmt = _insert(session)
    stmt = stmt.on_conflict_do_update(index_elements=["agb_code"], set_={c: stmt.excluded[c] for c in columns})
    session.connection().execute(stmt, rows)


def _fresh(code: str, stamp: tuple[int, int]) -> dict[str, Any]:
    return {"agb_code": code, "changes": stamp[0], "scores": stamp[1], "evaluated_changes": 0, "evaluated_scores": 0,
            "evaluated_basis": "", "evaluate_on": None, "planned_changes": 0, "planned_basis": ""}


def mark_evaluated(session: Session, marks: Mapping[str, tuple[tuple[int, int], date | None]], basis: str) -> None:
    """Record that these practices were evaluated at the given stamps, and their next decision day."""
    rows = [_fresh(code, stamp) | {"evaluated_changes": stamp[0], "evaluated_scores": stamp[1],
                                   "evaluated_basis": basis, "evaluate_on": evaluate_on}
            for code, (stamp, evaluate_on) in sorted(marks.items())]
    _upsert(session, rows, ["evaluated_changes", "evaluated_scores", "evaluated_basis", "evaluate_on"])


def mark_planned(session: Session, marks: Mapping[str, tuple[int, int]], basis: str) -> None:
    """Record that these practices' duties were planned at the given stamps."""
    rows = [_fresh(code, stamp) | {"planned_changes": stamp[0], "planned_basis": basis}
            for code, stamp in sorted(marks.items())]
    _upsert(session, rows, ["planned_changes", "planned_basis"])
