"""Benchmark of the workspace's pages (issue 15: under 300 ms for a care group of 500 practices with three years of
history).

The care group is the one ``bench_cycle.py`` drives (500 practices, three years, its database kept with ``--keep``):

    .venv/bin/python benchmarks/bench_cycle.py --practices 500 --years 3 --keep    # about 70 s
    .venv/bin/python benchmarks/bench_workspace.py [--db var/bench/cycle/cycle-500.db] [--repeat 10]

A copy of that database gets an officer's, the board's and a practice's account; the application is served
in-process (``fastapi.testclient``: the request through the whole ASGI stack, sessions and access checks included,
without a network hop) with its clock at the end of the three years. Each page is asked once to warm up, then
``--repeat`` times; reported: median, 95th percentile and maximum in milliseconds, and the size of the answer.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_MS = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "bench" / "cycle" / "cycle-500.db")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    if not args.db.exists():
        sys.exit(f"{args.db} ontbreekt: draai eerst benchmarks/bench_cycle.py --practices 500 --years 3 --keep")

    from fastapi.testclient import TestClient

    from domain.accounts import AccountRole
    from domain.clock import AMSTERDAM
    from flows.services import accounts, queries
    from flows.services.context import Services
    from flows.services.settings import Settings
    from flows.web.app import create_app
    from storage.database import sqlite_url

    moment = datetime(2026, 12, 31, 17, 0, tzinfo=AMSTERDAM)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "workspace.db"
        shutil.copy(args.db, db)
        services = Services.open(sqlite_url(db))
        lines = queries.status(services)
        under = next(x for x in lines if x.state.value == "underperformer_policy")
        group = under.gp_group or ""
        password = "benchmark-wachtwoord"
        for login, role, agb in (("officer", AccountRole.OFFICER, None), ("board", AccountRole.BOARD, None),
                                 ("practice", AccountRole.PRACTICE, under.agb_code)):
            accounts.add_user(services, login, role, password, moment, "bench", agb_code=agb)
        app = create_app(services, Settings(home=Path(folder), web_failed_login_delay=0), lambda: moment)
        pages = [("officer", "/overview"), ("officer", f"/practices/{under.agb_code}"),
                 ("officer", f"/practices/{under.agb_code}/chart.svg"),
                 ("officer", f"/practices/{under.agb_code}/conversation"), ("officer", f"/gp-groups/{group}"),
                 ("officer", "/runs"), ("board", "/board"), ("practice", f"/practices/{under.agb_code}"),
                 ("officer", "/api/practices"), ("officer", f"/api/practices/{under.agb_code}"),
                 ("officer", f"/practices/{under.agb_code}/pack.pdf"),
                 ("officer", f"/practices/{under.agb_code}/indicators.xlsx")]
        clients = {}
        for role in ("officer", "board", "practice"):
            client = TestClient(app, follow_redirects=False)
            token = client.get("/login").cookies.get("qc_login_csrf")
            assert client.post("/login", data={"username": role, "password": password,
                                               "login_token": token}).status_code == 303
            clients[role] = client
        print(f"{len(lines)} practices; {sum(1 for x in lines if x.state.value == 'underperformer_policy')} under "
              f"the policy; {len(queries.history(services, under.agb_code))} events of {under.agb_code}; "
              f"{args.repeat} requests per page after one to warm up")
        print(f"{'page':58} {'as':9} {'median':>8} {'p95':>8} {'max':>8} {'bytes':>9}")
        worst = 0.0
        for role, url in pages:
            client = clients[role]
            first = client.get(url)
            assert first.status_code == 200, (url, first.status_code)
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                answer = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            if not url.endswith((".pdf", ".xlsx")):
                worst = max(worst, times[-1])
            print(f"{url:58} {role:9} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f} "
                  f"{len(first.content):9,}")
        print(f"slowest page (downloads aside): {worst:.1f} ms; goal {GOAL_MS:.0f} ms: "
              + ("met" if worst < GOAL_MS else "NOT met"))
        services.db.dispose()


if __name__ == "__main__":
    main()
