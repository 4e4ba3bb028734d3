"""The engine's hottest writes on SQLite through the driver: SQLAlchemy's work per statement (about 60-80 µs a
statement measured on this project's machine, against SQLite's 10-15 µs for a one-row update) is most of a
conversation's cost and of a sweep's notices (issue 16). SQLAlchemy still compiles every statement (once per
statement and set of parameters) and supplies the bind processors it would apply; only running it is done here.

Invariants:
- Only SQLite takes this path; on every other database the statement runs through SQLAlchemy, unchanged.
- A value is stored exactly as through SQLAlchemy: each parameter goes through the bind processor of its type for
  the dialect (a moment, a date, a JSON value, a NULL; ``tests/integration/test_driver.py`` holds the two to the same
  rows).
- A statement SQLAlchemy would add values to (a client-side default, an ``IN`` list expanded per call,
  ``RETURNING``), or one called without a value it requires, runs through SQLAlchemy (which then says so).
- A database error is raised as SQLAlchemy raises it (``IntegrityError``, ``OperationalError``: ``DBAPIError``), and
  a value its type refuses as SQLAlchemy refuses it (``StatementError``).
- The statement runs on the session's connection, in its transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

_Plan = tuple[str, tuple[tuple[str, bool, Any, Callable[[Any], Any] | None], ...]]


@functools.lru_cache(maxsize=256)
def _plan(dialect: Dialect, statement: Any, keys: tuple[str, ...]) -> _Plan | None:
    """The SQL of ``statement`` for these parameter names and, for each placeholder in order: its name, whether the
    caller gives it (else its value is the statement's own), that value, and its bind processor. None when the
    statement is not taken here."""
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys))
    if (not compiled.positional or compiled.positiontup is None or compiled.insert_prefetch
            or compiled.update_prefetch or compiled.effective_returning):
        return None
    placeholders = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.expanding or bind.callable is not None:
            return None
        given = bind.key in keys or name in keys
        if not given and bind.required:
            return None  # SQLAlchemy says which value is missing
        placeholders.append((bind.key if bind.key in keys else name, given, None if given else bind.effective_value,
                             bind.type.dialect_impl(dialect).bind_processor(dialect)))
    return compiled.string, tuple(placeholders)


# values that cannot change once made: a bind processor's result for one of them can be used again for the same object
_UNCHANGING = frozenset({type(None), bool, int, float, str, date, datetime})
_UNSEEN = object()  # no value processed yet


def _converter(plan: _Plan) -> Callable[[Mapping[str, Any]], list[Any]]:
    """The placeholders' values of a row, for the rows of one call; a value its type's bind processor refuses (a text
    for a date) is refused as SQLAlchemy refuses it: ``StatementError``, the processor's error as its ``orig``.

    Each placeholder remembers the last value it processed when that value cannot change, and gives its result again
    for the very same object: the rows of one call share most of their moments (``created_at``, ``at``) and their
    NULLs, and a moment's processors (to UTC, then to text) cost some 3 µs a value (issue 16). The same object only
    (``is``): two equal moments of different offsets are not the same text for a column without a time zone."""
    placeholders = plan[1]
    last: list[Any] = [_UNSEEN] * len(placeholders)
    made: list[Any] = [None] * len(placeholders)

    def values(params: Mapping[str, Any]) -> list[Any]:
        out: list[Any] = []
        try:
            for i, (name, given, value, process) in enumerate(placeholders):
                if given:
                    value = params[name]
                if process is not None:
                    if value is last[i]:
                        value = made[i]
                    elif type(value) in _UNCHANGING:
                        last[i], value = value, process(value)
                        made[i] = value
                    else:
                        value = process(value)
                out.append(value)
        except Exception as exc:
            raise sa.exc.StatementError(str(exc), plan[0], dict(params), exc) from exc
        return out

    return values


def execute(session: Session, statement: Any, params: Mapping[str, Any]) -> int:
    """Run a statement that returns no rows (an insert, an update) with one set of parameters, in the session's
    transaction. Returns how many rows it changed."""
    counts = execute_each(session, statement, [params])
    if counts is not None:
        return counts[0]
    return int(session.connection().execute(statement, dict(params)).rowcount)


def execute_many(session: Session, statement: Any, rows: Sequence[Mapping[str, Any]]) -> bool:
    """Run a statement that returns no rows for every set of parameters (each with the same names) in one
    ``executemany``, in the session's transaction, when nothing needs each run's count (a plain insert of rows known
    to be new: an import's figures). On SQLite only; False elsewhere, or when the statement is not taken here (the
    caller runs it through SQLAlchemy). The statement alone for an import's 95,000 figures: 0.51 s through
    SQLAlchemy's own ``executemany``, 0.26 s here; the whole of saving them 0.70-0.76 → 0.65-0.69 s (issue 16)."""
    taken = _taken(session, statement, rows)
    if taken is None:
        return False
    connection, plan = taken
    values = _converter(plan)
    with _cursor(connection, plan[0]) as cursor:
        cursor.executemany(plan[0], [values(row) for row in rows])
    return True


def execute_each(session: Session, statement: Any, rows: Sequence[Mapping[str, Any]]) -> list[int] | None:
    """Run a statement once for each set of parameters (each with the same names), a row at a time, in the session's
    transaction: how many rows each run changed (exact for every run, unlike ``executemany``'s total). On SQLite
    only; None elsewhere, or when the statement is not taken here (the caller runs it through SQLAlchemy)."""
    taken = _taken(session, statement, rows)
    if taken is None:
        return None
    connection, plan = taken
    counts: list[int] = []
    values = _converter(plan)
    with _cursor(connection, plan[0]) as cursor:
        for row in rows:
            cursor.execute(plan[0], values(row))
            counts.append(cursor.rowcount)
    return counts


def _taken(session: Session, statement: Any, rows: Sequence[Mapping[str, Any]]) -> tuple[Any, _Plan] | None:
    """The session's connection and the statement's plan for these rows' names, when the driver runs it (on SQLite,
    a statement taken here); else None."""
    connection = session.connection()
    if not rows or connection.dialect.name != "sqlite":
        return None
    plan = _plan(connection.dialect, statement, tuple(sorted(rows[0])))
    return None if plan is None else (connection, plan)


@contextmanager
def _cursor(connection: Any, sql: str) -> Iterator[Any]:
    """A cursor of the connection's driver, closed after; a database error raised as SQLAlchemy raises it."""
    cursor = connection.connection.cursor()
    try:
        yield cursor
    except connection.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, None, exc, connection.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()
