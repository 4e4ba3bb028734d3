"""A run's batches spread over worker processes on one machine (issue 16): a sweep's batches of practices and its
chunks of notices are independent of each other, each in its own transactions, so two cores can work on two at once
(the setting ``workers``, ``QC_WORKERS``).

Invariants:
- A batch runs in a worker exactly as in the run's own process: the same function, its own transactions. What the
  workers return comes back in the order of the batches; the same batches worked in one process give the same report.
- Each worker is a fork of the run's process, made for this run, with connections of its own: the parent's are left
  to the parent (SQLAlchemy's ``dispose(close=False)`` after a fork; SQLite forbids using a connection across a fork).
  On SQLite the writers take turns on the file (its busy timeout); reading and composing overlap. On PostgreSQL each
  batch writes its own practices' rows (and the run's one ``engine_run`` row, insert-or-ignore).
- Only a process with no other thread forks (on Linux): a fork copies the locks other threads hold, in SQLite and
  elsewhere, and a worker waiting on one would hang the run. A process with other threads (the embedded runner's
  scheduler, a web server) works its batches itself, as does a worker (no spread within a spread).
- Every batch is worked before the run fails: a batch that raises is raised in the run after the others are done
  (as its own type when it survives pickling, else as ``WorkerError`` with its text); a worker that dies fails the
  run (``BrokenProcessPool``).
- One process (``workers`` 1, a run with one batch, or any of the cases above) works the batches in order.
- ``divide`` makes batches of at most the run's batch size, and with workers enough of them for each worker to have
  one, of ``LEAST`` items or more but the last (or of the batch size, when smaller): a fork and its worker's first
  connection cost some 20-40 ms, and a sweep of 500 practices spread from 50 items up ran 25% slower than in one
  process (issue 16).
"""

from __future__ import annotations

import multiprocessing
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from flows.services.duties import in_batches

T = TypeVar("T")
R = TypeVar("R")

LEAST = 200  # items a worker is given at the least: fewer are worked faster than two forks are made

_work: Callable[[Any], Any] | None = None  # what the forked workers call: set in the parent just before the forks
_in_worker = False  # set in each worker: it works what it is given itself


class WorkerError(RuntimeError):
    """A batch failed in a worker with an error that cannot travel back to the run as itself."""


def _fresh_connections(engine: Engine) -> None:
    global _in_worker
    _in_worker = True
    engine.dispose(close=False)  # the parent's connections stay the parent's (SQLAlchemy: "Using Pools with fork")


def can_fork() -> bool:
    """Whether this process may fork workers now: on Linux, outside a worker, with no thread but this one."""
    return sys.platform == "linux" and not _in_worker and threading.active_count() == 1


def _call(item: Any) -> Any:
    assert _work is not None
    try:
        return _work(item)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            raise WorkerError(f"{type(exc).__name__}: {exc}") from None
        raise


def divide(items: Sequence[T], size: int, workers: int) -> list[list[T]]:
    """``items`` in consecutive batches of at most ``size``; with ``workers`` above 1, smaller ones when that gives
    each worker a batch (a sweep of 600 practices in two of 300 rather than 500 and 100), none but the last below
    ``LEAST`` items or ``size``, whichever is smaller."""
    if workers > 1 and items:
        size = max(min(size, -(-len(items) // workers)), min(size, LEAST))
    return in_batches(items, size)


def spread(work: Callable[[T], R], items: Sequence[T], workers: int, engine: Engine) -> list[R]:
    """``[work(item) for item in items]``, over up to ``workers`` forked processes when there is more than one item;
    ``engine`` is the database ``work`` opens its sessions on."""
    global _work
    count = min(workers, len(items))
    if count <= 1 or not can_fork():
        return [work(item) for item in items]
    _work = work  # only this thread runs (``can_fork``): no other spread can be under way in this process
    try:
        with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_fresh_connections, initargs=(engine,)) as pool:
            futures: list[Future[R]] = [pool.submit(_call, item) for item in items]
        # the pool has closed: every batch was worked (or its worker died); the first failure, in batch order
        return [future.result() for future in futures]
    finally:
        _work = None
