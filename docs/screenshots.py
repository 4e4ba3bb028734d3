"""Reproduce the Prefect screenshots of ``docs/prefect.md``.

    .venv/bin/python docs/screenshots.py            # writes docs/prefect-*.png
    .venv/bin/python docs/screenshots.py --keep     # ... and leaves server and serve running to look around

What it does, in a temporary folder: builds a small care group (six practices, officers, a board; De Linde's
HbA1c figures far below target), starts ``prefect server start`` on a free loopback port (telemetry off) and
``qualitycycle serve`` against it. Then, as the scheduler does (runs of the deployments in state Scheduled,
without parameters): ``sweep-due`` on Monday 9 December 2024 06:00 and ``dispatch-outbox`` at 07:00; then
corrected figures arrive for De Brug, whose stored state was restored from an older backup than its events,
and the sweep of Tuesday 10 December fails for that one practice. Headless Chromium screenshots (of the UI
at ``/v2``): the deployments page, the scheduled sweep's run and its summary, the dispatch's summary, the
failed run and its summary.

Needs Chromium (Debian: ``apt-get install -y chromium``; or set ``CHROMIUM=/path/to/chrome``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from flows.testing.polling import poll
from storage.database import sqlite_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NAMES = ["De Linde", "De Eik", "Het Anker", "De Brug", "Zuiderpoort", "De Wilgen"]
FIRST = ["A.", "C.", "D.", "E.", "F.", "G."]
LAST = ["Bakker", "Mulder", "de Groot", "Bos", "Vos", "Peters"]
MIN_PNG_BYTES = 60_000


def care_group(database: Path) -> None:
    """Six practices started in January 2024; De Linde's HbA1c checks fall far below target in Q3."""
    from flows.services.context import Services
    from flows.testing.scenario import Scenario

    services = Services.open(sqlite_url(database))
    try:
        sc = Scenario.build(services, {
            "care_group": "Zorggroep Voorbeeld",
            "officers": ["A. Jansen <a.jansen@zorggroep.example>", "P. de Boer <p.deboer@zorggroep.example>"],
            "board": ["B. de Vries <bestuur@zorggroep.example>"],
            "practices": PRACTICES}, start="2024-01-01")
        for day, agb in enumerate(PRACTICES, start=15):
            sc.conversation(agb, "start", f"2024-01-{day}")
        sc.scores("2024-09-30", {agb: {**GOOD, "dm2/hba1c_measured": 61} if agb == LINDE else GOOD
                                 for agb in PRACTICES})
    finally:
        services.db.dispose()


def broken_practice(database: Path) -> None:
    """Corrected figures for De Brug arrive, and its stored state lags its events by one step (restored from an
    older backup): the next sweep cannot move it and says so."""
    import sqlalchemy as sa

    from domain.clock import AMSTERDAM, FixedClock
    from flows.services.context import Services
    from flows.testing.scenario import Scenario

    services = Services.open(sqlite_url(database), upgrade=False)
    try:
        sc = Scenario(services, FixedClock(datetime(2024, 12, 9, 12, 0, tzinfo=AMSTERDAM)))
        sc.scores("2024-09-30", {BRUG: {**GOOD, "dm2/hba1c_measured": 58}})
        with services.transaction() as s:
            s.connection().execute(sa.text("UPDATE trajectory SET version = version - 1 WHERE agb_code = :a"),
                                   {"a": BRUG})
    finally:
        services.db.dispose()


def _practices() -> dict[str, Any]:
    practices: dict[str, Any] = {}
    for i, name in enumerate(NAMES):
        def person(n: int, i: int = i) -> str:
            who = f"{FIRST[(i + n) % 6]} {LAST[(2 * i + n) % 6]}"
            return f"{who} <{who.split()[-1].lower()}.{n}@praktijk{i + 1}.example>"

        practices[f"0100{i + 1:04d}"] = {
            "name": f"Huisartsenpraktijk {name}", "gp_group": ["HAGRO-NOORD", "HAGRO-ZUID"][i % 2],
            "programmes": {"dm2": "2023-01-01", "cvrm": "2023-01-01"},
            "people": {"gp_principal": person(1), "poh_chronic": person(2), "practice_manager": person(3)}}
    return practices


PRACTICES = _practices()
LINDE, BRUG = "01000001", "01000004"
GOOD = {"dm2/hba1c_measured": 94, "dm2/bp_measured": 93, "cvrm/bp_measured": 90}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait(what: str, probe: Any, timeout: float, procs: list[subprocess.Popen[bytes]]) -> Any:
    def alive() -> None:
        for proc in procs:
            if proc.poll() is not None:
                raise SystemExit(f"{what}: {proc.args!r} exited with {proc.returncode}")

    found = poll(probe, timeout, before_each=alive)
    if not found:
        raise SystemExit(f"{what}: not within {timeout:.0f} s")
    return found


def screenshot(chromium: str, url: str, target: Path, budget_ms: int, height: int = 1000) -> None:
    """One headless Chromium screenshot; once more with twice the time when the page looks empty."""
    for budget in (budget_ms, 2 * budget_ms):
        with tempfile.TemporaryDirectory(prefix="qc-chromium-") as profile:
            subprocess.run([
                chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size=1600,{height}",
                f"--screenshot={target}", f"--virtual-time-budget={budget}", url,
            ], check=True, capture_output=True, timeout=180)
        if target.stat().st_size > MIN_PNG_BYTES:  # a page still loading is a nearly empty, small PNG
            break
    print(f"{target}: {url} ({target.stat().st_size // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNG files")
    parser.add_argument("--budget", type=int, default=15000, help="Chromium's virtual time budget in ms")
    parser.add_argument("--keep", action="store_true", help="leave the server and serve running (Ctrl-C ends)")
    args = parser.parse_args()
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium not found: apt-get install -y chromium, or set CHROMIUM")

    work = Path(tempfile.mkdtemp(prefix="qc-screenshots-"))
    home = work / "var"
    home.mkdir()
    care_group(home / "qualitycycle.db")
    port = free_port()
    ui, api = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "QC_"))}
    env |= {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with (work / "server.log").open("wb") as log:
            procs.append(subprocess.Popen(
                [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                # the UI asks the browser to call PREFECT_UI_API_URL; without it, port 4200 whatever --port says
                env={**env, "PREFECT_HOME": str(work / "server"), "PREFECT_UI_API_URL": api}, cwd=work, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True))
        wait("server healthy", lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, 90, procs)
        with (work / "serve.log").open("wb") as log:
            procs.append(subprocess.Popen(
                [str(BIN / "qualitycycle"), "serve"],
                env={**env, "PREFECT_HOME": str(work / "serve"), "PREFECT_API_URL": api, "QC_HOME": str(home),
                     "PREFECT_RUNNER_POLL_FREQUENCY": "2"},
                cwd=work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

        from prefect import get_client
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
        from prefect.settings import PREFECT_API_URL, temporary_settings
        from prefect.states import Scheduled

        from domain.clock import AMSTERDAM

        def scheduled(name: str, when: datetime) -> Any:
            """A run as the scheduler makes it (no parameters), for a moment in the past: it starts at once."""
            with get_client(sync_client=True) as client:
                deployment = client.read_deployment_by_name(f"{name}/{name}")
                run = client.create_flow_run_from_deployment(deployment.id, state=Scheduled(scheduled_time=when))

            def final() -> Any:
                with get_client(sync_client=True) as client:
                    found = client.read_flow_run(run.id)
                return found if found.state is not None and found.state.is_final() else None

            return wait(f"{name} {when}", final, 120, procs)

        def artifact(run: Any, kind: str) -> Any:
            with get_client(sync_client=True) as client:
                found = client.read_artifacts(artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
            return next(a for a in found if a.type == kind)

        with temporary_settings(updates={PREFECT_API_URL: api}):
            def registered() -> bool:
                with get_client(sync_client=True) as client:
                    return len(client.read_deployments()) == 6

            wait("six deployments", registered, 60, procs)
            sweep = scheduled("sweep-due", datetime(2024, 12, 9, 6, 0, tzinfo=AMSTERDAM))
            dispatch = scheduled("dispatch-outbox", datetime(2024, 12, 9, 7, 0, tzinfo=AMSTERDAM))
            broken_practice(home / "qualitycycle.db")
            failed = scheduled("sweep-due", datetime(2024, 12, 10, 6, 0, tzinfo=AMSTERDAM))
            if not (sweep.state.is_completed() and dispatch.state.is_completed() and failed.state.is_failed()):
                raise SystemExit(f"unexpected states: {sweep.state}, {dispatch.state}, {failed.state}")
            shots = {  # file: (page, window height: the summaries' tables of what the run did need room)
                "prefect-sweep-run.png": (f"/v2/runs/flow-run/{sweep.id}?tab=Artifacts", 1000),
                "prefect-sweep-summary.png": (f"/v2/artifacts/artifact/{artifact(sweep, 'markdown').id}", 2000),
                "prefect-artifact.png": (f"/v2/artifacts/artifact/{artifact(sweep, 'table').id}", 1000),
                "prefect-dispatch-summary.png": (f"/v2/artifacts/artifact/{artifact(dispatch, 'markdown').id}", 1500),
                "prefect-failed-run.png": (f"/v2/runs/flow-run/{failed.id}?tab=Logs", 1150),
                "prefect-failed-summary.png": (f"/v2/artifacts/artifact/{artifact(failed, 'markdown').id}", 1300),
            }

        # Prefect 3.9 serves two UIs: the default one at / and the newer one at /v2, whose flow-run page
        # opens the tab named in the URL (the default UI falls back to its Logs tab)
        args.out.mkdir(parents=True, exist_ok=True)
        screenshot(chromium, f"{ui}/v2/deployments", args.out / "prefect-deployments.png", args.budget)
        for name, (path, height) in shots.items():
            screenshot(chromium, f"{ui}{path}", args.out / name, args.budget, height)
        if args.keep:
            print(f"Prefect UI: {ui} (Ctrl-C ends)")
            signal.pause()
    except KeyboardInterrupt:
        pass
    except BaseException:
        for name in ("server.log", "serve.log"):
            if (work / name).exists():
                print(f"----- {name} -----\n{(work / name).read_text(errors='replace')[-4000:]}", file=sys.stderr)
        raise
    finally:
        for proc in reversed(procs):  # serve first, then the server
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
