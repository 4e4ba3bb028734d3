"""A sweep spread over worker processes (the setting ``workers``, ``flows.services.workers``) does what a sweep in one
process does: the same rows, the same report, on SQLite and on PostgreSQL; a batch that fails in a worker fails the
run after the others are done, and a worker that dies fails it without hanging.

What forks runs ``alone``: in a fresh interpreter whose only thread is its own. A test process may hold the threads
of earlier tests (a folder channel's writers, Prefect's), and a process with threads does not fork (``can_fork``)."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sqlite3
import threading
import time as clock
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from domain.clock import AMSTERDAM
from flows.services import due_notices, duties, queries, sweep
from flows.services import workers as workers_module
from flows.services.context import Services
from flows.services.due_notices import key_ranges
from flows.services.settings import Settings
from flows.services.workers import LEAST, WorkerError, divide, spread
from flows.testing.demo import run_demo
from flows.testing.scenario import Scenario
from storage import repository as repo
from tests.integration.test_review import _tables

CODES = [f"0200{i:04d}" for i in range(1, 10)]  # nine practices: five batches of two
DESCRIPTION = {
    "care_group": "Cohaesie",
    "board": ["B. de Vries <bestuur@cohaesie.example>"],
    "officers": ["A. Jansen <a.jansen@cohaesie.example>", "P. de Boer <p.deboer@cohaesie.example>"],
    "practices": {code: {"name": f"Praktijk {code}", "email": f"praktijk{code}@praktijk.example",
                         "programmes": {"dm2": "2023-01-01"},
                         "people": {"poh_chronic": f"POH {code} <poh{code}@praktijk.example>",
                                    "practice_manager": f"PM {code} <pm{code}@praktijk.example>"}}
                  for code in CODES},
}
GOOD = {"dm2/hba1c_measured": 95, "dm2/bp_measured": 95, "dm2/ldl_measured": 90, "dm2/egfr_measured": 90,
        "dm2/foot_exam": 85}
LOW = {**GOOD, "dm2/hba1c_measured": 40, "dm2/foot_exam": 30}


def monday(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(6, 0), tzinfo=AMSTERDAM)


def a_year_swept(services: Services, workers: int, batch_size: int = 2) -> list[dict[str, Any]]:
    """Nine practices through a year: start conversations, figures with a third of them far below target, sweeps
    in batches of ``batch_size`` over ``workers`` processes; each sweep's summary and lines."""
    sc = Scenario.build(services, DESCRIPTION)
    for code in CODES:
        sc.conversation(code, "start", "2024-01-16")
    reports = []
    for day in ("2024-01-22", "2024-05-13", "2024-06-03", "2024-09-02", "2024-12-02", "2025-01-06", "2025-03-03"):
        if day == "2024-05-13":
            sc.scores("2024-03-31", {code: LOW if i % 3 == 0 else GOOD for i, code in enumerate(CODES)})
        report = sweep.sweep_due(services, monday(day), batch_size=batch_size, workers=workers)
        reports.append({**report.summary(), "lines": report.lines})
    return reports


def snapshot(services: Services) -> dict[str, list[Any]]:
    """What the sweeps leave, comparable across databases: duties, messages, the change log and every event."""
    return {
        "obligations": sorted((o.key, o.status, o.due_on, o.planned_on, tuple(sorted(o.notices_done)),
                               o.next_notice_on) for o in queries.obligations(services)),
        "messages": sorted((m.key, m.kind, m.recipient_email, m.subject, m.status)
                           for m in queries.outbox_messages(services)),
        "changes": sorted((c.obligation_key, c.change, c.reason) for c in queries.obligation_changes(services)),
        "events": sorted((e.agb_code, e.seq, e.at, e.trigger.value, e.to_state.value, e.recorded_at)
                         for e in queries.all_events(services)),
    }


def alone(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a fresh interpreter (spawned), its result or its error brought back."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def _counting_forks() -> list[bool]:
    """From now on in this process, whether each spread could fork its workers (else it worked its batches itself)."""
    seen: list[bool] = []
    real = workers_module.can_fork
    workers_module.can_fork = lambda: seen.append(real()) or seen[-1]  # type: ignore[method-assign]
    return seen


def _year_in_workers(url: str, least: int | None = None, batch_size: int = 2) -> tuple[Any, Any, list[bool]]:
    if least is not None:
        workers_module.LEAST = least
    services = Services.open(url, upgrade=False)
    try:
        forked = _counting_forks()
        reports = a_year_swept(services, workers=2, batch_size=batch_size)
        return reports, snapshot(services), forked
    finally:
        services.db.dispose()


def test_a_year_swept_over_two_worker_processes_leaves_and_reports_what_one_process_does(
        db_url: str, sqlite_copy: Callable[[str], Services]) -> None:
    """On each database (SQLite and PostgreSQL) against one process on SQLite: every duty, message, change and
    transition the same, and every sweep's report the same, line for line, in the same order."""
    spread_out, left, forked = alone(_year_in_workers, db_url)
    assert len(forked) >= 7 and all(forked)  # the batches of every sweep, and the notices of most
    reference = sqlite_copy("reference.db")
    alone_ = a_year_swept(reference, workers=1)
    assert spread_out == alone_
    assert left == snapshot(reference)
    # the sweeps did real work in several batches: the low third flagged, invitations, reminders, overdue notices
    assert [r["transitions"] for r in alone_] == [0, 3, 0, 0, 0, 0, 0]
    assert sum(r["practices"] for r in alone_) > 2 * len(CODES)
    assert {"conversation_invitation", "conversation_reminder", "conversation_overdue", "training_due",
            "training_overdue"} <= {kind for _, kind, *_ in left["messages"]}
    assert len(left["events"]) == len(CODES) + 3  # a start conversation each; three flagged


def test_batches_divided_otherwise_than_in_one_process_leave_the_same_rows_and_report_the_same_lines(
        db_url: str, sqlite_copy: Callable[[str], Services]) -> None:
    """With workers a sweep divides its practices so each worker has a batch (``workers.divide``): nine practices in
    batches of at most six are 5 + 4 over two workers, 6 + 3 in one process. The same rows; the report the same but
    for the order of its lines, which follow the batches."""
    assert divide(CODES, 6, 2) == divide(CODES, 6, 1) == [CODES[:6], CODES[6:]]  # at LEAST = 200; at 1 (the
    # worker's setting here) two workers take 5 + 4
    spread_out, left, forked = alone(_year_in_workers, db_url, 1, 6)
    assert forked and all(forked)
    reference = sqlite_copy("reference.db")
    alone_ = a_year_swept(reference, workers=1, batch_size=6)
    # the same lines, whose order follows the batches: a batch's evaluation lines, then its planning lines
    assert [{**r, "lines": sorted(map(repr, r["lines"]))} for r in spread_out] == [
        {**r, "lines": sorted(map(repr, r["lines"]))} for r in alone_]
    assert left == snapshot(reference)


def _demo_in_workers(folder: Path) -> tuple[dict[str, list[str]], list[bool]]:
    # the demo dispatches to a folder every week; its channel keeps no threads (a process with threads sweeps alone,
    # ``workers.can_fork``), so every sweep forks
    forked = _counting_forks()
    return _without_serials(run_demo(folder, years=2, practices=6, batch_size=2, workers=2).database), forked


def test_a_demo_care_group_swept_over_two_worker_processes_ends_exactly_as_one_swept_in_one(tmp_path: Path) -> None:
    """Two simulated years of the demo's care group (six practices in batches of two: conversations, figures,
    escalations, kits, courses, meetings, mirror meetings): every table the same, row for row."""
    right, forked = alone(_demo_in_workers, tmp_path / "two")
    assert len(forked) > 30 and all(forked)
    left = _without_serials(run_demo(tmp_path / "one", years=2, practices=6, batch_size=2).database)
    assert left.keys() == right.keys()
    for table in left:
        assert left[table] == right[table], table
    assert len(left["trajectory_event"]) > 20 and len(left["outbox"]) > 200


def _without_serials(database: Path) -> dict[str, list[str]]:
    """Every table as ``test_review._tables`` reads it, but an append-only log's serial number left out: which of two
    workers commits its batch first decides the order in which their rows are numbered, nothing else."""
    tables = _tables(database)
    with sqlite3.connect(database) as db:
        for name in tables:
            columns = db.execute(f"PRAGMA table_info({name})").fetchall()
            if any(c[1] == "id" and c[2].upper() == "INTEGER" for c in columns):
                rest = ", ".join(c[1] for c in columns if c[1] != "id")
                tables[name] = sorted(map(repr, db.execute(f"SELECT {rest} FROM {name}").fetchall()))
    return tables


def test_the_setting_workers_reaches_the_scheduled_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows import schedule

    seen: list[int] = []
    monkeypatch.setattr(sweep, "sweep_due", lambda services, now, **kw: seen.append(kw["workers"]) or
                        duties.DutyReport("sweep_due", now))
    monkeypatch.setenv("QC_WORKERS", "2")
    (duty,) = [d for d in schedule.SCHEDULE if d.name == "sweep-due"]
    duty.run(None, monday("2024-01-22"), Settings())  # type: ignore[arg-type]
    assert seen == [2]
    monkeypatch.delenv("QC_WORKERS")
    assert Settings().workers == 1


# --- spreading work itself -----------------------------------------------------------------------------------------


def _engine() -> Any:
    return sa.create_engine("sqlite://")


def _slow_pid(item: int) -> tuple[int, int]:
    clock.sleep(0.05)
    return item, os.getpid()


def _spread_pids(items: list[int], workers: int) -> tuple[list[tuple[int, int]], int]:
    return spread(_slow_pid, items, workers, _engine()), os.getpid()


def test_work_spread_over_two_processes_comes_back_in_the_order_of_the_batches() -> None:
    results, run = alone(_spread_pids, list(range(8)), 2)
    assert [item for item, _ in results] == list(range(8))
    pids = {pid for _, pid in results}
    assert len(pids) == 2 and run not in pids


def test_one_worker_or_one_batch_is_worked_in_the_runs_own_process() -> None:
    for items, workers in (([1, 2, 3], 1), ([1], 4), ([], 2)):
        results, run = alone(_spread_pids, items, workers)
        assert results == [(item, run) for item in items]


def _with_another_thread() -> tuple[set[int], set[int], int]:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        beside = {pid for _, pid in spread(_slow_pid, list(range(4)), 2, _engine())}
    finally:
        stop.set()
        other.join()
    return beside, {pid for _, pid in spread(_slow_pid, list(range(4)), 2, _engine())}, os.getpid()


def test_a_process_with_other_threads_works_its_batches_itself() -> None:
    """A fork copies the locks other threads hold (SQLite's among them): the embedded runner's scheduler thread, a
    web server's, ... A process that has them does not fork."""
    beside, afterwards, run = alone(_with_another_thread)
    assert beside == {run}
    assert len(afterwards) == 2 and run not in afterwards  # alone again: it forks


def test_a_sweep_with_workers_gives_each_worker_a_batch_of_no_fewer_than_the_least_worth_a_fork() -> None:
    codes = [f"{i:08d}" for i in range(1200)]
    assert [len(b) for b in divide(codes[:600], 500, 1)] == [500, 100]
    assert [len(b) for b in divide(codes[:600], 500, 2)] == [300, 300]
    assert [len(b) for b in divide(codes[:2 * LEAST + 1], 500, 2)] == [LEAST + 1, LEAST]
    assert [len(b) for b in divide(codes[:LEAST + 70], 500, 2)] == [LEAST, 70]
    assert [len(b) for b in divide(codes[:LEAST], 500, 2)] == [LEAST]  # too little to fork for
    assert [len(b) for b in divide(codes, 500, 4)] == [300, 300, 300, 300]
    assert [len(b) for b in divide(codes[:9], 2, 2)] == [2, 2, 2, 2, 1]  # never above the batch size
    assert [code for batch in divide(codes, 7, 3) for code in batch] == codes
    assert divide([], 500, 2) == []


def test_the_due_notices_key_ranges_take_every_key_once_and_leave_the_last_open() -> None:
    keys = sorted(f"{kind}:{i:08d}" for kind in ("annual_conversation", "mandatory_course", "start_conversation")
                  for i in range(0, 900, 7))
    for chunk, workers in ((500, 2), (50, 2), (7, 3), (500, 1), (10_000, 2), (1, 4)):
        ranges = key_ranges(keys, chunk, workers)
        taken = [[k for k in keys if (after is None or k > after) and (until is None or k <= until)]
                 for after, until in ranges]
        assert [k for part in taken for k in part] == keys, (chunk, workers)
        assert all(part for part in taken) and ranges[-1][1] is None
        assert max(map(len, taken)) <= chunk
    assert key_ranges([], 500, 2) == []
    assert key_ranges(["a"], 500, 2) == [(None, None)]


def _fail_batch_1(item: tuple[int, str]) -> int:
    number, folder = item
    if number == 1:
        raise ValueError("batch 1 kapot")
    clock.sleep(0.1)
    (Path(folder) / f"done-{number}").write_text("")
    return number


def _spread_failing(folder: str) -> None:
    spread(_fail_batch_1, [(n, folder) for n in range(5)], 2, _engine())


def test_a_batch_that_fails_in_a_worker_fails_the_run_after_the_other_batches_are_done(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="batch 1 kapot"):
        alone(_spread_failing, str(tmp_path))
    assert sorted(p.name for p in tmp_path.glob("done-*")) == ["done-0", "done-2", "done-3", "done-4"]


class _Unpicklable(Exception):
    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


def _raise_unpicklable(item: int) -> int:
    if item:
        raise _Unpicklable("praktijk 01234567", "onverwacht")
    return item


def _spread_unpicklable() -> None:
    spread(_raise_unpicklable, [0, 1], 2, _engine())


def test_an_error_that_cannot_travel_back_from_a_worker_is_raised_with_its_text() -> None:
    with pytest.raises(TypeError):  # made again from its one argument, the text, it lacks ``why``
        pickle.loads(pickle.dumps(_Unpicklable("a", "b")))
    with pytest.raises(WorkerError, match="_Unpicklable: praktijk 01234567: onverwacht"):
        alone(_spread_unpicklable)


def _die_on_1(item: int) -> int:
    if item == 1:
        os._exit(9)
    return item


def _spread_dying() -> None:
    spread(_die_on_1, [0, 1, 2], 2, _engine())


def test_a_worker_that_dies_fails_the_run_instead_of_hanging_it() -> None:
    started = clock.monotonic()
    with pytest.raises(BrokenProcessPool):
        alone(_spread_dying)
    assert clock.monotonic() - started < 30


def test_the_officers_a_sweeps_notices_name_are_kept_before_any_chunk_of_them_is_composed(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk of notices that chose a practice's officers wrote that first, and held the database's write lock while
    it composed the rest of the chunk: a second worker waited for all of it (issue 16). The sweep keeps every
    practice's officers before the chunks, in the order of the practices, so a chunk only reads them."""
    real = due_notices.queue_notices
    missing: list[list[str]] = []

    def reading_the_officers_first(s: Any, services: Services, rows: Any, *args: Any, **kw: Any) -> None:
        codes = sorted({r.agb_code for r in rows if r.kind in ("start_conversation", "annual_conversation")})
        held = repo.officer_assignments(s, codes)
        missing.append([code for code in codes if len(held.get(code, [])) < 2])
        real(s, services, rows, *args, **kw)

    monkeypatch.setattr(due_notices, "queue_notices", reading_the_officers_first)
    Scenario.build(services, DESCRIPTION)
    report = sweep.sweep_due(services, monday("2023-12-04"), batch_size=2)
    assert report.queued["conversation_invitation"] > 0
    assert len(missing) >= len(CODES) // 2 and not any(missing)  # chunks of two duties, each finding its officers
    with services.session() as s:
        assert sorted(repo.officer_assignments(s)) == CODES
