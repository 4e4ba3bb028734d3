"""Where a run's SQLite write locks are held and waited for (issue 16, eleventh round): not part of the product.

Put this folder on ``PYTHONPATH`` and Python loads this file into every process it starts, the benchmark's children
and their forked workers included. Each SQLite connection then notes, for every transaction that writes, where its
first write came from (the last four frames of this project), how long that write waited for the lock, and how long
the transaction held it until its commit or rollback. Each process writes its notes when it ends, to
``$QC_WRITE_LOCKS`` (default ``var/bench/write_locks``), one file per process::

    PYTHONPATH=benchmarks/write_locks .venv/bin/python benchmarks/bench_cycle.py --practices 5000 --years 3 --workers 2
    .venv/bin/python benchmarks/write_locks/sitecustomize.py     # the summary, largest hold first

Python's ``sqlite3`` begins a transaction just before the first statement that writes, so the wait is that
statement's time, and the hold runs from it to the commit.
"""

from __future__ import annotations

import multiprocessing.util
import os
import sqlite3
import sqlite3.dbapi2
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

OUT = Path(os.environ.get("QC_WRITE_LOCKS", "var/bench/write_locks"))
_ROOT = str(Path(__file__).resolve().parents[2])
_notes: list[tuple[str, float, float]] = []
_connect = sqlite3.connect


def _where() -> str:
    frames = [f for f in traceback.extract_stack(limit=40)
              if f.filename.startswith(_ROOT) and "/benchmarks/" not in f.filename]
    return " < ".join(f"{os.path.basename(f.filename)}:{f.name}" for f in reversed(frames[-4:]))


class _Cursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        return self._noting(super().execute, sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> _Cursor:
        return self._noting(super().executemany, sql, seq_of_parameters)

    def _noting(self, run: Any, sql: str, parameters: Any) -> _Cursor:
        connection = self.connection
        began, start = connection.in_transaction, time.perf_counter()
        run(sql, parameters)
        if not began and connection.in_transaction and isinstance(connection, _Connection):
            connection.began(time.perf_counter() - start)
        return self


class _Connection(sqlite3.Connection):
    _since: float | None = None
    _waited = 0.0
    _from = ""

    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def began(self, waited: float) -> None:
        self._since, self._waited, self._from = time.perf_counter(), waited, _where()

    def commit(self) -> None:
        super().commit()
        self._ended("")

    def rollback(self) -> None:
        super().rollback()
        self._ended("rolled back: ")

    def _ended(self, how: str) -> None:
        if self._since is not None:
            _notes.append((how + self._from, time.perf_counter() - self._since, self._waited))
            self._since = None


def _connect_noting(*args: Any, **kw: Any) -> Any:
    kw.setdefault("factory", _Connection)
    return _connect(*args, **kw)


def _write() -> None:
    if _notes:
        OUT.mkdir(parents=True, exist_ok=True)
        with open(OUT / f"{os.getpid()}.tsv", "w") as out:
            out.writelines(f"{where}\t{held:.6f}\t{waited:.6f}\n" for where, held, waited in _notes)


class _Anchor:
    """What ``register_after_fork`` holds on to: a forked worker writes its own notes (its parent's are cleared at the
    fork, ``os.register_at_fork``)."""


_anchor = _Anchor()


def _in_worker(_: object) -> None:
    multiprocessing.util.Finalize(None, _write, exitpriority=-100)  # a worker ends through os._exit: no atexit


def summary(folder: Path = OUT) -> None:
    held: dict[str, float] = {}
    waited: dict[str, float] = {}
    count: Counter[str] = Counter()
    for path in folder.glob("*.tsv"):
        for line in path.read_text().splitlines():
            where, hold, wait = line.split("\t")
            held[where] = held.get(where, 0.0) + float(hold)
            waited[where] = waited.get(where, 0.0) + float(wait)
            count[where] += 1
    for where, total in sorted(held.items(), key=lambda item: -item[1])[:15]:
        print(f"{total:8.2f} s held {waited[where]:7.2f} s waited {count[where]:7,} transactions  {where}")
    print(f"waited in all: {sum(waited.values()):.2f} s")


if __name__ == "__main__":
    summary()
else:
    sqlite3.connect = sqlite3.dbapi2.connect = _connect_noting
    import atexit

    atexit.register(_write)
    multiprocessing.util.register_after_fork(_anchor, _in_worker)
    os.register_at_fork(after_in_child=_notes.clear)
