"""Reading and writing obligations, kit refreshes, course completions and duty runs.

The caller owns the transaction, as in ``storage.repository``: an obligation's change, its log row
and the messages it causes are committed together.

Invariants:
- Inserts go through ``insert_ignore`` (``INSERT ... ON CONFLICT DO NOTHING`` on the unique key), so
  a retried run, or a second worker planning the same moment, writes nothing twice and never fails
  on the constraint: on PostgreSQL the second insert waits for the first transaction, then skips.
- Every update of an obligation is ``WHERE id = :id AND version = :expected`` and bumps the version;
  the loser of a race updates nothing and is told so (``None``), and does not log a change.
- Obligations are read as ``StoredObligation`` values, never as ORM rows: an update returns the value as it
  then stands, and a later read in the same transaction reads the table afresh.
- ``obligation_change`` is append-only.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from domain.messages import uuid5_text
from domain.obligations import KitKind, Obligation, ObligationKind, ObligationStatus
from domain.registry import Programme
from storage import driver, review
from storage.read_models import DutyRun, ObligationChange, StoredObligation, value_of
from storage.tables import (
    ConversationMoveRow,
    ConversationRow,
    CourseCompletionRow,
    DutyRunRow,
    KitRefreshRow,
    ObligationChangeRow,
    ObligationRow,
    OutboxRow,
)


@functools.cache
def _insert_ignore_statement(dialect: str, table: type[SQLModel], conflict: tuple[str, ...] = ()) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the dialect, ``RETURNING`` the ``conflict`` columns (none: run a
    row at a time through the driver, each run's row count says whether it inserted)."""
    tbl = table.__table__  # type: ignore[attr-defined]
    stmt: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # each dialect loaded only when its database is used

        stmt = postgresql.insert(tbl)
    elif dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        stmt = sqlite.insert(tbl)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(dialect)
    # no conflict target: a row's id is derived from its key (uuid5; a message's from its key and the moment it is
    # queued), so two workers inserting the same row at once collide on the primary key as well as on the key (and
    # a message queued again at another moment on the key alone), and PostgreSQL checks only the target's index
    # speculatively (a unique violation on the other one surfaced in a two-worker test); without a target,
    # every unique constraint makes the insert a no-op
    stmt = stmt.on_conflict_do_nothing()
    return stmt.returning(*[tbl.c[n] for n in conflict]) if conflict else stmt


def insert_ignore(session: Session, table: type[SQLModel], rows: Sequence[Mapping[str, Any]],
                  conflict: Sequence[str]) -> list[tuple[Any, ...]]:
    """Insert rows (each with the same columns), skipping any whose ``conflict`` columns already exist.
    Returns the ``conflict`` values (as given) of the rows this call inserted. On SQLite through the driver, a row
    at a time, each row's count saying whether it was new (``storage.driver``: SQLAlchemy's work per row, several
    times SQLite's, is done once); on PostgreSQL one statement with ``RETURNING`` (a driver's rowcount is not reliable
    for many rows), compiled once per table, not per call (a multi-row ``VALUES`` is compiled anew for every call and
    cost more than the insert), run for every row in one pipeline through psycopg (``driver.returning_each``: psycopg
    parsed SQLAlchemy's thousand-row ``VALUES`` text anew for every call); through SQLAlchemy otherwise."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        counts = driver.execute_each(session, _insert_ignore_statement(dialect, table), rows)
        if counts is not None:
            return [tuple(row[c] for c in conflict) for row, count in zip(rows, counts, strict=True) if count == 1]
    stmt = _insert_ignore_statement(dialect, table, tuple(conflict))
    returned = driver.returning_each(session, stmt, rows)  # on PostgreSQL through psycopg
    if returned is not None:
        return [tuple(row[c] for c in conflict) for row, new in zip(rows, returned, strict=True) if new]
    inserted: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), 1000):
        inserted += [tuple(r) for r in session.connection().execute(stmt, list(rows[start:start + 1000])).all()]
    return inserted


def obligation_id(key: str) -> str:
    return uuid5_text(f"obligation:{key}")


_OBLIGATION = ObligationRow.__table__  # type: ignore[attr-defined]


def _stored(query: Any, session: Session) -> list[StoredObligation]:
    """The obligations a Core query of the table finds (read afresh: no ORM object is kept in step with the
    guarded updates, so a later read in the same transaction sees them)."""
    result = session.execute(query)
    if tuple(result.keys()) == _STORED_FIELDS:  # the whole table, in the fields' order: made by position
        return [StoredObligation(*row) for row in result]
    return [value_of(StoredObligation, dict(m)) for m in result.mappings()]


_STORED_FIELDS = tuple(f.name for f in fields(StoredObligation))


def _dates(row: StoredObligation | Obligation) -> dict[str, Any]:
    return {"due_on": row.due_on.isoformat(), "planned_on": row.planned_on.isoformat() if row.planned_on else None,
            "basis": dict(row.basis)}


def _change(key: str, change: str, at: datetime, reason: str, actor: str, old: dict[str, Any] | None = None,
            new: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"obligation_key": key, "change": change, "at": at, "old": old, "new": new, "reason": reason,
            "actor": actor}


def _log(session: Session, changes: Sequence[dict[str, Any]]) -> None:
    insert_ignore(session, ObligationChangeRow, changes, ["obligation_key", "change", "at"])


def add_obligations(session: Session, obligations: Iterable[Obligation], *, next_notice: Mapping[str, date | None],
                    now: datetime, actor: str, reason: str) -> list[str]:
    """Insert new obligations (keys already stored are left alone); log each one that was new."""
    obligations = list(obligations)
    if not obligations:
        return []
    existing = set(session.exec(select(ObligationRow.key).where(
        col(ObligationRow.key).in_([o.key for o in obligations]))).all())
    # a planner plans every duty of a practice again and most are stored already: rows made for the others only
    fresh: list[dict[str, Any]] = [{
        "id": obligation_id(o.key), "key": o.key, "kind": o.kind.value, "agb_code": o.agb_code,
        "subject": o.subject, "anchor_on": o.anchor_on, "due_on": o.due_on, "planned_on": o.planned_on,
        "status": ObligationStatus.OPEN.value, "basis": dict(o.basis), "details": dict(o.details),
        "notices_done": [], "next_notice_on": next_notice.get(o.key), "version": 0,
        "created_at": now, "updated_at": now,
    } for o in obligations if o.key not in existing]
    inserted = {key for (key,) in insert_ignore(session, ObligationRow, fresh, ["key"])}
    # a concurrent planner that lost the race logs nothing
    _log(session, [_change(r["key"], "planned", now, reason, actor, new={
        "due_on": r["due_on"].isoformat(), "planned_on": r["planned_on"].isoformat() if r["planned_on"] else None})
        for r in fresh if r["key"] in inserted])
    return [r["key"] for r in fresh if r["key"] in inserted]


@functools.cache
def _guarded_statement(columns: tuple[str, ...]) -> Any:
    """``UPDATE obligation SET <columns>, version = :_new WHERE id = :_id AND version = :_version``, built once
    per set of columns: a statement built anew for every row cost more than running it."""
    t = ObligationRow.__table__  # type: ignore[attr-defined]
    return (sa.update(t).where(t.c.id == sa.bindparam("_id"), t.c.version == sa.bindparam("_version"))
            .values({**{c: sa.bindparam(c, type_=t.c[c].type) for c in columns}, "version": sa.bindparam("_new")}))


def _guarded_update(session: Session, row: StoredObligation, values: dict[str, Any]) -> StoredObligation | None:
    changed = driver.execute(session, _guarded_statement(tuple(sorted(values))), {
        **values, "_id": row.id, "_version": row.version, "_new": row.version + 1})
    if changed != 1:
        return None
    return replace(row, **values, version=row.version + 1)


def reschedule(session: Session, row: StoredObligation, wanted: Obligation, *, notices_done: Sequence[str],
               next_notice_on: date | None, now: datetime, actor: str, reason: str) -> StoredObligation | None:
    """Move an open obligation's dates (or notice days) to what the rule now gives, and log why."""
    old = _dates(row)
    ok = _guarded_update(session, row, {"due_on": wanted.due_on, "planned_on": wanted.planned_on,
                                        "basis": dict(wanted.basis), "details": dict(wanted.details),
                                        "notices_done": list(notices_done), "next_notice_on": next_notice_on,
                                        "updated_at": now})
    if ok:
        _log(session, [_change(row.key, "rescheduled", now, reason, actor, old=old, new=_dates(wanted))])
    return ok


def refresh_basis(session: Session, row: StoredObligation, wanted: Obligation, now: datetime
                  ) -> StoredObligation | None:
    """Record the rule's current inputs where they changed without moving any date (nothing to log)."""
    return _guarded_update(session, row, {"basis": dict(wanted.basis), "details": dict(wanted.details),
                                          "updated_at": now})


def close(session: Session, row: StoredObligation, status: ObligationStatus, on: date, *, now: datetime, actor: str,
          reason: str) -> StoredObligation | None:
    ok = _guarded_update(session, row, {"status": status.value, "closed_on": on, "close_reason": reason,
                                        "next_notice_on": None, "updated_at": now})
    if ok:
        _log(session, [_change(row.key, status.value, now, reason, actor)])
    return ok


def _notice_values(row: StoredObligation, done: Sequence[str], next_notice_on: date | None, now: datetime
                   ) -> dict[str, Any]:
    return {"notices_done": sorted(set(row.notices_done) | set(done)), "next_notice_on": next_notice_on,
            "updated_at": now}


def mark_notices(session: Session, row: StoredObligation, done: Sequence[str], next_notice_on: date | None,
                 now: datetime) -> StoredObligation | None:
    return _guarded_update(session, row, _notice_values(row, done, next_notice_on, now))


def mark_notices_many(session: Session, marks: Sequence[tuple[StoredObligation, Sequence[str], date | None]],
                      now: datetime) -> list[StoredObligation | None]:
    """``mark_notices`` for many obligations. On SQLite a row at a time through the driver, which counts each row
    changed (``storage.driver.execute_each``); elsewhere one statement executed for all of them when the driver
    counts the rows an executemany changed (each guarded by its version); when one was changed by another writer
    first, or the driver cannot say, the batch is undone to a savepoint and marked row by row, so each answer is
    exact."""
    rows = [row for row, _, _ in marks]
    values = [_notice_values(row, done, next_on, now) for row, done, next_on in marks]
    if not marks:
        return []
    counts = driver.execute_each(session, _guarded_statement(tuple(sorted(values[0]))), [
        {**v, "_id": row.id, "_version": row.version, "_new": row.version + 1}
        for row, v in zip(rows, values, strict=True)])
    if counts is not None:
        return [replace(row, **v, version=row.version + 1) if count == 1 else None
                for row, v, count in zip(rows, values, counts, strict=True)]
    connection = session.connection()
    if connection.dialect.supports_sane_multi_rowcount and len(marks) > 1:
        savepoint = connection.begin_nested()
        result = connection.execute(_guarded_statement(tuple(sorted(values[0]))), [
            {**v, "_id": row.id, "_version": row.version, "_new": row.version + 1}
            for row, v in zip(rows, values, strict=True)])
        if result.rowcount == len(marks):
            savepoint.commit()
            return [replace(row, **v, version=row.version + 1) for row, v in zip(rows, values, strict=True)]
        savepoint.rollback()
    return [_guarded_update(session, row, v) for row, v in zip(rows, values, strict=True)]


def open_obligations(session: Session, *, kinds: Iterable[ObligationKind] | None = None,
                     agb_codes: Sequence[str] | None = None) -> list[StoredObligation]:
    return obligations(session, agb_codes=agb_codes, status=ObligationStatus.OPEN.value, kinds=kinds)


def notices_due(session: Session, on: date, *, kinds: Iterable[ObligationKind], after_key: str | None = None,
                until_key: str | None = None) -> list[StoredObligation]:
    """Open obligations whose next notice day has come: the only rows a sweep needs to read. In key
    order; ``after_key`` and ``until_key`` (included) bound a range of them (``notice_keys_due``)."""
    return _stored(_due(sa.select(_OBLIGATION), on, kinds, after_key, until_key), session)


def notice_keys_due(session: Session, on: date, *, kinds: Iterable[ObligationKind]) -> list[str]:
    """The keys of ``notices_due``, in order (read first, to divide them into ranges)."""
    return list(session.connection().execute(_due(sa.select(_OBLIGATION.c.key), on, kinds)).scalars())


def practices_with_notices_due(session: Session, on: date, *, kinds: Iterable[ObligationKind]) -> list[str]:
    """The practices with a notice of ``kinds`` due by ``on`` (``notices_due``), in order."""
    query = _due(sa.select(_OBLIGATION.c.agb_code).distinct(), on, kinds).order_by(None)
    return sorted(code for code in session.connection().execute(query.where(_OBLIGATION.c.agb_code.is_not(None)))
                  .scalars())


def _due(query: Any, on: date, kinds: Iterable[ObligationKind], after_key: str | None = None,
         until_key: str | None = None) -> Any:
    t = _OBLIGATION
    query = query.where(t.c.status == ObligationStatus.OPEN.value, t.c.next_notice_on <= on,
                        t.c.kind.in_([k.value for k in kinds]))
    if after_key is not None:
        query = query.where(t.c.key > after_key)
    if until_key is not None:
        query = query.where(t.c.key <= until_key)
    return query.order_by(t.c.key)


def obligations(session: Session, *, agb_code: str | None = None, agb_codes: Sequence[str] | None = None,
                status: str | None = None, kinds: Iterable[ObligationKind] | None = None,
                due_until: date | None = None, due_from: date | None = None, due_before: date | None = None,
                limit: int | None = None) -> list[StoredObligation]:
    """Obligations of a practice (``agb_code``), of some (``agb_codes``) or of all and the care group's meetings,
    of one status or all (due or planned from ``due_from`` and by ``due_until``, due before ``due_before``, when
    given; the first ``limit``), by due date."""
    t = _OBLIGATION
    query = sa.select(t)
    status_column, kind_column = t.c.status, t.c.kind
    if agb_code is not None:
        query = query.where(t.c.agb_code == agb_code)
    if agb_codes is not None:
        query = query.where(t.c.agb_code.in_(list(agb_codes)))
        if session.get_bind().dialect.name == "sqlite":
            # read by the practices' own index: SQLite (no statistics) took the (kind, status) index instead, and
            # read every open duty of the care group for a batch of fifty practices (12.6 against 1.1 ms; 38 against
            # 27 ms for 1,000 practices, with 36,000 open duties; issue 16); a column in an expression is no index's.
            # PostgreSQL weighs the indexes by its statistics, and keeps the choice.
            status_column, kind_column = t.c.status.concat(""), t.c.kind.concat("")
    if status is not None:
        query = query.where(status_column == status)
    if kinds is not None:
        query = query.where(kind_column.in_([k.value for k in kinds]))
    if due_until is not None:
        query = query.where(sa.or_(t.c.due_on <= due_until, t.c.planned_on <= due_until))
    if due_from is not None:
        query = query.where(sa.func.coalesce(t.c.planned_on, t.c.due_on) >= due_from)
    if due_before is not None:
        query = query.where(t.c.due_on < due_before)
    query = query.order_by(t.c.due_on, t.c.key)
    return _stored(query.limit(limit) if limit is not None else query, session)


def count_overdue(session: Session, on: date, agb_codes: Sequence[str] | None = None) -> int:
    """How many open obligations (of these practices) were due before ``on``."""
    t = _OBLIGATION
    query = sa.select(sa.func.count()).select_from(t).where(t.c.status == "open", t.c.due_on < on)
    if agb_codes is not None:
        query = query.where(t.c.agb_code.in_(list(agb_codes)))
    return int(session.connection().execute(query).scalar_one())


def changes(session: Session, key: str | None = None) -> list[ObligationChange]:
    query = select(ObligationChangeRow)
    if key is not None:
        query = query.where(col(ObligationChangeRow.obligation_key) == key)
    return [value_of(ObligationChange, r)
            for r in session.exec(query.order_by(col(ObligationChangeRow.at), col(ObligationChangeRow.id)))]


# --- facts planning reads ---------------------------------------------------------------------


# The facts planning reads count from the day they happened (``on``: held, refreshed, completed by then), so a
# backfill planning 2024 does not see a refresh of 2025 typed in beforehand.


def start_conversations(session: Session, codes: Sequence[str] | None = None, on: date | None = None
                        ) -> dict[str, dict[Programme | None, date]]:
    """Per practice, the last start conversation held per programme (``None``: without a programme)."""
    query = select(ConversationRow.agb_code, ConversationRow.programme, sa.func.max(ConversationRow.held_on)).where(
        col(ConversationRow.kind) == "start").group_by(col(ConversationRow.agb_code), col(ConversationRow.programme))
    if on is not None:
        query = query.where(col(ConversationRow.held_on) <= on)
    if codes is not None:
        query = query.where(col(ConversationRow.agb_code).in_(list(codes)))
    out: dict[str, dict[Programme | None, date]] = defaultdict(dict)
    for agb, programme, held in session.exec(query).all():
        out[agb][Programme(programme) if programme else None] = held
    return out


def kit_refreshes(session: Session, codes: Sequence[str] | None = None, on: date | None = None
                  ) -> dict[str, dict[KitKind, date]]:
    query = select(KitRefreshRow.agb_code, KitRefreshRow.kit, sa.func.max(KitRefreshRow.refreshed_on)).group_by(
        col(KitRefreshRow.agb_code), col(KitRefreshRow.kit))
    if on is not None:
        query = query.where(col(KitRefreshRow.refreshed_on) <= on)
    if codes is not None:
        query = query.where(col(KitRefreshRow.agb_code).in_(list(codes)))
    out: dict[str, dict[KitKind, date]] = defaultdict(dict)
    for agb, kit, day in session.exec(query).all():
        out[agb][KitKind(kit)] = day
    return out


def overdue_course_people(session: Session, on: date) -> dict[str, int]:
    """Per practice, how many of its people have an open mandatory course due before ``on`` (counted in the
    database: at 5,000 practices a board's digest otherwise read some 20,000 whole obligations to count them)."""
    t = _OBLIGATION
    person = sa.func.coalesce(t.c.details["person"].as_string(), "")
    practice = sa.func.coalesce(t.c.agb_code, "")
    query = (sa.select(practice, sa.func.count(sa.distinct(person)))
             .where(t.c.status == ObligationStatus.OPEN.value, t.c.kind == ObligationKind.MANDATORY_COURSE.value,
                    t.c.due_on < on)
             .group_by(practice).order_by(practice))
    return {agb: int(n) for agb, n in session.execute(query)}


def course_completions(session: Session, codes: Sequence[str] | None = None, on: date | None = None
                       ) -> dict[str, dict[tuple[str, str], date]]:
    query = select(CourseCompletionRow.agb_code, CourseCompletionRow.person, CourseCompletionRow.course,
                   sa.func.max(CourseCompletionRow.completed_on)).group_by(
        col(CourseCompletionRow.agb_code), col(CourseCompletionRow.person), col(CourseCompletionRow.course))
    if on is not None:
        query = query.where(col(CourseCompletionRow.completed_on) <= on)
    if codes is not None:
        query = query.where(col(CourseCompletionRow.agb_code).in_(list(codes)))
    out: dict[str, dict[tuple[str, str], date]] = defaultdict(dict)
    for agb, person, course, day in session.exec(query).all():
        out[agb][(person, course)] = day
    return out


def conversation_moves(session: Session, codes: Sequence[str] | None = None, on: date | None = None
                       ) -> dict[str, dict[str, date]]:
    """Per practice, the day each conversation was last moved to (a move made after ``on`` is not seen)."""
    query = select(ConversationMoveRow)
    if on is not None:
        query = query.where(col(ConversationMoveRow.moved_on) <= on)
    if codes is not None:
        query = query.where(col(ConversationMoveRow.agb_code).in_(list(codes)))
    out: dict[str, dict[str, date]] = defaultdict(dict)
    for move in session.exec(query.order_by(col(ConversationMoveRow.moved_on), col(ConversationMoveRow.recorded_at),
                                            col(ConversationMoveRow.id))):
        out[move.agb_code][move.obligation_key] = move.moved_to  # the last one stands
    return out


def record_move(session: Session, agb_code: str, key: str, to: date, on: date, reason: str, now: datetime,
                actor: str) -> bool:
    """An officer moved a practice's conversation (its duty's ``key``) to ``to`` on ``on``, and why; the practice
    is planned again."""
    row_id = uuid5_text(f"conversation_move:{key}:{to.isoformat()}:{now.isoformat()}")
    review.touch(session, [agb_code])
    return bool(insert_ignore(session, ConversationMoveRow, [{
        "id": row_id, "obligation_key": key, "agb_code": agb_code, "moved_to": to,
        "moved_on": on, "reason": reason, "recorded_at": now, "actor": actor}], ["id"]))


def record_kit_refresh(session: Session, agb_code: str, kit: KitKind, on: date, now: datetime, actor: str) -> bool:
    row_id = uuid5_text(f"kit_refresh:{agb_code}:{kit.value}:{on.isoformat()}")
    review.touch(session, [agb_code])
    return bool(insert_ignore(session, KitRefreshRow, [{"id": row_id, "agb_code": agb_code, "kit": kit.value,
                                                        "refreshed_on": on, "recorded_at": now, "actor": actor}],
                              ["id"]))


def record_course_completion(session: Session, agb_code: str, person: str, course: str, on: date, now: datetime,
                             actor: str) -> bool:
    row_id = uuid5_text(f"course_completion:{agb_code}:{person}:{course}:{on.isoformat()}")
    review.touch(session, [agb_code])
    return bool(insert_ignore(session, CourseCompletionRow, [{
        "id": row_id, "agb_code": agb_code, "person": person, "course": course, "completed_on": on,
        "recorded_at": now, "actor": actor}], ["id"]))


# --- duty runs --------------------------------------------------------------------------------


def get_duty_run(session: Session, duty: str, moment: datetime) -> DutyRun | None:
    row = session.get(DutyRunRow, (duty, moment))
    return value_of(DutyRun, row) if row is not None else None


def record_duty_run(session: Session, duty: str, moment: datetime, *, started_at: datetime, finished_at: datetime,
                    summary: dict[str, Any], actor: str) -> bool:
    """The first run for a duty and moment is recorded; a second (a retry, another worker) is not."""
    return bool(insert_ignore(session, DutyRunRow, [{
        "duty": duty, "moment": moment, "started_at": started_at, "finished_at": finished_at,
        "summary": summary, "actor": actor}], ["duty", "moment"]))


def attach_flow_run(session: Session, duty: str, moment: datetime, flow_run_id: str) -> bool:
    """Name the Prefect flow run that recorded a duty's run (the first to name it stays)."""
    result = session.connection().execute(
        sa.update(DutyRunRow).where(col(DutyRunRow.duty) == duty, col(DutyRunRow.moment) == moment,
                                    col(DutyRunRow.flow_run_id).is_(None)).values(flow_run_id=flow_run_id))
    return bool(result.rowcount)


def duty_runs(session: Session, duty: str | None = None, limit: int = 50) -> list[DutyRun]:
    query = select(DutyRunRow)
    if duty is not None:
        query = query.where(col(DutyRunRow.duty) == duty)
    return [value_of(DutyRun, r) for r in session.exec(query.order_by(col(DutyRunRow.moment).desc()).limit(limit))]


def withdraw_messages(session: Session, key_prefixes: Sequence[str], reason: str) -> int:
    """Withdraw messages not yet sent whose key starts with one of the prefixes (an invitation for a day
    that has moved): they become ``withdrawn`` and are never sent. Sent ones stay as they were."""
    if not key_prefixes:
        return 0
    result = session.connection().execute(
        sa.update(OutboxRow).where(col(OutboxRow.status) == "pending",
                                   sa.or_(*[col(OutboxRow.key).startswith(p, autoescape=True) for p in key_prefixes]))
        .values(status="withdrawn", last_error=reason))
    return int(result.rowcount or 0)
