"""Benchmark of ``qualitycycle policy what-if`` (issue #16): a stricter threshold tried on a care group of 500 practices
after three years, twelve months ahead, through the CLI as a board's officer runs it.

The care group is the end state of ``bench_cycle.py --practices 500 --years 3 --keep`` (``var/bench/cycle/
cycle-500.db``). Each repetition works on a fresh copy of it in a temporary ``QC_HOME``: first the sweep of the next
Monday (``run --now 2027-01-04T06:00 --only sweep-due``: the benchmark's weekly schedule leaves the last days of the
cycle unswept, the daily schedule of a real care group does not), then, timed, ``policy what-if`` of a proposal with
``deviation_share_of_target: 0.15`` for 12 months from ``2027-01-04T07:00``. Reported: the wall time of each
what-if (a fresh process each, start-up included), its peak memory (``ru_maxrss`` of the children) and what it
found (the practices that differ), which must be the same every time.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_cycle.py --practices 500 --years 3 --keep   # once
    .venv/bin/python benchmarks/bench_whatif.py [--repeat 3] [--months 12]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "var" / "bench" / "cycle" / "cycle-500.db"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--source", type=Path, default=SOURCE)
    args = parser.parse_args()
    if not args.source.exists():
        raise SystemExit(f"{args.source} is missing: run benchmarks/bench_cycle.py --practices 500 --years 3 --keep")
    cli = Path(sys.executable).parent / "qualitycycle"
    times, found = [], set()
    for _ in range(args.repeat):
        home = Path(tempfile.mkdtemp(prefix="bench-what-if-"))
        try:
            shutil.copy(args.source, home / "care-group.db")
            env = {**os.environ, "QC_HOME": str(home), "QC_DATABASE_URL": f"sqlite:///{home / 'care-group.db'}"}
            (home / "strenger.yaml").write_text("deviation_share_of_target: 0.15\n")
            subprocess.run([str(cli), "run", "--now", "2027-01-04T06:00", "--only", "sweep-due"], env=env, check=True,
                           stdout=subprocess.DEVNULL, cwd=home)
            started = time.perf_counter()
            done = subprocess.run([str(cli), "policy", "what-if", "strenger.yaml", "--months", str(args.months),
                                   "--now", "2027-01-04T07:00"], env=env, cwd=home, text=True,
                                  capture_output=True)
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"what-if failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
            practices = re.findall(r"^(\d{8}) ", done.stdout, flags=re.MULTILINE)
            found.add((len(practices), done.stdout.count("\n  - ")))
        finally:
            shutil.rmtree(home, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"policy what-if, {args.months} months, deviation_share_of_target 0.15, on {args.source.name}: "
          f"runs {', '.join(f'{t:.1f}' for t in times)} s (median {sorted(times)[len(times) // 2]:.1f} s); "
          f"peak memory of a child {peak:.0f} MB")
    print("found: " + "; ".join(f"{p} practices differ, {d} differences" for p, d in sorted(found))
          + ("" if len(found) == 1 else "  (NOT the same every run)"))


if __name__ == "__main__":
    main()
