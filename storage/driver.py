"""The engine's hottest writes on SQLite through the driver: SQLAlchemy's work per statement (about 60-80 µs a
statement measured on this project's machine, against SQLite's 10-15 µs for a one-row update) is most of a
conversation's cost and of a sweep's notices (issue 16). SQLAlchemy still compiles every statement (once per
statement and set of parameters) and supplies the bind processors it would apply; only running it is done here.

Invariants:
- Only SQLite takes this path (and, on PostgreSQL, ``returning_each`` below); on every other database, and for every
  other statement on PostgreSQL, the statement runs through SQLAlchemy, unchanged.
- A value is stored exactly as through SQLAlchemy: each parameter goes through the bind processor of its type for
  the dialect (a moment, a date, a JSON value, a NULL; ``tests/integration/test_driver.py`` holds the two to the same
  rows).
- A statement SQLAlchemy would add values to (a client-side default, an ``IN`` list expanded per call,
  ``RETURNING``), or one called without a value it requires, runs through SQLAlchemy (which then says so).
- A database error is raised as SQLAlchemy raises it (``IntegrityError``, ``OperationalError``: ``DBAPIError``), and
  a value its type refuses as SQLAlchemy refuses it (``StatementError``).
- The statement runs on the session's connection, in its transaction.

On PostgreSQL one statement goes through the driver too: an insert that returns what it inserted, for many rows
(``returning_each``, the outbox's and the obligations' ``insert_ignore``). SQLAlchemy sends such rows as one
``INSERT ... VALUES (...), (...)`` of a thousand rows, and psycopg parses that text anew for every call (it caches
only short statements): half of the time of queuing 15,000 meeting invitations (2.8 against 1.4 s, issue 16). Here
the one-row statement is sent once per row in psycopg's ``executemany`` (a pipeline: one round trip for the lot),
its text parsed once; each row's values go through the same bind processors as through SQLAlchemy.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

_Placeholder = tuple[str, bool, Any, Callable[[Any], Any] | None]


class _Plan(NamedTuple):
    """A statement as the driver runs it: its SQL and, made once with the plan rather than for every call (a
    conversation runs dozens of one-row statements), how a row's values are picked for its placeholders in order:
    the positions of those the caller gives, the statement's own values in place, the positions with a bind
    processor and the processor."""

    sql: str
    given_at: tuple[int, ...]
    template: tuple[Any, ...]
    pick: Callable[[Mapping[str, Any]], Any] | None
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]


def _placeholder(dialect: Dialect, name: str, bind: Any, keys: tuple[str, ...]) -> _Placeholder | None:
    """A placeholder of a compiled statement as the driver fills it: the parameter it takes, whether the caller gives
    it (else its value is the statement's own), that value, and its bind processor. None when the driver cannot fill
    it as SQLAlchemy would (an ``IN`` list expanded per call, a value made per call, a required value not given:
    SQLAlchemy then says which)."""
    if bind.expanding or bind.callable is not None:
        return None
    key = bind.key if bind.key in keys else name
    given = key in keys
    if not given and bind.required:
        return None
    return key, given, None if given else bind.effective_value, bind.type.dialect_impl(dialect).bind_processor(dialect)


@functools.lru_cache(maxsize=256)
def _plan(dialect: Dialect, statement: Any, keys: tuple[str, ...]) -> _Plan | None:
    """The plan of ``statement`` for these parameter names (``_Plan``). None when the statement is not taken here."""
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys))
    if (not compiled.positional or compiled.positiontup is None or compiled.insert_prefetch
            or compiled.update_prefetch or compiled.effective_returning):
        return None
    return _made(dialect, compiled, compiled.positiontup, keys)


def _made(dialect: Dialect, compiled: Any, names: Iterable[str], keys: tuple[str, ...]) -> _Plan | None:
    """The plan of a compiled statement whose placeholders are ``names`` in order; None when one of them cannot be
    filled here (``_placeholder``)."""
    placeholders: list[_Placeholder] = []
    for name in names:
        found = _placeholder(dialect, name, compiled.binds[name], keys)
        if found is None:
            return None
        placeholders.append(found)
    given_at = tuple(i for i, (_, given, _, _) in enumerate(placeholders) if given)
    return _Plan(compiled.string, given_at,
                 tuple(None if given else value for _, given, value, _ in placeholders),
                 operator.itemgetter(*(placeholders[i][0] for i in given_at)) if given_at else None,
                 tuple((i, process) for i, (_, _, _, process) in enumerate(placeholders) if process is not None))


# values that cannot change once made: a bind processor's result for one of them can be used again for the same object
_UNCHANGING = frozenset({type(None), bool, int, float, str, date, datetime})
_UNSEEN = object()  # no value processed yet


def _converter(plan: _Plan) -> Callable[[Mapping[str, Any]], list[Any]]:
    """The placeholders' values of a row, for the rows of one call; a value its type's bind processor refuses (a text
    for a date) is refused as SQLAlchemy refuses it: ``StatementError``, the processor's error as its ``orig``.

    Each placeholder remembers the last value it processed when that value cannot change, and gives its result again
    for the very same object: the rows of one call share most of their moments (``created_at``, ``at``) and their
    NULLs, and a moment's processors (to UTC, then to text) cost some 3 µs a value (issue 16). The same object only
    (``is``): two equal moments of different offsets are not the same text for a column without a time zone.

    The values given are picked in one ``itemgetter`` call and only the placeholders with a processor are visited
    after: most of a row's columns (texts, numbers) have none on SQLite, and a sweep converts some two million rows
    (an outbox row has eighteen placeholders, four with a processor)."""
    sql, given_at, template, pick, processed = plan.sql, plan.given_at, plan.template, plan.pick, plan.processed
    one = len(given_at) == 1  # itemgetter of one name gives the value, not a tuple
    in_order = len(given_at) == len(template)  # every value given, in order: the picked ones are the row
    last: list[Any] = [_UNSEEN] * len(template)
    made: list[Any] = [None] * len(template)

    def values(params: Mapping[str, Any]) -> list[Any]:
        try:
            if pick is None:
                out = list(template)
            elif one:
                out = list(template)
                out[given_at[0]] = pick(params)
            elif in_order:
                out = list(pick(params))
            else:
                out = list(template)
                for i, value in zip(given_at, pick(params), strict=True):
                    out[i] = value
            for i, process in processed:
                value = out[i]
                if value is last[i]:
                    out[i] = made[i]
                elif type(value) in _UNCHANGING:
                    last[i] = value
                    out[i] = made[i] = process(value)
                else:
                    out[i] = process(value)
        except Exception as exc:
            raise sa.exc.StatementError(str(exc), sql, dict(params), exc) from exc
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
    with _cursor(connection, plan.sql) as cursor:
        cursor.executemany(plan.sql, [values(row) for row in rows])
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
    with _cursor(connection, plan.sql) as cursor:
        for row in rows:
            cursor.execute(plan.sql, values(row))
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


@functools.lru_cache(maxsize=256)
def _named_plan(dialect: Dialect, statement: Any, keys: tuple[str, ...]) -> tuple[_Plan, tuple[str, ...]] | None:
    """As ``_plan``, for a driver with named placeholders (psycopg's ``%(name)s``): the plan, its placeholders in the
    order of its values, and their names in the SQL. None when the statement is not taken here."""
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys))
    if (compiled.positional or compiled.insert_prefetch or compiled.update_prefetch
            or not compiled.effective_returning):
        return None
    names = tuple(compiled.binds)
    plan = _made(dialect, compiled, names, keys)
    return None if plan is None else (plan, names)


def returning_each(session: Session, statement: Any, rows: Sequence[Mapping[str, Any]]) -> list[bool] | None:
    """On PostgreSQL through psycopg: run an insert that returns what it inserted (``RETURNING``) once for each set of
    parameters (each with the same names), in one ``executemany`` in the session's transaction, and say of each run
    whether it returned a row (an ``ON CONFLICT DO NOTHING`` that inserted). None on any other database or driver, or
    when the statement is not taken here (the caller runs it through SQLAlchemy)."""
    connection = session.connection()
    dialect = connection.dialect
    if not rows or dialect.name != "postgresql" or dialect.driver != "psycopg":
        return None
    named = _named_plan(dialect, statement, tuple(sorted(rows[0])))
    if named is None:
        return None
    plan, names = named
    values = _converter(plan)  # the same values, in the placeholders' order, as on SQLite's path
    returned: list[bool] = []
    with _cursor(connection, plan.sql) as cursor:
        cursor.executemany(plan.sql, [dict(zip(names, values(row), strict=True)) for row in rows], returning=True)
        while True:
            returned.append(bool(cursor.fetchall()))
            if not cursor.nextset():
                break
    return returned
