"""The schedule on a real Prefect server, the way operations staff run it.

1. ``prefect server start`` and ``qualitycycle serve`` as subprocesses: the six declared duties appear as
   deployments with ``Cron`` schedules in Europe/Amsterdam, the server plans their runs at Amsterdam clock
   time, and a triggered ``sweep-due`` completes and carries its Dutch artifacts.
2. Scaling out (only when ``QC_POSTGRES_URL`` is set): a PostgreSQL-backed Prefect server, a ``process``
   work pool, ``qualitycycle deploy --pool`` and two ``prefect worker start`` processes sharing several
   runs on a product database on PostgreSQL: every run completes, both workers take part, nothing is
   queued twice.

Every subprocess runs in a session of its own and its whole process group is ended in a ``finally``; each
writes its output to a log file in ``tmp_path`` that a failing assertion shows. Telemetry is off
(``DO_NOT_TRACK``, ``PREFECT_SERVER_ANALYTICS_ENABLED``); ``PREFECT_HOME`` is a temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa

from domain.clock import AMSTERDAM, FixedClock
from flows.runners import prefect_flows as orchestration
from flows.schedule import SCHEDULE
from flows.services import queries
from flows.services.context import Services
from flows.services.queries import replay_practice
from flows.testing.polling import poll
from flows.testing.scenario import Scenario
from storage.database import normalise_url, sqlite_url
from tests.prefect_care_group import DESCRIPTION, EIK, LINDE

BIN = Path(sys.executable).parent
POSTGRES_URL = os.environ.get("QC_POSTGRES_URL")
T = TypeVar("T")
STOP_TIMEOUT = 10  # seconds a process gets to end on SIGTERM


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any PREFECT_ or QC_ variable, plus telemetry off and ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "QC_")) and k != "PYTEST_XDIST_WORKER"}
    return {**env, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **extra}


class Processes:
    """Subprocesses started by one test, each in a process group of its own, with a log file each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
        with (self.folder / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.started.append((name, proc))
        return proc

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"----- {name} -----\n{self.log(name)[-3000:]}" for name, _ in self.started)

    def check_alive(self) -> None:
        for name, proc in self.started:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}\n{self.logs()}")

    def stop_all(self) -> None:
        """End every process group started here, last started first (the server last): TERM, then KILL."""
        for name, proc in reversed(self.started):
            began = time.monotonic()
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)  # the leader ends its own children gracefully
                with suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=STOP_TIMEOUT)
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # also any flow-run child the group still holds
            proc.wait(timeout=10)
            print(f"{name} stopped in {time.monotonic() - began:.1f} s")


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()


def wait_for(what: str, probe: Callable[[], T | None], procs: Processes, timeout: float,
             every: float = 0.5) -> T:
    """Poll ``probe`` until it returns something truthy; fail with every log when it never does."""
    found = poll(probe, timeout, every=every, before_each=procs.check_alive)
    if not found:
        pytest.fail(f"{what}: not within {timeout:.0f} s\n{procs.logs()}")
    return found


def start_server(procs: Processes, home: Path, **settings: str) -> str:
    """``prefect server start`` on a free loopback port; its API URL once ``/api/health`` answers."""
    port = free_port()
    procs.start("server", [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                clean_env(PREFECT_HOME=str(home / "server"), **settings), cwd=home)
    api = f"http://127.0.0.1:{port}/api"

    def healthy() -> bool:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200

    wait_for("Prefect server healthy", healthy, procs, timeout=60)
    return api


def serve(procs: Processes, tmp_path: Path, home: Path, **server_settings: str) -> tuple[str, list[Any]]:
    """A server (with ``server_settings``) and ``qualitycycle serve`` on the product database in ``home``: the API
    URL and the six deployments once registered."""
    api = start_server(procs, tmp_path, **server_settings)
    procs.start("serve", [str(BIN / "qualitycycle"), "serve"],
                clean_env(PREFECT_API_URL=api, PREFECT_HOME=str(tmp_path / "serve"), QC_HOME=str(home),
                          PREFECT_RUNNER_POLL_FREQUENCY="1"), cwd=tmp_path)
    with api_settings(api):
        def all_registered() -> list[Any] | None:
            with client() as c:
                found = c.read_deployments()
            return found if len(found) == len(SCHEDULE) else None

        registered: list[Any] = wait_for("six deployments", all_registered, procs, timeout=45)
    return api, registered


def api_settings(api: str) -> AbstractContextManager[Any]:
    """This test process talks to the subprocess server, whatever else this session set up."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    return temporary_settings(updates={PREFECT_API_URL: api})


def client() -> Any:
    from prefect import get_client

    return get_client(sync_client=True)


def trigger(deployment: str, now: str, timeout: float) -> Any:
    """``run_deployment`` for moment ``now``; waits ``timeout`` seconds for the run to end (0: not at all)."""
    from prefect.deployments import run_deployment

    return run_deployment(name=deployment, parameters={"now": now}, timeout=timeout, poll_interval=1)


def artifacts_of(run_id: UUID) -> dict[str, Any]:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with client() as c:
        found = c.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
    return {a.type: a for a in found}


def run_logs(run_id: UUID) -> list[str]:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with client() as c:
        return [log.message for log in c.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))]


def table(artifact: Any) -> list[dict[str, str]]:
    return list(json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data)


def build_care_group(url: str) -> None:
    services = Services.open(url)
    try:
        sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
        sc.conversation(LINDE, "start", "2024-01-15")
        sc.conversation(EIK, "start", "2024-01-16")
    finally:
        services.db.dispose()


# --------------------------------------------------------------------------- 1. serve


def test_serve_registers_the_schedule_and_runs_triggered_duties(tmp_path: Path, processes: Processes) -> None:
    home = tmp_path / "var"
    home.mkdir()
    build_care_group(sqlite_url(home / "qualitycycle.db"))
    # the scheduler plans runs of newly registered deployments within a few seconds (its "recent" loop)
    api, registered = serve(processes, tmp_path, home)

    with api_settings(api):
        deployments = {d.name: d for d in registered}
        assert set(deployments) == {d.name for d in SCHEDULE}
        for duty in SCHEDULE:
            (schedule,) = deployments[duty.name].schedules
            assert schedule.active
            assert (schedule.schedule.cron, schedule.schedule.timezone) == (duty.cron, "Europe/Amsterdam")
            assert "qualitycycle" in deployments[duty.name].tags
            # the run's subprocess loads the flow by this entrypoint: it must name a module-level flow
            path, name = deployments[duty.name].entrypoint.rsplit(":", 1)
            assert path.endswith("flows/runners/prefect_flows.py") and getattr(orchestration, name).name == duty.name

        flow_run = trigger("sweep-due/sweep-due", "2024-12-09T06:00:00+01:00", timeout=60)
        assert flow_run.state is not None and flow_run.state.is_completed(), (flow_run.state, processes.logs())
        assert flow_run.name == "sweep-due 2024-12-09 06:00"
        artifacts = artifacts_of(flow_run.id)
        assert set(artifacts) == {"markdown", "table"}
        assert "# Openstaande taken, maandag 9 december 2024 06:00" in artifacts["markdown"].data
        assert {row["praktijk"] for row in table(artifacts["table"])} == {LINDE, EIK}
        meetings = trigger("plan-meetings/plan-meetings", "2024-12-09T06:15:00+01:00", timeout=60)
        assert meetings.state is not None and meetings.state.is_completed(), (meetings.state, processes.logs())
        assert meetings.name == "plan-meetings 2024-12-09 06:15"

        # the server itself plans the coming sweeps at 06:00 Amsterdam time on working days
        def planned_sweeps() -> list[Any] | None:
            from prefect.client.schemas.filters import (
                DeploymentFilter,
                DeploymentFilterId,
                FlowRunFilter,
                FlowRunFilterState,
                FlowRunFilterStateType,
            )
            from prefect.client.schemas.objects import StateType

            scheduled = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
            with client() as c:
                runs = c.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployments["sweep-due"].id])),
                    flow_run_filter=FlowRunFilter(state=scheduled))
            return runs or None

        upcoming = [r.expected_start_time.astimezone(AMSTERDAM)
                    for r in wait_for("scheduled sweeps", planned_sweeps, processes, timeout=20)]
        assert all((t.hour, t.minute) == (6, 0) and t.weekday() < 5 for t in upcoming), upcoming

    services = Services.open(sqlite_url(home / "qualitycycle.db"), upgrade=False)
    try:
        assert {"annual_conversation", "poh_meeting"} <= {r.kind for r in queries.obligations(services)}
        assert {m.kind for m in queries.outbox_messages(services)} == {"conversation_invitation"}
    finally:
        services.db.dispose()


# --------------------------------------------------------------------------- runs as the scheduler starts them

SUMMER = datetime(2024, 7, 1, 6, 0, tzinfo=AMSTERDAM)  # after De Linde's first-quarter figures: it is flagged
WINTER = datetime(2024, 12, 9, 6, 0, tzinfo=AMSTERDAM)  # the annual conversations' invitations are due


def build_flagged_care_group(url: str) -> None:
    """The care group of ``build_care_group`` with De Linde's HbA1c checks far below target in Q1 2024."""
    build_care_group(url)
    services = Services.open(url, upgrade=False)
    try:
        sc = Scenario(services, FixedClock(datetime(2024, 4, 5, 9, 0, tzinfo=AMSTERDAM)))
        sc.scores("2024-03-31", {LINDE: {"dm2/hba1c_measured": 55}, EIK: {"dm2/hba1c_measured": 95}})
    finally:
        services.db.dispose()


def serve_without_schedules(procs: Processes, tmp_path: Path, home: Path) -> str:
    """A server and ``qualitycycle serve`` whose deployments' own Cron schedules never start a run, so that only the
    runs a test schedules run (a real dispatch would otherwise start every quarter hour, at the wall clock's moment).
    The server's scheduler is off: switching the schedules off once registered was not enough, as its loop could
    have read them active just before and plan a run after the server deleted the planned ones (a dispatch at 16:45
    sent the test's messages in a CI run that crossed a quarter hour). They are switched off all the same."""
    api, registered = serve(procs, tmp_path, home, PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false")
    with api_settings(api):
        for deployment in registered:
            with client() as c:
                for schedule in deployment.schedules:
                    c.update_deployment_schedule(deployment.id, schedule.id, active=False)
    return api


def schedule(deployment: str, when: datetime) -> Any:
    """What the scheduler does at a fire time: a run of the deployment in state Scheduled for ``when``, with
    no parameters; a runner starts it (``when`` lies in the past, so at once)."""
    from prefect.states import Scheduled

    with client() as c:
        created = c.create_flow_run_from_deployment(c.read_deployment_by_name(deployment).id,
                                                    state=Scheduled(scheduled_time=when))
    assert created.parameters == {}
    return created


def scheduled_run(deployment: str, when: datetime, procs: Processes, timeout: float = 90) -> Any:
    """``schedule`` a run and return it once final."""
    created = schedule(deployment, when)

    def final() -> Any:
        with client() as c:
            found = c.read_flow_run(created.id)
        return found if found.state is not None and found.state.is_final() else None

    return wait_for(f"{deployment} for {when.isoformat()} final", final, procs, timeout=timeout)


def qualitycycle(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "qualitycycle"), *args], env=clean_env(QC_HOME=str(home)), cwd=home,
                          capture_output=True, text=True, timeout=60)


def test_scheduled_sweeps_and_dispatch_without_parameters_complete_send_and_replay(
        tmp_path: Path, processes: Processes) -> None:
    home = tmp_path / "var"
    home.mkdir()
    build_flagged_care_group(sqlite_url(home / "qualitycycle.db"))
    api = serve_without_schedules(processes, tmp_path, home)

    with api_settings(api):
        summer = scheduled_run("sweep-due/sweep-due", SUMMER, processes)
        winter = scheduled_run("sweep-due/sweep-due", WINTER, processes)
        dispatch = scheduled_run("dispatch-outbox/dispatch-outbox", WINTER.replace(hour=7), processes)
        for run in (summer, winter, dispatch):
            assert run.state.is_completed(), (run.name, run.state, processes.logs())
        assert [r.name for r in (summer, winter, dispatch)] == [
            "sweep-due 2024-07-01 06:00", "sweep-due 2024-12-09 06:00", "dispatch-outbox 2024-12-09 07:00"]
        summary = next(a for a in artifacts_of(dispatch.id).values() if a.type == "markdown").data
        assert summary.startswith("# Berichten versturen, maandag 9 december 2024 07:00\n\n**Gelukt.**")

    services = Services.open(sqlite_url(home / "qualitycycle.db"), upgrade=False)
    try:
        flagged = [e for e in queries.all_events(services) if e.trigger == "flag_deviation"]
        (linde,) = [line for line in queries.status(services) if line.agb_code == LINDE]
        messages = queries.outbox_messages(services)
    finally:
        services.db.dispose()
    # the step is stored at the instant the run was scheduled for, and the state since that same instant
    assert [(e.agb_code, e.at) for e in flagged] == [(LINDE, SUMMER)]
    assert linde.since == SUMMER and linde.state == "extra_conversation"
    assert messages and {(m.status, m.sent_at) for m in messages} == {("sent", WINTER.replace(hour=7))}
    assert len(list((home / "outbox").glob("*.eml"))) == len(messages)
    replayed = qualitycycle(home, "replay")
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.count("toestand komt overeen") == 2


def test_a_scheduled_run_in_which_a_practice_fails_ends_failed_and_says_how_many(
        tmp_path: Path, processes: Processes) -> None:
    home = tmp_path / "var"
    home.mkdir()
    database = home / "qualitycycle.db"
    build_flagged_care_group(sqlite_url(database))
    with sa.create_engine(sqlite_url(database)).begin() as connection:  # De Linde's stored state is off by one step
        connection.execute(sa.text("UPDATE trajectory SET version = version - 1 WHERE agb_code = :a"), {"a": LINDE})
    api = serve_without_schedules(processes, tmp_path, home)

    with api_settings(api):
        run = scheduled_run("sweep-due/sweep-due", SUMMER, processes)
        assert run.state.is_failed(), (run.state, processes.logs())
        assert run.state.message.startswith(f"Openstaande taken: 1 fout(en). Eerste: praktijk {LINDE}: ")
        summary = next(a for a in artifacts_of(run.id).values() if a.type == "markdown").data
        assert "**Mislukt: 1 fout(en).**" in summary and "| Praktijken bekeken | 2 |" in summary
        with client() as c:
            retried = c.read_flow_run(run.id)
        assert retried.run_count == 1  # failed once, not retried as a whole
        # what an officer reads on the run's Logs tab (the run's process sends its logs on in the background)
        wait_for("the run's last log line", lambda: any(line.startswith("Finished in state Failed")
                                                         for line in run_logs(run.id)), processes, timeout=30)
        time.sleep(2)  # anything logged after it, such as an engine traceback, arrives by now
        logs = run_logs(run.id)
        assert any(line.startswith(f"fout: praktijk {LINDE}: ") for line in logs), logs
        assert not any("Traceback" in line or "unexpected exception" in line for line in logs), logs
    served = processes.log("serve")  # what operations staff read: one Dutch line per failure, no traceback
    assert f"ERROR   | Flow run 'sweep-due 2024-07-01 06:00' - fout: praktijk {LINDE}: " in served
    assert "Traceback" not in served
    listed = qualitycycle(home, "status", "--json")
    states = {line["agb_code"]: line["state"] for line in json.loads(listed.stdout)}
    assert states[EIK] == "annual_cycle" and states[LINDE] == "annual_cycle"  # De Eik was judged (and is fine)


# --------------------------------------------------------------------------- 2. scaling out


@contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A new, empty database on the QC_POSTGRES_URL server, dropped afterwards; its SQLAlchemy URL."""
    assert POSTGRES_URL
    server = sa.make_url(normalise_url(POSTGRES_URL))
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


SUBMITTED = re.compile(r"Worker '(?P<worker>[^']+)' submitting flow run '(?P<id>[0-9a-f-]{36})'")
ABORTED = re.compile(r"Aborted submission of flow run '([0-9a-f-]{36})'")


@pytest.mark.postgres
def test_two_workers_share_the_runs_of_a_process_pool(tmp_path: Path, processes: Processes, worker_id: str) -> None:
    if not POSTGRES_URL:
        pytest.skip("QC_POSTGRES_URL is not set: the scaled-out Prefect set-up is not tested")
    pytest.importorskip("asyncpg", reason="the PostgreSQL-backed Prefect server needs asyncpg")

    suffix = f"{worker_id}_{os.getpid()}"  # two test sessions on one PostgreSQL server do not collide
    with postgres_database(f"qc_prefect_{suffix}") as prefect_db, \
            postgres_database(f"qc_product_{suffix}") as product_db:
        build_flagged_care_group(product_db)
        async_url = sa.make_url(prefect_db).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
        api = start_server(processes, tmp_path, PREFECT_API_DATABASE_CONNECTION_URL=async_url)
        pool = "qualitycycle"
        common = clean_env(PREFECT_API_URL=api, QC_HOME=str(tmp_path / "var"), QC_DATABASE_URL=product_db)

        def cli(*args: str) -> None:
            done = subprocess.run(args, env={**common, "PREFECT_HOME": str(tmp_path / "cli")}, cwd=tmp_path,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, f"{' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"

        cli(str(BIN / "prefect"), "work-pool", "create", pool, "--type", "process")
        cli(str(BIN / "qualitycycle"), "deploy", "--pool", pool)
        # one run at a time per worker (--limit 1), so neither can claim every run; poll every second
        workers = {}
        for name in ("worker-a", "worker-b"):
            workers[name] = processes.start(name, [str(BIN / "qualitycycle"), "worker", "--pool", pool, "--name", name,
                                                   "--limit", "1"],
                            {**common, "PREFECT_HOME": str(tmp_path / name), "PREFECT_WORKER_QUERY_SECONDS": "1"},
                            cwd=tmp_path)

        with api_settings(api):
            def both_online() -> bool:
                with client() as c:
                    return {w.name for w in c.read_workers_for_work_pool(pool)} >= {"worker-a", "worker-b"}

            wait_for("both workers online", both_online, processes, timeout=45)
            with client() as c:
                deployment = c.read_deployment_by_name("sweep-due/sweep-due")
                assert deployment.work_pool_name == pool
                assert deployment.schedules[0].schedule.timezone == "Europe/Amsterdam"

            # four sweeps as the scheduler starts them (no parameters), one run given its moment by hand
            moments = [datetime(2024, 12, day, 6, 0, tzinfo=AMSTERDAM) for day in (9, 10, 11, 12)]
            triggered = [schedule("sweep-due/sweep-due", m) for m in moments]
            triggered.append(trigger("plan-meetings/plan-meetings", "2024-12-09T06:15:00+01:00", timeout=0))
            ids = [r.id for r in triggered]

            def all_final() -> list[Any] | None:
                with client() as c:
                    runs = [c.read_flow_run(i) for i in ids]
                return runs if all(r.state is not None and r.state.is_final() for r in runs) else None

            runs = wait_for("five runs final", all_final, processes, timeout=100, every=1)
            dispatch = scheduled_run("dispatch-outbox/dispatch-outbox", moments[-1].replace(hour=7), processes)
            assert dispatch.state.is_completed(), (dispatch.state, processes.logs())

            # stopping the workers while a run is under way: they take no new run, the run finishes, they exit
            last = schedule("sweep-due/sweep-due", moments[0])  # that moment again: it queues nothing new

            def running() -> bool:
                with client() as c:
                    state = c.read_flow_run(last.id).state
                assert state is None or not state.is_final(), "the last sweep ended before the workers were stopped"
                return state is not None and state.is_running()

            wait_for("the last sweep running", running, processes, timeout=60, every=0.2)
            asked = time.monotonic()
            for proc in workers.values():
                proc.send_signal(signal.SIGTERM)
            for name, proc in workers.items():
                proc.wait(timeout=60)
                assert proc.returncode == 0 and "worker gestopt" in processes.log(name), processes.log(name)
            print(f"both workers stopped {time.monotonic() - asked:.1f} s after SIGTERM")
            with client() as c:
                assert c.read_flow_run(last.id).state.is_completed()  # type: ignore[union-attr]

        assert [r.state.type.value for r in runs] == ["COMPLETED"] * 5, processes.logs()
        assert [r.name for r in runs] == [f"sweep-due {m:%Y-%m-%d %H:%M}" for m in moments] + [
            "plan-meetings 2024-12-09 06:15"]
        assert {r.work_pool_name for r in runs} == {pool}
        # which worker ran which run, from their logs: both may try to claim a run ("submitting flow run"), the
        # server lets one move it to Pending and refuses the other ("Aborted submission of flow run")
        ran: dict[str, list[str]] = {str(i): [] for i in ids}
        refused = 0
        for name in ("worker-a", "worker-b"):
            log = processes.log(name)
            aborted = set(ABORTED.findall(log))
            refused += len(aborted)
            for match in SUBMITTED.finditer(log):
                if match["id"] in ran and match["id"] not in aborted:
                    ran[match["id"]].append(match["worker"])
        assert all(len(workers) == 1 for workers in ran.values()), ran  # each run ran on exactly one worker
        assert {w for workers in ran.values() for w in workers} == {"worker-a", "worker-b"}, ran
        print(f"runs per worker: {ran}; claims refused by the server: {refused}")

        services = Services.open(product_db, upgrade=False)
        try:
            messages = queries.outbox_messages(services)
            sweeps = queries.duty_runs(services, "sweep_due")
            meetings = queries.duty_runs(services, "plan_meetings")
            flagged = [e for e in queries.all_events(services) if e.trigger == "flag_deviation"]
            (linde,) = [line for line in queries.status(services) if line.agb_code == LINDE]
            replays = [replay_practice(services, code) for code in (LINDE, EIK)]
        finally:
            services.db.dispose()
        keys = [m.key for m in messages]
        assert keys and len(keys) == len(set(keys))
        assert {(m.status, m.sent_at) for m in messages} == {("sent", moments[-1].replace(hour=7))}
        assert sorted({r.moment for r in sweeps}) == moments
        assert len(meetings) == 1
        # whichever sweep reached De Linde first flagged it, at its scheduled instant, through a worker
        (event,) = flagged
        assert event.agb_code == LINDE and event.at in moments and linde.since == event.at
        assert all(r.agrees for r in replays), [(r.agb_code, r.error, r.differences) for r in replays]
