"""A policy change tried before it applies: the care group run under the current and a proposed policy, on
copies, and where the two differ, per practice.

- Forward (the default): both copies are the database as it is; the schedule is walked from the engine's
  horizon for ``months`` months (``flows.services.backfill``), once under the policy in force, once under the
  proposed one from the first day. What differs is what the proposal would change from now on.
- From a day (``since``): both copies hold the facts only (registry, figures, conversations, leaves, kits,
  courses, policy versions); every trajectory is rebuilt from ``since`` under each policy, as a backfill would,
  so "flagged earlier" can be read off the past.

The two walks run at once, each in a process of its own on its own copy (they share nothing; on two cores the
what-if takes the time of one walk). A walk takes only the duties that move trajectories and queues no notices
(``backfill(trajectories_only=True)``): the comparison reads the trajectories alone, and they take the same steps
at the same moments as a walk of every duty (a test holds the two together), in some 40% of its time (issue 16).

Invariants: nothing is stored in the care group's database and nothing is sent: the copies are temporary
SQLite databases, removed afterwards, and the walk never dispatches. The comparison names every step that comes
under one policy and not (or at another moment) under the other, with its reasons.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import tempfile
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta

from domain.clock import as_amsterdam, start_of_day
from domain.policy import Policy
from domain.trajectory import TrajectoryTransitioned, Trigger
from domain.vocabulary import TRIGGER_NAMES_NL
from flows.services.backfill import backfill
from flows.services.context import Services
from flows.services.settings import Settings
from storage import repository as repo
from storage.database import copy_rows, create_db_engine, migrate, sqlite_file, sqlite_url

# what a rebuild from a day copies: the facts (and what the imports keep with the figures: their spreads, the
# indicators scored), never what the engine made of them
FACT_TABLES = {"care_group", "contact", "gp_group", "practice", "practice_person", "enrolment", "indicator",
               "target", "national_average", "indicator_score", "indicator_import", "score_revision", "conversation",
               "kit_refresh", "course_completion", "policy_version", "trajectory_step", "period_spread",
               "scored_indicator"}


@dataclass(frozen=True)
class Difference:
    agb_code: str
    name: str
    text: str  # Dutch: what happens under which policy, when, why


@dataclass
class WhatIfReport:
    start: datetime
    until: datetime
    current: str  # the policy in force, as its label
    changed: dict[str, tuple[Any, Any]]  # threshold -> (current, proposed)
    differences: list[Difference] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def practices(self) -> list[str]:
        return sorted({d.agb_code for d in self.differences})


def what_if(services: Services, settings: Settings, proposed: Policy, *, now: datetime, months: int = 12,
            since: date | None = None) -> WhatIfReport:
    now = as_amsterdam(now)
    with services.session() as s:
        horizon = repo.engine_horizon(s)
        names = {p.agb_code: p.name for p in repo.practices(s)}
    start = start_of_day(since) if since is not None else (horizon or now)
    until = start + relativedelta(months=months)
    current = services.in_force(start)
    now_dumped, then_dumped = current.policy.model_dump(mode="json"), proposed.model_dump(mode="json")
    changed = {k: (v, then_dumped[k]) for k, v in now_dumped.items() if _canonical(then_dumped[k]) != _canonical(v)}
    report = WhatIfReport(start, until, current.policy_label, changed)
    with tempfile.TemporaryDirectory(prefix="qc-what-if-") as folder, ProcessPoolExecutor(
            max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        # the two walks' processes start now and load the engine (about 0.7 s) while the copies are made
        for _ in range(2):
            pool.submit(_ready)
        paths = {which: Path(folder) / f"{which}.db" for which in ("current", "proposed")}
        first = _copy(services, paths["current"], facts_only=since is not None)
        first.db.dispose()
        _duplicate(paths["current"], paths["proposed"])
        # the two walks share nothing but what they start from: each in its own process, on its own copy, at once
        # each walk sweeps in its own process alone: the two walks already have the two cores (``workers``)
        alone = settings.model_copy(update={"workers": 1})
        walks = [_Walk(which, str(paths[which]), _portable(services), alone, policy, start, until, now)
                 for which, policy in (("current", None), ("proposed", proposed))]
        runs = {}
        for walk, (failures, events) in zip(walks, pool.map(_walk, walks), strict=True):
            report.failures += failures
            runs[walk.which] = events
    for agb in sorted(set(runs["current"]) | set(runs["proposed"])):
        for text in _compare(runs["current"].get(agb, []), runs["proposed"].get(agb, [])):
            report.differences.append(Difference(agb, names.get(agb, agb), text))
    return report


@dataclass(frozen=True)
class _Walk:
    """One policy's walk, as handed to its process: the copy it works on and everything but the database."""

    which: str  # "current" or "proposed"
    path: str
    services: dict[str, Any]  # the fields of ``Services`` but its engine (``_portable``)
    settings: Settings
    policy: Policy | None  # the proposal, applying from the first day walked; None: the policy in force
    start: datetime
    until: datetime
    now: datetime


def _ready() -> None:
    """Nothing: sent to a walk's process before its walk, so that it loads this module (and the engine with it)
    while the copies are made."""


def _portable(services: Services) -> dict[str, Any]:
    return {f.name: getattr(services, f.name) for f in fields(services) if f.name != "db"}


def _walk(walk: _Walk) -> tuple[list[tuple[str, str]], dict[str, list[TrajectoryTransitioned]]]:
    """Walk one copy from the start and return its failures and every practice's events from the start on."""
    copy = Services(db=create_db_engine(sqlite_url(Path(walk.path))), **walk.services)
    try:
        if walk.policy is not None:
            with copy.transaction() as s:
                repo.add_policy_version(s, walk.policy, walk.start.date(), "wat-als: voorstel", walk.now, "what-if")
        with copy.session() as s:
            # nothing but this walk writes to the copy, and the walk adds no policy version: read them once (every
            # duty asked the database for them at every moment it ran)
            copy = copy.pinned(s)
        walked = backfill(copy, walk.settings, walk.start, walk.until, now=walk.now, into_the_future=True,
                          trajectories_only=True)
        with copy.session() as s:
            events = {agb: [e for e in found if e.at.timestamp() >= walk.start.timestamp()]
                      for agb, found in repo.load_all_events(s).items()}
        return [(f"{walk.which}: {w}", y) for w, y in walked.failures], events
    finally:
        copy.db.dispose()


def _duplicate(source: Path, target: Path) -> None:
    """A copy of an SQLite file by SQLite's backup: a page copy of one read snapshot, what its write-ahead log
    holds included. Of the care group's own database too, which is at this code's schema (the services that
    opened it migrated it), so the copy is as well."""
    with closing(sqlite3.connect(source)) as read, closing(sqlite3.connect(target)) as write:
        read.backup(write)


def _canonical(value: Any) -> str:
    """A threshold's value to compare: sets (programmes, roles) come out of JSON as lists in any order."""
    if isinstance(value, list):
        return json.dumps(sorted(_canonical(v) for v in value))
    if isinstance(value, dict):
        return json.dumps({k: _canonical(v) for k, v in sorted(value.items())})
    return json.dumps(value)


def _copy(services: Services, path: Path, *, facts_only: bool) -> Services:
    """A temporary SQLite copy of the care group's database (of its facts only: the trajectories rebuilt)."""
    source = sqlite_file(services.db)
    if not facts_only and source is not None:
        # the whole of an SQLite file: its pages copied by SQLite's backup, schema and all (1.3 s → 0.3 s at 500
        # practices after three years, against rows inserted into a freshly migrated file)
        _duplicate(source, path)
        return replace(services, db=create_db_engine(sqlite_url(path)))
    target = create_db_engine(sqlite_url(path))
    migrate(target)
    copy_rows(services.db, target, FACT_TABLES if facts_only else None)
    copy = replace(services, db=target)
    if facts_only:
        _steps_again(copy, services)
    return copy


def _steps_again(copy: Services, source: Services) -> None:
    """Every fact's step waiting again, for the walk to take in order; facts recorded before steps were kept
    (conversations and leaves taken at once) get theirs from what they are."""
    with source.session() as s:
        leaves = [e for events in repo.load_all_events(s).values() for e in events if e.trigger is Trigger.LEAVE]
    with copy.transaction() as s:
        repo.restart_trajectories(s, leaves)


def _when(event: TrajectoryTransitioned) -> str:
    return f"{as_amsterdam(event.at):%Y-%m-%d}"


def _why(event: TrajectoryTransitioned) -> str:
    explained = [str(r.get("explanation")) for r in event.reasons if r.get("explanation")]
    return f" ({'; '.join(explained)})" if explained else ""


def _compare(current: list[TrajectoryTransitioned], proposed: list[TrajectoryTransitioned]) -> list[str]:
    """Where two runs of one practice differ: each step by trigger and occurrence, earlier, later or only
    under one policy."""
    def numbered(events: list[TrajectoryTransitioned]) -> dict[tuple[str, int], TrajectoryTransitioned]:
        seen: dict[str, int] = defaultdict(int)
        out = {}
        for e in sorted(events, key=lambda e: (e.at.timestamp(), e.seq)):
            seen[e.trigger.value] += 1
            out[(e.trigger.value, seen[e.trigger.value])] = e
        return out

    now, then = numbered(current), numbered(proposed)
    lines = []
    for key in sorted(set(now) | set(then), key=lambda k: min(
            x.at.timestamp() for x in (now.get(k), then.get(k)) if x is not None)):
        a, b = now.get(key), then.get(key)
        name = TRIGGER_NAMES_NL.get(key[0], key[0])
        if a is None and b is not None:
            lines.append(f"{name}: alleen onder het voorstel, op {_when(b)}{_why(b)}")
        elif b is None and a is not None:
            lines.append(f"{name}: alleen onder het huidige beleid, op {_when(a)}{_why(a)}")
        elif a is not None and b is not None and _when(a) != _when(b):
            earlier = "eerder" if b.at < a.at else "later"
            days = abs((b.at - a.at) / timedelta(days=1))
            lines.append(f"{name}: onder het voorstel {earlier}, op {_when(b)} in plaats van {_when(a)} "
                         f"({days:.0f} dagen){_why(b)}")
    return lines
