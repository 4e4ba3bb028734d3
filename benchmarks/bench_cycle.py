"""Benchmark of the whole quality cycle: synthetic care groups driven week by week for years (issue #4).

For each size (practices) a fresh SQLite file under ``--out`` (git-ignored ``var/bench/cycle`` by
default) is driven through the product's service functions only, in a fresh Python process so that
its peak memory is its own:

- **setup**: the schema (Alembic), the shipped catalogue, the sample targets and national averages,
  and the registry (``imports.load_registry``): practices in GP groups of ten, each with a practice-
  holding GP (two in 40% of practices), a POH chronic care, a POH elderly care and a practice manager,
  all with e-mail addresses; every practice in dm2, cvrm and elderly care, 45% also in COPD and 60%
  in asthma; programmes start on a Monday in the first 13 weeks of the simulation; four officers and
  two board members;
- **imports**: every quarter, five weeks after its end, ``imports.import_scores`` of every main process
  indicator of every programme of every practice (12-month period, numerator over the practice's
  programme population); most practices score around their target (target + 4, +/- 2 points), 8% deviate
  from a quarter drawn between the 1st and the 8th: 3% drop HbA1c-measured and foot exam to about 58%
  and stay there (underperformers: they escalate a year after their plan), 3% drop HbA1c-measured to
  64% and recover by 6 points a quarter, 2% drop to 62% and improve by 2.2 points a quarter;
- **sweeps**: every Monday ``sweep.sweep_due`` at 06:00 (its batches over ``--workers`` processes, default 1),
  ``plan_meetings`` at 06:15, ``refresh_kits`` at 06:30 and ``board_digest`` at 07:00;
- **conversations**: what officers do, recorded at 16:00 on the day held, a day's conversations in one batch
  (``conversations.record_conversations``, as an import of that day's spreadsheet records them): every
  open start, annual or extra conversation obligation is held on its ``planned_on``; 5% of annual
  conversations are held three weeks late instead (past their due date: overdue notices), 3% of annual
  conversations miss the POH (an attendance gap); an extra conversation agrees an improvement plan with
  a goal per flagged indicator (its target, in a year).

Kit refreshes and course completions are not recorded: their notices go out once and the obligations
stay open. Nothing is dispatched (the outbox only fills).

Reported per size: wall time in all and per phase (``time.perf_counter``), the time per practice-year,
peak memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of the size's own process, started by a parent
that imports nothing of the project; ``VmHWM`` for comparison) and counts that show the run did real work
(obligations by status, outbox messages by kind, transitions by trigger, escalations, conversations).

With ``--prefect``, the state at the end of the largest run is copied (SQLite file, checkpointed), and
``sweep_due`` for the next Monday is run on identical copies: a full sweep (``full=True``: every practice
reviewed, as after a change of policy) called directly, and as the Prefect flow ``sweep_due_flow`` against
a local ``prefect server start`` (temporary ``PREFECT_HOME``, telemetry off), with flow heartbeats switched
off and on; and the ordinary sweep of that Monday (only the practices whose facts, figures or deadlines
moved) directly and as the flow. Reported: the times, the overhead, whether both did the same work (equal
summaries) and the task runs the flow created (read with Prefect's client).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_cycle.py --practices 500 5000 --years 3 [--prefect]

Each size is also measured against its floor (``benchmarks/floor.py``): the same rows inserted by plain
``executemany``, the same practices judged over columns, in the same run; the ratio to the floor is reported per
phase. With ``--cli [N ...]`` the CLI path (``benchmarks/cli_path.py``) is driven too: ``load-registry``, then
``import-indicators`` and ``run --now`` every quarter, each a fresh process.

Options: ``--out DIR``, ``--keep`` (keep the databases), ``--seed N``, ``--weeks N`` (stop after N weeks,
to estimate a slow run), ``--profile FILE`` (cProfile the run of the last size into FILE), ``--cli [N ...]``,
``--quarters N`` (of the CLI path, default 12), ``--workers N`` (the processes each ``sweep_due`` spreads its
batches of practices and of notices over, as the setting ``QC_WORKERS`` does; default 1).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED = 20240101


# --- the parent: lean on purpose (ru_maxrss of a child includes the parent's peak at fork) ---------------


def _child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run this script in a fresh process and return the JSON on its last line of output."""
    completed = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE)
    if completed.returncode != 0:
        raise SystemExit(f"child {' '.join(args)} failed with exit code {completed.returncode}")
    last = [line for line in completed.stdout.splitlines() if line.strip()][-1]
    result: dict[str, Any] = json.loads(last)
    return result


def _print_cycle(results: list[dict[str, Any]], years: int) -> None:
    print()
    print(f"Full cycle, {years} simulated year(s), weekly duties, SQLite (one fresh file per size; with --postgres "
          "also PostgreSQL); "
          "peak MB = ru_maxrss of a fresh process per size (VmHWM in brackets)")
    header = (f"{'practices':>9} {'database':<10} {'weeks':>5} {'total s':>8} {'setup':>7} {'imports':>8} "
              f"{'sweeps':>8} {'convers.':>8} {'harness':>8} {'ms/pr.-yr':>9} {'peak MB':>14}")
    print(header)
    print("-" * len(header))
    for r in results:
        p = r["phases"]
        print(f"{r['practices']:>9,} {r.get('database', 'SQLite'):<10} {r['weeks']:>5} {r['total_s']:>8.1f} "
              f"{p['setup']:>7.1f} {p['imports']:>8.1f} "
              f"{p['sweeps']:>8.1f} {p['conversations']:>8.1f} {p['harness']:>8.1f} "
              f"{1000 * r['per_practice_year_s']:>9.2f} {r['peak_mb']:>7.0f} ({r['vmhwm_mb']:>4.0f})")
    print()
    print("Sweeps per duty (s):")
    for r in results:
        d = r["duties"]
        print(f"  {r['practices']:>6,} practices, {r.get('database', 'SQLite')}: "
              + ", ".join(f"{k} {v:.1f}" for k, v in d.items())
              + f"; slowest week {r['slowest_week_s']:.2f} s ({r['slowest_week']})")
    print()
    print("Counts (proof of work):")
    for r in results:
        c = r["counts"]
        print(f"  {r['practices']:>6,} practices, {r.get('database', 'SQLite')}:")
        print(f"    conversations recorded {c['conversations']:,} ({_fmt_counts(c['conversations_by_kind'])}); "
              f"refused {c['refused']}; late {c['late']}")
        print(f"    scores {c['scores']:,} in {c['imports']} imports")
        print(f"    obligations {c['obligations']:,} ({_fmt_counts(c['obligations_by_status'])}); "
              f"by kind: {_fmt_counts(c['obligations_by_kind'])}; changes logged {c['obligation_changes']:,}")
        print(f"    outbox messages {c['outbox']:,} ({_fmt_counts(c['outbox_by_kind'])})")
        print(f"    transitions {c['transitions']:,} ({_fmt_counts(c['transitions_by_trigger'])}); "
              f"escalations {c['escalations']} of {c['underperformers']} underperformer profiles")
        print(f"    states at the end: {_fmt_counts(c['states'])}; duty runs {c['duty_runs']:,}")
    print()
    print("Against the floor (benchmarks/floor.py): the same rows inserted by plain executemany into a fresh SQLite "
          "file with the same tables and indexes, 1,000 a transaction; the same practices judged at every import over "
          "columns (Polars); measured in the same run")
    header = f"{'practices':>9} {'phase':<14} {'time s':>8} {'floor s':>8} {'ratio':>7}  floor's work"
    print(header)
    print("-" * len(header))
    for r in results:
        if r["floor"] is None:
            continue  # the floor is SQLite's: PostgreSQL's run is reported beside it, above
        writes, rules = r["floor"]["writes"], r["floor"]["rules"]
        floor_of = dict(writes["phases"])
        floor_of["sweeps"] = floor_of.get("sweeps", 0.0) + rules["s"]
        work = {"setup": "registry rows", "imports": "score rows",
                "sweeps": f"duty rows and messages; {rules['judged']:,} judgements ({rules['deviating']:,} deviating)",
                "conversations": "conversation rows, steps and their events"}
        for phase in ("setup", "imports", "sweeps", "conversations"):
            spent, least = r["phases"][phase], floor_of.get(phase, 0.0)
            ratio = f"{spent / least:6.1f}x" if least > 0 else "      -"
            print(f"{r['practices']:>9,} {phase:<14} {spent:>8.1f} {least:>8.2f} {ratio}  {work[phase]}")
        engine = sum(r["phases"][k] for k in ("setup", "imports", "sweeps", "conversations"))
        least = sum(floor_of.values())
        print(f"{r['practices']:>9,} {'all (harness out)':<14} {engine:>8.1f} {least:>8.2f} {engine / least:6.1f}x  "
              f"{writes['rows']:,} rows")
    sqlite_runs = [r for r in results if r.get("database", "SQLite") == "SQLite"]
    if len(sqlite_runs) > 1:
        first, last = sqlite_runs[0], sqlite_runs[-1]
        ratio = (last["total_s"] / last["practices"]) / (first["total_s"] / first["practices"])
        print()
        print(f"Scaling: {last['practices'] / first['practices']:.0f}x the practices took "
              f"{last['total_s'] / first['total_s']:.1f}x the time (time per practice {ratio:.2f}x the smallest's; "
              "1.00 = linear)")


def _fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())) or "none"


class PrefectServer:
    """``prefect server start`` as a subprocess with its own temporary PREFECT_HOME, telemetry off."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.home = Path(tempfile.mkdtemp(prefix="bench-prefect-"))
        self.url = f"http://127.0.0.1:{port}/api"
        self.env = {**os.environ, "PREFECT_HOME": str(self.home), "DO_NOT_TRACK": "1",
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_API_URL": self.url,
                    "PREFECT_LOGGING_LEVEL": "WARNING"}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.home / "server.log"

    def start(self, timeout: float = 120.0) -> float:
        import urllib.request

        started = time.perf_counter()
        prefect = Path(sys.executable).parent / "prefect"
        env = {k: v for k, v in self.env.items() if k != "PREFECT_API_URL"}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1",
                                             "--port", str(self.port)], env=env, stdout=log,
                                            stderr=subprocess.STDOUT, cwd=self.home)
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise SystemExit(f"prefect server exited ({self.process.returncode}); see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.25)
        raise SystemExit(f"prefect server not healthy after {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.home, ignore_errors=True)


def _print_prefect(r: dict[str, Any]) -> None:
    print()
    print(f"sweep_due for {r['moment']} on an identical copy of the end state each time (batches of "
          f"{r['batch_size']}), {r['repeat']} runs of each, interleaved; Prefect server healthy after "
          f"{r['server_start_s']:.1f} s. Direct: settings read, services opened, the sweep (as a runner does).")
    rows = (("full sweep, direct", "direct_full", None), ("full sweep, flow, heartbeats off", "flow_full_off",
            "direct_full"), ("full sweep, flow, heartbeats on (default)", "flow_full_on", "direct_full"),
            ("ordinary sweep, direct", "direct_ordinary", None),
            ("ordinary sweep, flow, heartbeats off", "flow_ordinary_off", "direct_ordinary"))
    for label, key, base in rows:
        runs = "/".join(f"{t:.2f}" for t in r["times"][key])
        line = f"  {label:<42} median {r['median'][key]:6.2f} s  best {r['best'][key]:6.2f} s  (runs {runs})"
        if base is not None:
            over = 100 * (r["median"][key] - r["median"][base]) / r["median"][base]
            best = 100 * (r["best"][key] - r["best"][base]) / r["best"][base]
            t = r["tasks"][key]
            line += (f"  overhead {over:+.1f}% (best {best:+.1f}%), {t['task_runs']} task runs "
                     f"({_fmt_counts(t['task_runs_by_name'])}), {t['state']}")
        print(line)
    print(f"  every run did the same work as the direct one: {'yes' if r['same_work'] else 'NO'}")
    print(f"  the full sweep: {r['full']}")
    print(f"  the ordinary sweep (only what moved): {r['ordinary']}")
    print(f"  first flow run of the process (a no-op flow, excluded above): {r['warmup_s']:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--practices", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--weeks", type=int, default=None, help="stop after this many weeks (estimates)")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "cycle")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--prefect", action="store_true", help="also time one sweep as the Prefect flow")
    parser.add_argument("--port", type=int, default=4299, help="port of the local Prefect server")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each sweep variant with --prefect")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the last size into this file")
    parser.add_argument("--cli", type=int, nargs="*", default=None,
                        help="also drive the CLI path for these sizes (benchmarks/cli_path.py; default 5000)")
    parser.add_argument("--quarters", type=int, default=12, help="quarters of the CLI path")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes each sweep spreads its batches over (the setting QC_WORKERS)")
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="also run every size on this PostgreSQL database (its schema is dropped and made anew)")
    parser.add_argument("--weeks-csv", type=Path, default=None, metavar="FILE",
                        help="write each duty's seconds at each Monday of the last size (monday,duty,seconds)")
    parser.add_argument("--child", choices=["cycle", "prefect"], default=None, help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child == "cycle":
        sys.path.insert(0, str(ROOT))
        print(json.dumps(run_cycle(args.practices[0], args.years, args.db, args.seed, args.weeks, args.profile,
                                   args.url, args.workers, args.weeks_csv)))
        return
    if args.child == "prefect":
        sys.path.insert(0, str(ROOT))
        print(json.dumps(run_prefect_comparison(args.db, args.out, args.repeat)))
        return

    args.out.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; sizes {args.practices}, {args.years} year(s)"
          + (f", first {args.weeks} weeks only" if args.weeks else "")
          + f"; sweeps over {args.workers} worker process(es)")
    results = []
    for i, n in enumerate(args.practices):
        db = args.out / f"cycle-{n}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        extra = (["--weeks", str(args.weeks)] if args.weeks else []) + ["--workers", str(args.workers)]
        if args.profile and i == len(args.practices) - 1:
            extra += ["--profile", str(args.profile)]
        if args.weeks_csv and i == len(args.practices) - 1:
            extra += ["--weeks-csv", str(args.weeks_csv)]
        print(f"running {n:,} practices ...", flush=True)
        result = _child(["--child", "cycle", "--practices", str(n), "--years", str(args.years), "--db", str(db),
                         "--seed", str(args.seed), *extra])
        print(f"  {n:,} practices: {result['total_s']:.1f} s", flush=True)
        results.append(result)
        if args.postgres:
            print(f"running {n:,} practices on PostgreSQL ...", flush=True)
            result = _child(["--child", "cycle", "--practices", str(n), "--years", str(args.years), "--db", str(db),
                             "--seed", str(args.seed), "--url", args.postgres, *extra])
            print(f"  {n:,} practices on PostgreSQL: {result['total_s']:.1f} s", flush=True)
            results.append(result)
    _print_cycle(results, args.years)

    if args.cli is not None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import cli_path

        for n in args.cli or [5000]:
            print(f"running the CLI path for {n:,} practices ...", flush=True)
            cli_path.print_cli_path(cli_path.run_cli_path(n, args.quarters, args.out, args.seed))
    if args.prefect:
        largest = args.out / f"cycle-{args.practices[-1]}.db"
        server = PrefectServer(args.port)
        try:
            started = server.start()
            comparison = _child(["--child", "prefect", "--db", str(largest), "--out", str(args.out),
                                 "--repeat", str(args.repeat)], env=server.env)
            comparison["server_start_s"] = started
        finally:
            server.stop()
        _print_prefect(comparison)
    if not args.keep:
        for n in args.practices:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{args.out / f'cycle-{n}.db'}{suffix}").unlink(missing_ok=True)


# --- the child: one care group through the years --------------------------------------------------------


def _peak_mb() -> tuple[float, float]:
    """(ru_maxrss, VmHWM) of this process in MB (Linux reports ru_maxrss in KiB)."""
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    hwm = float("nan")
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return maxrss, hwm


def run_cycle(practices: int, years: int, db: Path, seed: int, max_weeks: int | None,
              profile: Path | None, url: str | None = None, workers: int = 1,
              weeks_csv: Path | None = None) -> dict[str, Any]:
    if profile is None:
        return _run_cycle(practices, years, db, seed, max_weeks, url, workers, weeks_csv)
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        return _run_cycle(practices, years, db, seed, max_weeks, url, workers, weeks_csv)
    finally:
        profiler.disable()
        profiler.dump_stats(str(profile))


def _run_cycle(practices: int, years: int, db: Path, seed: int, max_weeks: int | None,
               url: str | None = None, workers: int = 1, weeks_csv: Path | None = None) -> dict[str, Any]:
    import functools
    import random
    from collections import Counter, defaultdict
    from datetime import date, datetime, timedelta
    from datetime import time as clock

    import sqlalchemy as sa
    from dateutil.relativedelta import relativedelta
    from sqlmodel import col, select

    from domain.clock import AMSTERDAM
    from domain.commands import RecordConversation
    from domain.conversations import Attendee, Goal, ImprovementPlan
    from domain.indicators import IndicatorKind, IndicatorScore
    from domain.obligations import CONVERSATION_KINDS, ObligationStatus
    from domain.registry import CareGroup, GpGroup, Person, Practice, Programme, Registry, Role
    from domain.vocabulary import ConversationKind
    from flows.services import context, conversations, digest, imports, kits_and_courses, planning, sweep
    from flows.testing.scenario import FULL_ATTENDANCE, SAMPLES
    from readers.catalogue import default_catalogue
    from readers.files import parse_averages, parse_targets
    from statemachines.trajectory import TrajectoryError
    from storage import repository as repo
    from storage.database import sqlite_url
    from storage.tables import ObligationRow

    started_all = time.perf_counter()
    phases: dict[str, float] = defaultdict(float)
    per_duty: dict[str, float] = defaultdict(float)
    rng = random.Random(f"{seed}-{practices}")
    start = date(2024, 1, 1)  # a Monday
    end = start + relativedelta(years=years)
    lag = timedelta(days=35)

    # --- setup -------------------------------------------------------------------------------------------
    if url is not None:  # a PostgreSQL database the benchmark may empty: its schema made anew
        from storage.database import create_db_engine

        wipe = create_db_engine(url)
        with wipe.begin() as c:
            c.exec_driver_sql("DROP SCHEMA public CASCADE")
            c.exec_driver_sql("CREATE SCHEMA public")
        wipe.dispose()
    t0 = time.perf_counter()
    services = context.Services.open(url or sqlite_url(db))
    imports.ensure_default_catalogue(services)
    targets = parse_targets(SAMPLES / "targets.csv")
    imports.import_targets(services, targets)
    imports.import_averages(services, parse_averages(SAMPLES / "averages.csv"))
    target_of = {(t.programme, t.indicator): t.target for t in targets}
    main_process: dict[Programme, list[str]] = defaultdict(list)
    for d in default_catalogue():
        if d.main and d.kind is IndicatorKind.PROCESS:
            main_process[d.programme].append(d.indicator)

    codes = [f"01{i:06d}" for i in range(1, practices + 1)]
    population = {Programme.DM2: 240, Programme.COPD: 80, Programme.ASTHMA: 100, Programme.CVRM: 300,
                  Programme.ELDERLY: 60}
    profile: dict[str, str] = {}
    onset: dict[str, int] = {}
    size: dict[str, float] = {}
    practice_list = []
    for i, agb in enumerate(codes):
        programme_start = start + timedelta(weeks=i % 13)
        programmes = {Programme.DM2: programme_start, Programme.CVRM: programme_start,
                      Programme.ELDERLY: programme_start}
        if rng.random() < 0.45:
            programmes[Programme.COPD] = programme_start
        if rng.random() < 0.60:
            programmes[Programme.ASTHMA] = programme_start
        domain = f"praktijk{i + 1}.example"
        people = [Person(name=f"Huisarts {i + 1}a", role=Role.GP_PRINCIPAL, email=f"huisarts.a@{domain}")]
        if rng.random() < 0.40:
            people.append(Person(name=f"Huisarts {i + 1}b", role=Role.GP_PRINCIPAL, email=f"huisarts.b@{domain}"))
        people += [Person(name=f"POH-S {i + 1}", role=Role.POH_CHRONIC, email=f"poh.s@{domain}"),
                   Person(name=f"POH-O {i + 1}", role=Role.POH_ELDERLY, email=f"poh.o@{domain}"),
                   Person(name=f"Praktijkmanager {i + 1}", role=Role.PRACTICE_MANAGER, email=f"pm@{domain}")]
        practice_list.append(Practice(agb_code=agb, name=f"Huisartsenpraktijk {i + 1}",
                                      gp_group=f"HAGRO-{i // 10 + 1:04d}", email=f"info@{domain}",
                                      programmes=programmes, people=tuple(people)))
        draw = rng.random()
        profile[agb] = ("underperformer" if draw < 0.03 else "dip_recover" if draw < 0.06
                        else "improver" if draw < 0.08 else "steady")
        onset[agb] = rng.randint(1, 8)
        size[agb] = rng.lognormvariate(0.0, 0.35)
    registry = Registry(
        care_group=CareGroup(name="Zorggroep Benchmark", email="kwaliteit@zorggroep.example"),
        officers=tuple(Person(name=f"Functionaris {k}", role=Role.OFFICER, email=f"functionaris{k}@zorggroep.example")
                       for k in range(1, 5)),
        board=(Person(name="B. de Vries", role=Role.BOARD, email="bestuur@zorggroep.example"),
               Person(name="M. Visser", role=Role.BOARD, email="m.visser@zorggroep.example")),
        gp_groups=tuple(GpGroup(code=g, name=g) for g in sorted({p.gp_group for p in practice_list if p.gp_group})),
        practices=tuple(practice_list),
    )
    imports.load_registry(services, registry)
    by_code = {p.agb_code: p for p in practice_list}
    phases["setup"] += time.perf_counter() - t0

    # --- the figures ---------------------------------------------------------------------------------------
    def value(agb: str, programme: Programme, indicator: str, q: int) -> float:
        target = target_of.get((programme, indicator))
        steady = min(99.0, (target if target is not None else 78.0) + 4 + rng.uniform(-2, 2))
        kind, since = profile[agb], q - onset[agb]
        if since < 0 or kind == "steady":
            return steady
        if kind == "underperformer" and (programme, indicator) in ((Programme.DM2, "hba1c_measured"),
                                                                   (Programme.DM2, "foot_exam")):
            return 58 + 0.2 * since + rng.uniform(-0.5, 0.5)
        if kind == "dip_recover" and (programme, indicator) == (Programme.DM2, "hba1c_measured"):
            return min(steady, 64 + 6 * since)
        if kind == "improver" and (programme, indicator) == (Programme.DM2, "hba1c_measured"):
            return min(steady, 62 + 2.2 * since)
        return steady

    def quarter_scores(q: int, period_end: date) -> list[IndicatorScore]:
        out = []
        for p in practice_list:
            for programme in p.programmes:
                denominator = max(5, round(population[programme] * size[p.agb_code]))
                for indicator in main_process[programme]:
                    share = max(0.0, min(100.0, value(p.agb_code, programme, indicator, q))) / 100
                    out.append(IndicatorScore(agb_code=p.agb_code, programme=programme, indicator=indicator,
                                              period_end=period_end, numerator=round(share * denominator),
                                              denominator=denominator))
        return out

    quarters = []
    period = date(2023, 12, 31)
    while period + lag < end:
        quarters.append(period)
        period = period + timedelta(days=1) + relativedelta(months=3) - timedelta(days=1)
    published: set[date] = set()

    # --- the conversations ---------------------------------------------------------------------------------
    missing_poh = tuple(a for a in FULL_ATTENDANCE if a.role is not Role.POH_ELDERLY)
    handled: set[str] = set()
    pending: list[tuple[date, str, str, str]] = []  # (held_on, agb, kind, obligation key)
    counts: Counter[str] = Counter()

    def plan_for(agb: str, held_on: date) -> ImprovementPlan:
        with services.session() as s:
            view = repo.load_view(s, agb)
        keys = view.flagged or ()
        goals = tuple(Goal(programme=k.programme, indicator=k.indicator,
                           target=target_of.get((k.programme, k.indicator), 80.0), by=held_on + timedelta(days=365))
                      for k in keys) or (Goal(programme=Programme.DM2, indicator="hba1c_measured", target=90.0,
                                              by=held_on + timedelta(days=365)),)
        return ImprovementPlan(goals=goals, agreements=("Recall-lijst maandelijks nalopen",))

    def command(held_on: date, agb: str, kind: str) -> RecordConversation:
        conversation_kind = {"start_conversation": ConversationKind.START, "annual_conversation":
                             ConversationKind.ANNUAL, "extra_conversation": ConversationKind.EXTRA}[kind]
        attendees: tuple[Attendee, ...] = FULL_ATTENDANCE
        if conversation_kind is ConversationKind.ANNUAL and rng.random() < 0.03:
            attendees = missing_poh
        plan = plan_for(agb, held_on) if conversation_kind is ConversationKind.EXTRA else None
        return RecordConversation(agb_code=agb, kind=conversation_kind, held_on=held_on, attendees=attendees,
                                  plan=plan)

    def hold(held_on: date, cmds: list[RecordConversation]) -> None:
        """A day's conversations, recorded at 16:00 that day in one batch (``record_conversations``: as an
        import of the day's spreadsheet); a refused one is counted and the rest recorded after it."""
        moment = datetime.combine(held_on, clock(16, 0), tzinfo=AMSTERDAM)
        while cmds:
            done = conversations.record_conversations(services, cmds, moment, "bench:functionaris")
            counts.update(r.kind.value for r in done.recorded)
            if done.refused is None:
                return
            index, exc = done.refused
            if not isinstance(exc, (TrajectoryError, conversations.ConversationConflictError,
                                    conversations.ConversationInFutureError)):
                raise exc
            counts["refused"] += 1
            if counts["refused"] <= 5:
                print(f"refused: {cmds[index].agb_code} {cmds[index].kind.value} {held_on}: {exc}", file=sys.stderr)
            cmds = cmds[index + 1:]

    conversation_kinds = [k.value for k in CONVERSATION_KINDS]

    # --- the weeks -----------------------------------------------------------------------------------------
    monday = start
    weeks = 0
    slowest = (0.0, "")
    by_week: list[tuple[str, str, float]] = []
    while monday < end and (max_weeks is None or weeks < max_weeks):
        week_started = time.perf_counter()
        # imports, published five weeks after the quarter
        for q, period_end in enumerate(quarters):
            if period_end in published or period_end + lag > monday:
                continue
            t0 = time.perf_counter()
            scores = quarter_scores(q, period_end)
            phases["harness"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            imports.import_scores(services, scores, source=f"indicatoren t/m {period_end.isoformat()}",
                                  now=datetime.combine(monday, clock(5, 0), tzinfo=AMSTERDAM), actor="bench:import")
            phases["imports"] += time.perf_counter() - t0
            counts["imports"] += 1
            published.add(period_end)
        # the weekly duties
        for name, at, run in (("sweep_due", clock(6, 0), functools.partial(sweep.sweep_due, workers=workers)),
                               ("plan_meetings", clock(6, 15), planning.plan_meetings),
                               ("refresh_kits", clock(6, 30), kits_and_courses.refresh_kits),
                               ("board_digest", clock(7, 0), digest.board_digest)):
            t0 = time.perf_counter()
            run(services, datetime.combine(monday, at, tzinfo=AMSTERDAM))
            elapsed = time.perf_counter() - t0
            per_duty[name] += elapsed
            by_week.append((monday.isoformat(), name, elapsed))
            phases["sweeps"] += elapsed
        # this week's conversations, as officers hold them
        t0 = time.perf_counter()
        sunday = monday + timedelta(days=6)
        with services.session() as s:
            due = s.exec(select(ObligationRow.key, ObligationRow.agb_code, ObligationRow.kind,
                                ObligationRow.planned_on).where(
                col(ObligationRow.status) == ObligationStatus.OPEN.value,
                col(ObligationRow.kind).in_(conversation_kinds),
                col(ObligationRow.planned_on) <= sunday)).all()
        for key, agb, kind, planned_on in sorted(due, key=lambda r: r[0]):
            if key in handled or agb is None or planned_on is None:
                continue
            handled.add(key)
            held_on = planned_on
            if kind == "annual_conversation" and rng.random() < 0.05:
                held_on = services.calendar.on_or_after(planned_on + timedelta(days=21))
                counts["late"] += 1
            pending.append((held_on, agb, kind, key))
        pending.sort()
        by_day: dict[date, list[RecordConversation]] = {}
        while pending and pending[0][0] <= sunday:
            held_on, agb, kind, _ = pending.pop(0)
            day = max(held_on, monday)
            by_day.setdefault(day, []).append(command(day, agb, kind))
        for day, cmds in sorted(by_day.items()):
            hold(day, cmds)
        phases["conversations"] += time.perf_counter() - t0
        week = time.perf_counter() - week_started
        if week > slowest[0]:
            slowest = (week, monday.isoformat())
        monday += timedelta(days=7)
        weeks += 1

    total = time.perf_counter() - started_all
    peak, hwm = _peak_mb()
    if weeks_csv is not None:
        weeks_csv.write_text("monday,duty,seconds\n" + "".join(f"{m},{d},{t:.4f}\n" for m, d, t in by_week))

    # --- counts --------------------------------------------------------------------------------------------
    def grouped(sql: str) -> dict[str, int]:
        with services.db.connect() as c:
            return {str(k): int(n) for k, n in c.execute(sa.text(sql)).all()}

    def scalar(sql: str) -> int:
        with services.db.connect() as c:
            return int(c.execute(sa.text(sql)).scalar_one())

    by_trigger = grouped("SELECT trigger, count(*) FROM trajectory_event GROUP BY trigger")
    result_counts = {
        "conversations": scalar("SELECT count(*) FROM conversation"),
        "conversations_by_kind": grouped("SELECT kind, count(*) FROM conversation GROUP BY kind"),
        "refused": counts["refused"], "late": counts["late"], "imports": counts["imports"],
        "scores": scalar("SELECT count(*) FROM indicator_score"),
        "obligations": scalar("SELECT count(*) FROM obligation"),
        "obligations_by_status": grouped("SELECT status, count(*) FROM obligation GROUP BY status"),
        "obligations_by_kind": grouped("SELECT kind, count(*) FROM obligation GROUP BY kind"),
        "obligation_changes": scalar("SELECT count(*) FROM obligation_change"),
        "outbox": scalar("SELECT count(*) FROM outbox"),
        "outbox_by_kind": grouped("SELECT kind, count(*) FROM outbox GROUP BY kind"),
        "transitions": sum(by_trigger.values()),
        "transitions_by_trigger": by_trigger,
        "escalations": by_trigger.get("escalate", 0),
        "underperformers": sum(1 for v in profile.values() if v == "underperformer"),
        "states": grouped("SELECT state, count(*) FROM trajectory GROUP BY state"),
        "duty_runs": scalar("SELECT count(*) FROM duty_run"),
    }
    # the floor of the same work on this machine, now (benchmarks/floor.py): of SQLite's file
    floor_of: dict[str, Any] | None = None
    if url is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import floor

        writes = floor.insert_floor(db, db.with_name(f"{db.stem}-floor.db"))
        moments = floor.import_moments(db)
        floor_of = {"writes": writes, "rules": floor.rules_floor(services, moments)}
    services.db.dispose()
    simulated_years = weeks / 52.18
    return {
        "practices": practices, "years": years, "weeks": weeks, "last_monday": (monday - timedelta(days=7)).isoformat(),
        "total_s": total, "phases": {k: phases[k] for k in ("setup", "imports", "sweeps", "conversations", "harness")},
        "duties": dict(per_duty), "slowest_week_s": slowest[0], "slowest_week": slowest[1],
        "per_practice_year_s": total / (practices * simulated_years),
        "peak_mb": peak, "vmhwm_mb": hwm, "counts": result_counts,
        "profiles": dict(Counter(profile.values())), "practices_checked": len(by_code),
        "floor": floor_of, "database": "PostgreSQL" if url else "SQLite",
    }


# --- the child: one sweep directly and as a Prefect flow, on identical copies ---------------------------


def run_prefect_comparison(db: Path, out: Path, repeat: int) -> dict[str, Any]:
    import sqlite3
    import statistics
    from datetime import datetime, timedelta
    from datetime import time as clock

    from domain.clock import AMSTERDAM
    from flows.services import duties, sweep
    from flows.services.bootstrap import open_services
    from flows.services.settings import load_settings
    from storage.database import sqlite_url

    # the moment: the Monday after the last one the cycle ran
    with sqlite3.connect(db) as c:
        last = c.execute("SELECT max(moment) FROM duty_run WHERE duty = 'sweep_due'").fetchone()[0]
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    last_day = datetime.fromisoformat(last).astimezone(AMSTERDAM).date()
    moment = datetime.combine(last_day + timedelta(days=7), clock(6, 0), tzinfo=AMSTERDAM)
    work = out / "sweep.db"

    def fresh_copy() -> Path:
        """An identical copy of the end state for each timed sweep (a sweep changes its database)."""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{work}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(db, work)
        with open(work, "rb") as f:  # read it once, so that every run starts from the page cache alike
            while f.read(1 << 24):
                pass
        os.environ["QC_DATABASE_URL"] = sqlite_url(work)
        return work

    def direct(full: bool) -> tuple[float, dict[str, Any]]:
        """As a runner calls it: settings read, services opened, the sweep, the engine disposed."""
        fresh_copy()
        t0 = time.perf_counter()
        services = open_services(load_settings())
        report = sweep.sweep_due(services, moment, full=full)
        services.db.dispose()
        return time.perf_counter() - t0, report.summary()

    # Prefect: imported here (about 1.2 s), then one no-op flow so that the client and its connection pool
    # are warm; each timed flow run then costs what a scheduled run costs in a long-lived process.
    from prefect import flow, get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows.runners.prefect_flows import sweep_due_flow

    @flow(name="bench-warmup")
    def warmup() -> int:
        return 1

    t0 = time.perf_counter()
    warmup()
    warmup_s = time.perf_counter() - t0

    def as_flow(full: bool, heartbeats: bool) -> tuple[float, dict[str, Any], dict[str, Any]]:
        fresh_copy()
        if heartbeats:
            t0 = time.perf_counter()
            state = sweep_due_flow(now=moment, full=full, return_state=True)
        else:
            with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                t0 = time.perf_counter()
                state = sweep_due_flow(now=moment, full=full, return_state=True)
        wall = time.perf_counter() - t0
        flow_run_id = state.state_details.flow_run_id
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        by_name: dict[str, int] = {}
        for run in runs:
            base = run.name.split(" ")[0] if run.name else "?"
            by_name[base] = by_name.get(base, 0) + 1
        return wall, state.result(), {"task_runs": len(runs), "task_runs_by_name": by_name,
                                      "state": state.type.value}

    # interleaved, so that a slower minute of the shared machine falls on every variant alike
    variants = ("direct_full", "flow_full_off", "flow_full_on", "direct_ordinary", "flow_ordinary_off")
    times: dict[str, list[float]] = {v: [] for v in variants}
    summaries: dict[str, dict[str, Any]] = {}
    tasks: dict[str, dict[str, Any]] = {}
    same = True
    for _ in range(repeat):
        for v in variants:
            full = "full" in v
            if v.startswith("direct"):
                wall, summary = direct(full)
            else:
                wall, summary, tasks[v] = as_flow(full, heartbeats=v.endswith("_on"))
            times[v].append(wall)
            reference = summaries.setdefault("full" if full else "ordinary", summary)
            same = same and summary == reference
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)

    def describe(summary: dict[str, Any]) -> str:
        return (f"{summary['practices']} practices reviewed, planned {summary['planned']}, done {summary['done']}, "
                f"transitions {summary['transitions']}, messages {summary['messages']}")

    return {
        "moment": moment.isoformat(), "batch_size": duties.DEFAULT_BATCH, "repeat": repeat, "warmup_s": warmup_s,
        "times": times, "median": {v: statistics.median(t) for v, t in times.items()},
        "best": {v: min(t) for v, t in times.items()}, "tasks": tasks, "same_work": same,
        "full": describe(summaries["full"]), "ordinary": describe(summaries["ordinary"]),
    }


if __name__ == "__main__":
    main()
