"""The floor of the quality cycle's work on this machine (issue 16): what the same rows and the same rules cost
without the engine around them, measured in the same run as the cycle so that the ratio to the floor is read on
one machine at one moment.

- **Writes**: every row the cycle left in its database, table by table, inserted again by plain ``sqlite3``
  ``executemany`` into a fresh file with the same tables and indexes (copied from ``sqlite_master``), 1,000 rows
  per transaction (a commit per batch, as the engine commits per batch). Rows the cycle updated are counted once,
  as they ended; deleted and withdrawn ones not at all: the floor is a lower bound, never an estimate of the work.
- **Rules**: at each import's moment, every practice's main figures known then (every score held in memory as
  columns, read once, not timed) judged as the rules judge them, over columns with Polars: each indicator's
  latest period known, below its target by more than ``deviation_share_of_target``, and behind the national
  average by more than ``lag_share_of_average``; per practice, whether any is. That is the floor. Beside it, not
  part of it: the domain's own rules (``assess_deviation``, ``assess_underperformance`` as a year after a plan)
  called per practice in memory, without database, projection or transitions.

Each table's floor is put under the phase of the cycle that writes its rows (``PHASE_OF_TABLE``); the trajectory's
events are split by trigger (a conversation's step, or a sweep's judgement).
"""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BATCH = 1_000

# which phase of the benchmark writes a table's rows; what is not listed is the sweeps' (the weekly duties)
PHASE_OF_TABLE = {
    **dict.fromkeys(("care_group", "contact", "enrolment", "gp_group", "indicator", "national_average", "practice",
                     "practice_person", "target", "policy_version", "course", "alembic_version"), "setup"),
    **dict.fromkeys(("indicator_score", "indicator_import", "score_revision", "period_spread",
                     "scored_indicator"), "imports"),
    **dict.fromkeys(("conversation", "agreement", "goal", "trajectory_step", "conversation_move"), "conversations"),
}
CONVERSATION_TRIGGERS = {"hold_start_conversation", "hold_annual_conversation", "agree_improvement_plan"}


def insert_floor(db: Path, scratch: Path) -> dict[str, Any]:
    """Insert every row of ``db`` again into ``scratch`` (created here, removed after) by plain ``executemany``;
    per table its rows and seconds, and the seconds per phase."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{scratch}{suffix}").unlink(missing_ok=True)
    source = sqlite3.connect(db)
    target = sqlite3.connect(scratch, isolation_level=None)
    target.execute("PRAGMA journal_mode=WAL")  # as the product's SQLite engine (storage.database)
    target.execute("PRAGMA synchronous=NORMAL")
    from storage.database import WAL_AUTOCHECKPOINT
    target.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
    try:
        schema = source.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY type = 'index'").fetchall()
        for _, _, sql in schema:
            target.execute(sql)
        tables: dict[str, dict[str, float]] = {}
        for kind, name, _ in schema:
            if kind != "table":
                continue
            rows = source.execute(f'SELECT * FROM "{name}"').fetchall()
            if not rows:
                continue
            marks = ", ".join("?" * len(rows[0]))
            insert = f'INSERT INTO "{name}" VALUES ({marks})'
            started = time.perf_counter()
            for i in range(0, len(rows), BATCH):
                target.execute("BEGIN")
                target.executemany(insert, rows[i:i + BATCH])
                target.execute("COMMIT")
            tables[name] = {"rows": len(rows), "s": time.perf_counter() - started}
        triggers = dict(source.execute("SELECT trigger, count(*) FROM trajectory_event GROUP BY trigger").fetchall())
    finally:
        source.close()
        target.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{scratch}{suffix}").unlink(missing_ok=True)
    phases: dict[str, float] = defaultdict(float)
    for name, measured in tables.items():
        if name == "trajectory_event":
            per_row = measured["s"] / measured["rows"]
            by_conversation = sum(n for t, n in triggers.items() if t in CONVERSATION_TRIGGERS)
            phases["conversations"] += per_row * by_conversation
            phases["sweeps"] += per_row * (measured["rows"] - by_conversation)
        else:
            phases[PHASE_OF_TABLE.get(name, "sweeps")] += measured["s"]
    return {"tables": tables, "phases": dict(phases), "rows": sum(int(m["rows"]) for m in tables.values()),
            "s": sum(m["s"] for m in tables.values())}


def rules_floor(services: Any, moments: Iterable[datetime]) -> dict[str, Any]:
    """Every practice judged at each of ``moments`` over columns (Polars): seconds, judgements, how many deviate
    and how many lag the national average."""
    import polars as pl

    from storage import repository as repo

    policy = services.policy
    with services.session() as s:
        shared = repo.reference_figures(s, policy.figures_count_after_days)
        scores = [(x.agb_code, x.programme.value, x.indicator, x.period_end, x.numerator, x.denominator)
                  for group in repo.load_scores(s).values() for x in group]
    main = {(k.programme.value, k.indicator) for k, d in shared.catalogue.items() if d.main}
    if not scores:  # a run stopped before the first import (--weeks): nothing to judge
        return {"s": 0.0, "judged": 0, "deviating": 0, "lagging": 0}
    table = pl.DataFrame(scores, schema=["agb", "programme", "indicator", "period_end", "numerator", "denominator"],
                         orient="row").filter(pl.struct("programme", "indicator").is_in(
                             [{"programme": p, "indicator": i} for p, i in sorted(main)]))
    targets = pl.DataFrame([(k.programme.value, k.indicator, v) for k, v in shared.targets.items()],
                           schema=["programme", "indicator", "target"], orient="row")
    averages = pl.DataFrame([(k.programme.value, k.indicator, year, v) for (k, year), v in shared.averages.items()],
                            schema=["programme", "indicator", "year", "average"], orient="row")
    deviation_share, lag_share = policy.deviation_share_of_target, policy.lag_share_of_average
    judged = deviating = lagging = 0
    started = time.perf_counter()
    for moment in moments:
        known = moment.date() - timedelta(days=policy.figures_count_after_days)
        latest = (table.filter(pl.col("period_end") <= known)
                  .sort("period_end").group_by("agb", "programme", "indicator").last()
                  .with_columns((100 * pl.col("numerator") / pl.col("denominator")).alias("score"),
                                pl.col("period_end").dt.year().alias("year")))
        judged_now = (latest.join(targets, on=["programme", "indicator"], how="left")
                      .join(averages, on=["programme", "indicator", "year"], how="left")
                      .group_by("agb").agg(
                          (pl.col("score") < pl.col("target") * (1 - deviation_share)).any().alias("deviates"),
                          (pl.col("score") < pl.col("average") * (1 - lag_share)).any().alias("lags")))
        judged += judged_now.height
        deviating += int(judged_now["deviates"].sum())
        lagging += int(judged_now["lags"].sum())
    return {"s": time.perf_counter() - started, "judged": judged, "deviating": deviating, "lagging": lagging}


def domain_rules_in_memory(services: Any, moments: Iterable[datetime]) -> dict[str, Any]:
    """Every practice judged in memory at each of ``moments`` by the domain's escalation rules over its figures
    known then: seconds, judgements and how many found a deviation (beside the floor, not part of it)."""
    from domain.rules.escalation import assess_deviation, assess_underperformance
    from storage import repository as repo

    with services.session() as s:
        shared = repo.reference_figures(s, services.policy.figures_count_after_days)
        scores = repo.load_scores(s)
        enrolments = {p.agb_code: p.programmes for p in repo.practices(s)}
    policy = services.policy
    judged = deviating = 0
    started = time.perf_counter()
    for moment in moments:
        on = moment.date()
        plan_agreed_on = on - timedelta(days=365)
        for agb, own in scores.items():
            figures = shared.with_scores(own)
            programmes = enrolments.get(agb, {})
            deviation = assess_deviation(figures, policy, programmes, on)
            assess_underperformance(figures, policy, programmes, plan_agreed_on, on)
            judged += 1
            deviating += deviation.applies
    return {"s": time.perf_counter() - started, "judged": judged, "deviating": deviating}


def import_moments(db: Path) -> list[datetime]:
    """The moments the cycle's imports were made (each import is judged by the sweep that follows it); stored as
    UTC without a zone (``storage.tables.UtcDateTime``)."""
    from domain.clock import as_amsterdam

    with sqlite3.connect(db) as c:
        found = [row[0] for row in c.execute("SELECT imported_at FROM indicator_import ORDER BY imported_at")]
    return [as_amsterdam(datetime.fromisoformat(m).replace(tzinfo=UTC)) for m in found]
