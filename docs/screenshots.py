"""Reproduce the Prefect screenshots of ``docs/prefect.md``.

    .venv/bin/python docs/screenshots.py            # writes docs/prefect-*.png
    .venv/bin/python docs/screenshots.py --keep     # ... and leaves server and serve running to look around

What it does, in a temporary folder: builds a small care group (six practices, officers, a board; one
practice's HbA1c figures far below target), starts ``prefect server start`` on a free loopback port
(telemetry off) and ``qualitycycle serve`` against it, triggers ``sweep-due`` and ``plan-meetings`` for
Monday 9 December 2024 and waits until both completed, then takes headless Chromium screenshots (of the
UI at ``/v2``) of the deployments page, the sweep's flow-run page on its Artifacts tab, and its table.

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
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NAMES = ["De Linde", "De Eik", "Het Anker", "De Brug", "Zuiderpoort", "De Wilgen"]
FIRST = ["A.", "C.", "D.", "E.", "F.", "G."]
LAST = ["Bakker", "Mulder", "de Groot", "Bos", "Vos", "Peters"]
MONDAY = "2024-12-09"
MIN_PNG_BYTES = 60_000


def care_group(database: Path) -> None:
    """Six practices started in January 2024; De Linde's HbA1c checks fall far below target in Q3."""
    from flows.engine import Services
    from flows.scenario import Scenario
    from storage.database import sqlite_url

    practices: dict[str, Any] = {}
    for i, name in enumerate(NAMES):
        def person(n: int, i: int = i) -> str:
            who = f"{FIRST[(i + n) % 6]} {LAST[(2 * i + n) % 6]}"
            return f"{who} <{who.split()[-1].lower()}.{n}@praktijk{i + 1}.example>"

        practices[f"0100{i + 1:04d}"] = {
            "name": f"Huisartsenpraktijk {name}", "gp_group": ["HAGRO-NOORD", "HAGRO-ZUID"][i % 2],
            "programmes": {"dm2": "2023-01-01", "cvrm": "2023-01-01"},
            "people": {"gp_principal": person(1), "poh_chronic": person(2), "practice_manager": person(3)}}
    services = Services.open(sqlite_url(database))
    try:
        sc = Scenario.build(services, {
            "care_group": "Zorggroep Voorbeeld",
            "officers": ["A. Jansen <a.jansen@zorggroep.example>", "P. de Boer <p.deboer@zorggroep.example>"],
            "board": ["B. de Vries <bestuur@zorggroep.example>"],
            "practices": practices}, start="2024-01-01")
        for day, agb in enumerate(practices, start=15):
            sc.conversation(agb, "start", f"2024-01-{day}")
        good = {"dm2/hba1c_measured": 94, "dm2/bp_measured": 93, "cvrm/bp_measured": 90}
        sc.scores("2024-09-30", {agb: {**good, "dm2/hba1c_measured": 61} if agb == "01000001" else good
                                 for agb in practices})
    finally:
        services.db.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait(what: str, probe: Any, timeout: float, procs: list[subprocess.Popen[bytes]]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise SystemExit(f"{what}: {proc.args!r} exited with {proc.returncode}")
        try:
            found = probe()
        except (httpx.HTTPError, OSError):
            found = None
        if found:
            return found
        time.sleep(0.5)
    raise SystemExit(f"{what}: not within {timeout:.0f} s")


def screenshot(chromium: str, url: str, target: Path, budget_ms: int) -> None:
    """One headless Chromium screenshot; once more with twice the time when the page looks empty."""
    for budget in (budget_ms, 2 * budget_ms):
        with tempfile.TemporaryDirectory(prefix="qc-chromium-") as profile:
            subprocess.run([
                chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", f"--user-data-dir={profile}", "--window-size=1600,1000",
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
        from prefect.deployments import run_deployment
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: api}):
            def registered() -> bool:
                with get_client(sync_client=True) as client:
                    return len(client.read_deployments()) == 6

            wait("six deployments", registered, 60, procs)
            runs = {}
            for name, at in (("plan-meetings", f"{MONDAY}T06:15:00+01:00"), ("sweep-due", f"{MONDAY}T06:00:00+01:00")):
                run: Any = run_deployment(name=f"{name}/{name}", parameters={"now": at}, timeout=120, poll_interval=1)
                if not run.state.is_completed():
                    raise SystemExit(f"{name}: {run.state}")
                runs[name] = run
            with get_client(sync_client=True) as client:
                artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[runs["sweep-due"].id])))
            table = next(a for a in artifacts if a.type == "table")

        # Prefect 3.9 serves two UIs: the default one at / and the newer one at /v2, whose flow-run page
        # opens the tab named in the URL (the default UI falls back to its Logs tab)
        args.out.mkdir(parents=True, exist_ok=True)
        screenshot(chromium, f"{ui}/v2/deployments", args.out / "prefect-deployments.png", args.budget)
        screenshot(chromium, f"{ui}/v2/runs/flow-run/{runs['sweep-due'].id}?tab=Artifacts",
                   args.out / "prefect-flow-run.png", args.budget)
        screenshot(chromium, f"{ui}/v2/artifacts/artifact/{table.id}", args.out / "prefect-artifact.png", args.budget)
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
