"""The quality cycle driven through the command line, as a care group that scripts the product drives it (issue 16,
"the CLI path"): ``init``, ``load-registry``, then every quarter ``import-indicators`` of its figures and
``run --now`` for that moment, each a fresh ``qualitycycle`` process on one SQLite file.

The care group: ``practices`` practices in GP groups of ten, each in dm2 and COPD (their eight main process
indicators), with a practice-holding GP, a POH chronic care and a practice manager; every quarter's figures (12-month
periods ending 2023-12-31 up to twelve quarters on) published five weeks after the quarter ends, imported at 05:00
and run at 06:00 that day. 3% of practices fall far below target on HbA1c from their fifth quarter (so the run
flags them). Messages go to ``QC_HOME/outbox`` as files (no SMTP server set): ``run`` dispatches them, as a care
group's schedule does.

Reported: the seconds of every command, per kind of command and in all, and the process start-up (``qualitycycle
--help``) for comparison.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

INDICATORS = {"dm2": ("hba1c_measured", "bp_measured", "ldl_measured", "egfr_measured", "foot_exam"),
              "copd": ("smoking_recorded", "burden_measured", "inhaler_checked")}


def _quarter_ends(first: date, count: int) -> list[date]:
    ends, year, month = [], first.year, first.month
    for _ in range(count):
        ends.append(date(year, month, 31 if month in (3, 12) else 30))
        month += 3
        if month > 12:
            year, month = year + 1, month - 12
    return ends


def write_inputs(folder: Path, practices: int, quarters: int, seed: int) -> tuple[Path, list[tuple[date, Path]]]:
    """The registry (YAML) and one CSV of figures per quarter."""
    rng = random.Random(seed)
    codes = [f"01{i:06d}" for i in range(1, practices + 1)]
    lines = ["care_group: {name: Zorggroep Benchmark, email: kwaliteit@zorggroep.example}", "officers:"]
    lines += [f"  - {{name: Functionaris {k}, email: functionaris{k}@zorggroep.example}}" for k in range(1, 5)]
    lines += ["board:", "  - {name: B. de Vries, email: bestuur@zorggroep.example}", "gp_groups:"]
    lines += [f"  - {{code: HAGRO-{g:04d}, name: Hagro {g}}}" for g in range(1, (practices + 9) // 10 + 1)]
    lines.append("practices:")
    for i, agb in enumerate(codes):
        domain = f"praktijk{i + 1}.example"
        lines += [f'  - agb_code: "{agb}"', f"    name: Huisartsenpraktijk {i + 1}",
                  f"    gp_group: HAGRO-{i // 10 + 1:04d}", f"    email: info@{domain}",
                  "    programmes: {dm2: 2024-01-01, copd: 2024-01-01}", "    people:",
                  f"      - {{name: Huisarts {i + 1}, role: gp_principal, email: huisarts@{domain}}}",
                  f"      - {{name: POH-S {i + 1}, role: poh_chronic, email: poh.s@{domain}}}",
                  f"      - {{name: Praktijkmanager {i + 1}, role: practice_manager, email: pm@{domain}}}"]
    registry = folder / "registry.yaml"
    registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    falling = {agb for agb in codes if rng.random() < 0.03}
    size = {agb: rng.lognormvariate(0.0, 0.35) for agb in codes}
    files = []
    for q, period_end in enumerate(_quarter_ends(date(2023, 12, 31), quarters)):
        path = folder / f"indicatoren-{period_end.isoformat()}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["agb_code", "programme", "indicator", "period_end", "numerator", "denominator"])
            for agb in codes:
                for programme, indicators in INDICATORS.items():
                    denominator = max(5, round((240 if programme == "dm2" else 80) * size[agb]))
                    for indicator in indicators:
                        share = (0.55 if agb in falling and q >= 4 and indicator == "hba1c_measured"
                                 else rng.uniform(0.86, 0.97))
                        out.writerow([agb, programme, indicator, period_end.isoformat(),
                                      round(share * denominator), denominator])
        files.append((period_end, path))
    return registry, files


def run_cli_path(practices: int, quarters: int, out: Path, seed: int) -> dict[str, Any]:
    folder = (out / f"cli-{practices}").resolve()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    registry, files = write_inputs(folder, practices, quarters, seed)
    generate_s = time.perf_counter() - started
    qualitycycle = str(Path(sys.executable).parent / "qualitycycle")
    env = {**os.environ, "QC_HOME": str(folder / "home"),
           "QC_DATABASE_URL": f"sqlite:///{(folder / 'qualitycycle.db').resolve()}"}
    env.pop("QC_POSTGRES_URL", None)
    timings: list[tuple[str, str, float]] = []

    def command(kind: str, *args: str) -> None:
        t0 = time.perf_counter()
        done = subprocess.run([qualitycycle, *args], env=env, cwd=folder, capture_output=True,
                              text=True)
        elapsed = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"qualitycycle {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        timings.append((kind, " ".join(args), elapsed))

    command("startup", "--help")
    command("init", "init")
    command("load-registry", "load-registry", str(registry))
    for period_end, path in files:
        day = period_end + timedelta(days=35)
        command("import-indicators", "import-indicators", str(path), "--now", f"{day.isoformat()}T05:00")
        command("run", "run", "--now", f"{day.isoformat()}T06:00")
    by_kind: dict[str, float] = defaultdict(float)
    for kind, _, elapsed in timings:
        by_kind[kind] += elapsed
    total = sum(elapsed for kind, _, elapsed in timings if kind != "startup")
    rows = len(files[0][1].read_text(encoding="utf-8").splitlines()) - 1
    outbox = folder / "home" / "outbox"
    sent = sum(1 for _ in outbox.rglob("*.eml")) if outbox.exists() else 0
    shutil.rmtree(folder, ignore_errors=True)
    return {"practices": practices, "quarters": quarters, "rows_per_quarter": rows, "generate_s": generate_s,
            "total_s": total, "by_kind": dict(by_kind), "commands": len(timings) - 1,
            "slowest": sorted(timings, key=lambda t: -t[2])[:3], "messages_sent": sent}


def print_cli_path(r: dict[str, Any]) -> None:
    print()
    print(f"Through the CLI: {r['practices']:,} practices x 8 indicators x {r['quarters']} quarters "
          f"({r['rows_per_quarter']:,} rows a quarter), {r['commands']} commands, each a fresh process "
          f"(inputs written in {r['generate_s']:.1f} s, not counted)")
    kinds = r["by_kind"]
    print(f"  total {r['total_s']:.1f} s: " + ", ".join(
        f"{k} {v:.1f} s" for k, v in kinds.items() if k != "startup")
        + f"; one process start-up (qualitycycle --help) {kinds['startup']:.2f} s")
    print("  slowest: " + "; ".join(f"{args} {s:.1f} s" for _, args, s in r["slowest"]))
    print(f"  messages written to the outbox folder: {r['messages_sent']:,}")
