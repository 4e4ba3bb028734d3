"""A sweep spread over worker processes (the setting ``workers``, ``flows.services.workers``) does what a sweep in one
process does: the same rows, the same report, on SQLite and on PostgreSQL; a batch that fails in a worker fails the
run after the others are done, and a worker that dies fails it without hanging."""

from __future__ import annotations

import os
import pickle
import sqlite3
import time as clock
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from domain.clock import AMSTERDAM
from flows.services import duties, queries, sweep
from flows.services.context import Services
from flows.services.settings import Settings
from flows.services.workers import LEAST, WorkerError, divide, spread
from flows.testing.demo import run_demo
from flows.testing.scenario import Scenario
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


def a_year_swept(services: Services, workers: int) -> list[dict[str, Any]]:
    """Nine practices through a year: start conversations, figures with a third of them far below target, sweeps
    in batches of two over ``workers`` processes; each sweep's summary and lines."""
    sc = Scenario.build(services, DESCRIPTION)
    for code in CODES:
        sc.conversation(code, "start", "2024-01-16")
    reports = []
    for day in ("2024-01-22", "2024-05-13", "2024-06-03", "2024-09-02", "2024-12-02", "2025-01-06", "2025-03-03"):
        if day == "2024-05-13":
            sc.scores("2024-03-31", {code: LOW if i % 3 == 0 else GOOD for i, code in enumerate(CODES)})
        report = sweep.sweep_due(services, monday(day), batch_size=2, workers=workers)
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


def test_a_year_swept_over_two_worker_processes_leaves_and_reports_what_one_process_does(
        services: Services, sqlite_copy: Callable[[str], Services]) -> None:
    """On each database (SQLite and PostgreSQL) against one process on SQLite: every duty, message, change and
    transition the same, and every sweep's report the same, line for line, in the same order."""
    spread_out = a_year_swept(services, workers=2)
    reference = sqlite_copy("reference.db")
    alone = a_year_swept(reference, workers=1)
    assert spread_out == alone
    left, right = snapshot(services), snapshot(reference)
    assert left == right
    # the sweeps did real work in several batches: the low third flagged, invitations, reminders, overdue notices
    assert [r["transitions"] for r in alone] == [0, 3, 0, 0, 0, 0, 0]
    assert sum(r["practices"] for r in alone) > 2 * len(CODES)
    assert {"conversation_invitation", "conversation_reminder", "conversation_overdue", "training_due",
            "training_overdue"} <= {kind for _, kind, *_ in left["messages"]}
    assert len(left["events"]) == len(CODES) + 3  # a start conversation each; three flagged


def test_a_demo_care_group_swept_over_two_worker_processes_ends_exactly_as_one_swept_in_one(tmp_path: Path) -> None:
    """Two simulated years of the demo's care group (six practices in batches of two: conversations, figures,
    escalations, kits, courses, meetings, mirror meetings): every table the same, row for row."""
    one = run_demo(tmp_path / "one", years=2, practices=6, batch_size=2)
    two = run_demo(tmp_path / "two", years=2, practices=6, batch_size=2, workers=2)
    left, right = _without_serials(one.database), _without_serials(two.database)
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


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    yield engine
    engine.dispose()


def _slow_pid(item: int) -> tuple[int, int]:
    clock.sleep(0.05)
    return item, os.getpid()


def test_work_spread_over_two_processes_comes_back_in_the_order_of_the_batches(engine: Any) -> None:
    results = spread(_slow_pid, list(range(8)), 2, engine)
    assert [item for item, _ in results] == list(range(8))
    pids = {pid for _, pid in results}
    assert len(pids) == 2 and os.getpid() not in pids


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


def test_one_worker_or_one_batch_is_worked_in_the_runs_own_process(engine: Any) -> None:
    assert {pid for _, pid in spread(_slow_pid, [1, 2, 3], 1, engine)} == {os.getpid()}
    assert spread(_slow_pid, [1], 4, engine) == [(1, os.getpid())]
    assert spread(_slow_pid, [], 2, engine) == []


def test_two_threads_spreading_at_once_each_get_their_own_work_done(engine: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def times(factor: int) -> Callable[[int], int]:
        return lambda item: (clock.sleep(0.02), item * factor)[1]

    with ThreadPoolExecutor(2) as threads:
        tens = threads.submit(spread, times(10), list(range(6)), 2, engine)
        hundreds = threads.submit(spread, times(100), list(range(6)), 2, engine)
    assert tens.result() == [0, 10, 20, 30, 40, 50]
    assert hundreds.result() == [0, 100, 200, 300, 400, 500]


def test_a_batch_that_fails_in_a_worker_fails_the_run_after_the_other_batches_are_done(
        engine: Any, tmp_path: Path) -> None:
    def work(item: int) -> int:
        if item == 1:
            raise ValueError("batch 1 kapot")
        clock.sleep(0.1)
        (tmp_path / f"done-{item}").write_text("")
        return item

    with pytest.raises(ValueError, match="batch 1 kapot"):
        spread(work, [0, 1, 2, 3, 4], 2, engine)
    assert sorted(p.name for p in tmp_path.glob("done-*")) == ["done-0", "done-2", "done-3", "done-4"]


class _Unpicklable(Exception):
    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


def test_an_error_that_cannot_travel_back_from_a_worker_is_raised_with_its_text(engine: Any) -> None:
    with pytest.raises(TypeError):  # made again from its one argument, the text, it lacks ``why``
        pickle.loads(pickle.dumps(_Unpicklable("a", "b")))

    def work(item: int) -> int:
        if item:
            raise _Unpicklable("praktijk 01234567", "onverwacht")
        return item

    with pytest.raises(WorkerError, match="_Unpicklable: praktijk 01234567: onverwacht"):
        spread(work, [0, 1], 2, engine)


def test_a_worker_that_dies_fails_the_run_instead_of_hanging_it(engine: Any) -> None:
    def work(item: int) -> int:
        if item == 1:
            os._exit(9)
        return item

    started = clock.monotonic()
    with pytest.raises(BrokenProcessPool):
        spread(work, [0, 1, 2], 2, engine)
    assert clock.monotonic() - started < 30
