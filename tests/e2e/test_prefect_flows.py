"""The Prefect flows for real, on one temporary Prefect server per test session (per xdist worker).

The duties' business logic is tested without Prefect elsewhere; this small suite proves only what
Prefect adds: the run's name says what and when, the flow plans rows and queues messages in the
product's database named by the ``QC_`` settings, an officer finds a Dutch summary and a table among
the run's artifacts, a second run for the same moment sends nothing twice, and an unreachable
database fails the run with a Dutch message.

The server is Prefect's test harness (a subprocess on a temporary SQLite database) with flow
heartbeats off: with them on every flow run costs about a second more (LIBRARY-NOTES, Prefect).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pendulum
import pytest
import sqlalchemy as sa

from domain.clock import AMSTERDAM, FixedClock, as_amsterdam
from flows.runners import prefect_flows as orchestration
from flows.runners.prefect_flows import board_digest_flow, dispatch_outbox_flow, plan_meetings_flow, sweep_due_flow
from flows.services import queries
from flows.services.context import Services
from flows.services.queries import known_practices, replay_practice
from flows.testing.scenario import Scenario
from storage import obligations as store
from storage.database import sqlite_url
from storage.tables import OutboxRow, TrajectoryRow
from tests.prefect_care_group import DESCRIPTION, EIK, LINDE

MONDAY = datetime(2024, 12, 9, 6, 0, tzinfo=AMSTERDAM)  # the annual conversations fall due at the turn of the year


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A temporary Prefect server for this session: its own PREFECT_HOME, no telemetry, no heartbeats."""
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_HOME,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    home = tmp_path_factory.mktemp("prefect-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DO_NOT_TRACK", "1")
        with temporary_settings(updates={PREFECT_HOME: home, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
                                         PREFECT_SERVER_ANALYTICS_ENABLED: False}), \
                prefect_test_harness(server_startup_timeout=60):
            yield


@pytest.fixture
def care_group(prefect_api: None, tmp_path: Path, sqlite_template: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """Two practices with their people, officers and a board, in the SQLite database of ``QC_HOME``."""
    for name in list(os.environ):
        if name.startswith("QC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no qualitycycle.toml from elsewhere
    home = tmp_path / "var"
    home.mkdir()
    shutil.copy(sqlite_template, home / "qualitycycle.db")
    monkeypatch.setenv("QC_HOME", str(home))
    services = Services.open(sqlite_url(home / "qualitycycle.db"), upgrade=False)
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sc.conversation(LINDE, "start", "2024-01-15")
    sc.conversation(EIK, "start", "2024-01-16")
    yield services
    services.db.dispose()


def outbox(services: Services) -> list[OutboxRow]:
    return queries.outbox_messages(services)


def run(flow: Any, **parameters: Any) -> Any:
    """Run a flow in this process and return its final state (never raising on failure)."""
    return flow(**parameters, return_state=True)


def flow_run_and_artifacts(state: Any) -> tuple[Any, dict[str, Any]]:
    """The flow run (as the server has it) and its artifacts by type."""
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    run_id: UUID = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(run_id)
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
    by_type: dict[str, Any] = {str(a.type): a for a in artifacts}
    assert len(by_type) == len(artifacts) == 2, [(a.type, a.key) for a in artifacts]
    return flow_run, by_type


def table(artifact: Any) -> list[dict[str, str]]:
    data = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    return list(data)


def test_sweep_due_plans_queues_and_tells_the_officer_in_dutch(care_group: Services) -> None:
    state = run(sweep_due_flow, now=MONDAY)

    assert state.is_completed(), state.message
    assert state.result()["planned"] > 0
    with care_group.session() as s:
        planned = store.obligations(s)
    assert {r.agb_code for r in planned} >= {LINDE, EIK}
    assert {r.kind for r in planned} >= {"annual_conversation"}
    queued = outbox(care_group)
    assert {m.kind for m in queued} == {"conversation_invitation"}
    assert {m.recipient_email for m in queued} >= {"c.bakker@delinde.example", "a.jansen@cohaesie.example"}

    flow_run, artifacts = flow_run_and_artifacts(state)
    assert flow_run.name == "sweep-due 2024-12-09 06:00"
    assert flow_run.state.is_completed()
    with care_group.session() as s:  # the workspace's runs page links to this flow run
        assert [r.flow_run_id for r in store.duty_runs(s, "sweep_due")] == [str(flow_run.id)]
    summary = artifacts["markdown"]
    assert summary.key == "sweep-due-samenvatting"
    assert "# Openstaande taken, maandag 9 december 2024 06:00" in summary.data
    assert f"| Berichten klaargezet | {len(queued)} |" in summary.data
    assert "| Gemeld aan het bestuur (beleid) | geen |" in summary.data
    assert "**Gelukt.**" in summary.data and "conversation_invitation" not in summary.data
    rows = table(artifacts["table"])
    assert {row["praktijk"] for row in rows} == {LINDE, EIK}
    # per practice: the annual conversation planned (when it falls due and the day it is planned for) and
    # the invitations queued for it
    for code in (LINDE, EIK):
        mine = [(row["wat"], row["details"]) for row in rows if row["praktijk"] == code]
        assert any(wat == "kwaliteitsjaargesprek gepland" and details.startswith("uiterlijk ")
                   for wat, details in mine), mine
        assert any(wat == "kwaliteitsjaargesprek" and "bericht(en) klaargezet" in details
                   for wat, details in mine), mine


def test_meetings_and_board_digest_run_as_flows(care_group: Services) -> None:
    meetings = run(plan_meetings_flow, now=MONDAY.replace(minute=15))
    digest = run(board_digest_flow, now=MONDAY.replace(hour=7))

    assert meetings.is_completed(), meetings.message
    assert digest.is_completed(), digest.message
    with care_group.session() as s:
        kinds = {r.kind for r in store.obligations(s)}
    assert {"poh_meeting", "practice_manager_meeting"} <= kinds
    assert [(m.kind, m.recipient_email) for m in outbox(care_group)] == [("board_digest", "bestuur@cohaesie.example")]

    flow_run, artifacts = flow_run_and_artifacts(meetings)
    assert flow_run.name == "plan-meetings 2024-12-09 06:15"
    with care_group.session() as s:
        assert [r.flow_run_id for r in store.duty_runs(s, "plan_meetings")] == [str(flow_run.id)]
    assert "# POH- en praktijkmanagersoverleg, maandag 9 december 2024 06:15" in artifacts["markdown"].data
    assert "| Taken gepland | 10 |" in artifacts["markdown"].data
    lines = table(artifacts["table"])
    assert len(lines) == 10 and {line["praktijk"] for line in lines} == {"zorggroep"}
    assert {line["wat"] for line in lines} == {"POH-overleg gepland", "praktijkmanagersoverleg gepland"}

    flow_run, artifacts = flow_run_and_artifacts(digest)
    assert flow_run.name == "board-digest 2024-12-09 07:00"
    assert "# Overzicht voor het bestuur" in artifacts["markdown"].data
    (line,) = table(artifacts["table"])
    assert line["wat"] == "overzicht bestuur" and "1 juli 2024 t/m 30 september 2024" in line["details"]


def test_a_second_run_for_the_same_moment_queues_nothing_twice(care_group: Services) -> None:
    first = run(sweep_due_flow, now=MONDAY)
    queued = sorted(m.key for m in outbox(care_group))
    second = run(sweep_due_flow, now=MONDAY)

    assert first.is_completed() and second.is_completed()
    assert queued and sorted(m.key for m in outbox(care_group)) == queued
    assert second.result()["already_ran"] is True and second.result()["messages"] == 0
    _, artifacts = flow_run_and_artifacts(second)
    assert "Dit moment was al eerder verwerkt" in artifacts["markdown"].data


def test_an_unreachable_database_fails_the_run_in_dutch(prefect_api: None, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QC_HOME", str(tmp_path / "var"))
    monkeypatch.setenv("QC_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.setattr(orchestration, "CONNECT_PAUSES", (0.1, 0.1))  # in production: 15 and 45 seconds

    state = run(sweep_due_flow, now=MONDAY)

    assert state.is_failed()
    assert state.message.startswith("Openstaande taken: database postgresql+psycopg://postgres@127.0.0.1:1/none is "
                                    "niet bereikbaar; deze run is mislukt en de volgende haalt het werk in (")
    logs = logs_of(state)
    assert sum("nog niet bereikbaar; over 0.1 s opnieuw" in line for line in logs) == 2, logs
    assert not any("Traceback" in line for line in logs), logs  # one Dutch line, not a traceback


# --------------------------------------------------------------------------- runs as the scheduler starts them


def replay_agrees(services: Services) -> dict[str, int]:
    """Every practice's state rebuilt from its events equals the stored one; events per practice."""
    found = {}
    for code in sorted(known_practices(services)):
        result = replay_practice(services, code)
        assert result.agrees, (code, result.error, result.differences)
        found[code] = result.events
    return found


def logs_of(state: Any) -> list[str]:
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # the run's logs go to the server in the background
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[
            state.state_details.flow_run_id])))
    return [log.message for log in logs]


def test_runs_without_parameters_work_for_the_moment_they_were_started_to_the_second(care_group: Services) -> None:
    """What the scheduler does: no ``now``. The moment is the run's scheduled start time (Prefect's own
    datetime type), kept with its seconds; the sweep's steps and the dispatch are stored at that instant."""
    sc_scores(care_group, {LINDE: 55})  # De Linde far below target: the sweep flags it
    sweep = run(sweep_due_flow)
    dispatch = run(dispatch_outbox_flow)

    assert sweep.is_completed(), sweep.message
    assert dispatch.is_completed(), dispatch.message
    flow_run, _ = flow_run_and_artifacts(sweep)
    moment = as_amsterdam(flow_run.expected_start_time)
    assert sweep.result()["moment"] == moment.isoformat()
    (event,) = [e for e in queries.history(care_group, LINDE) if e.trigger == "flag_deviation"]
    (line,) = [line for line in queries.status(care_group) if line.agb_code == LINDE]
    assert event.at == line.since == moment  # the same instant, not an hour apart
    replay_agrees(care_group)

    dispatched_at = as_amsterdam(flow_run_and_artifacts(dispatch)[0].expected_start_time)
    assert outbox(care_group) and {(m.status, m.sent_at) for m in outbox(care_group)} == {("sent", dispatched_at)}
    assert sweep.result()["failures"] == [] and dispatch.result()["failures"] == []


def test_a_dispatch_run_tells_the_officer_what_it_sent_in_dutch(care_group: Services) -> None:
    run(sweep_due_flow, now=MONDAY)
    queued = outbox(care_group)
    state = run(dispatch_outbox_flow, now=pendulum.datetime(2024, 12, 9, 6, 15, tz="UTC"))  # Prefect's own type

    assert state.is_completed(), state.message
    flow_run, artifacts = flow_run_and_artifacts(state)
    assert flow_run.name == "dispatch-outbox 2024-12-09 07:15"
    summary = artifacts["markdown"].data
    assert summary.startswith("# Berichten versturen, maandag 9 december 2024 07:15\n\n**Gelukt.**")
    assert f"| Verzonden | {len(queued)} |" in summary and "| Opgegeven | 0 |" in summary
    assert f"- uitnodiging voor een gesprek: {len(queued)}" in summary
    assert "Berichten klaargezet" not in summary and "Praktijken" not in summary  # not the sweep's summary
    assert "conversation_invitation" not in summary
    rows = table(artifacts["table"])
    assert len(rows) == len(queued) and {r["wat"] for r in rows} == {"uitnodiging voor een gesprek verzonden"}
    assert any(r["praktijk"] == LINDE and r["details"] == "aan C. Bakker <c.bakker@delinde.example>" for r in rows)
    assert {m.status for m in outbox(care_group)} == {"sent"}


def test_a_run_in_which_a_practice_fails_finishes_the_rest_and_ends_failed(care_group: Services) -> None:
    sc_scores(care_group, {LINDE: 55, EIK: 55})
    with care_group.transaction() as s:  # De Linde's stored state restored from an older backup than its events
        s.connection().execute(sa.text("UPDATE trajectory SET version = version - 1 WHERE agb_code = :a"),
                               {"a": LINDE})
    state = run(sweep_due_flow, now=MONDAY)

    assert state.is_failed()
    assert state.message.startswith(f"Openstaande taken: 1 fout(en). Eerste: praktijk {LINDE}: ")
    assert f"qualitycycle replay {LINDE}" in state.message
    flow_run, artifacts = flow_run_and_artifacts(state)
    assert flow_run.state.is_failed() and flow_run.name == "sweep-due 2024-12-09 06:00"
    summary = artifacts["markdown"].data
    assert "**Mislukt: 1 fout(en).**" in summary and "| Fouten | 1 |" in summary and f"- praktijk {LINDE}: " in summary
    # the rest was done: De Eik flagged, everyone's duties planned and invitations queued
    with care_group.session() as s:
        assert s.get(TrajectoryRow, EIK).state == "extra_conversation"  # type: ignore[union-attr]
    assert {m.agb_code for m in outbox(care_group)} >= {EIK}
    logs = logs_of(state)
    assert any(line.startswith(f"fout: praktijk {LINDE}: ") for line in logs), logs
    assert not any("Traceback" in line for line in logs)


def test_each_run_over_a_summer_and_a_winter_morning_keeps_the_instant(care_group: Services) -> None:
    sc_scores(care_group, {LINDE: 55})
    summer = pendulum.datetime(2024, 7, 1, 6, 0, tz="Europe/Amsterdam")  # Prefect's own type, as scheduled
    winter = pendulum.datetime(2024, 12, 9, 5, 0, 30, tz="UTC")
    assert run(sweep_due_flow, now=summer).is_completed()
    assert run(sweep_due_flow, now=winter).is_completed()
    assert run(dispatch_outbox_flow, now=winter).is_completed()

    (flagged,) = [e for e in queries.all_events(care_group) if e.trigger == "flag_deviation"]
    assert flagged.at == datetime(2024, 7, 1, 4, 0, tzinfo=UTC)
    assert replay_agrees(care_group) == {LINDE: 2, EIK: 1}
    assert {m.sent_at for m in outbox(care_group)} == {datetime(2024, 12, 9, 5, 0, 30, tzinfo=UTC)}


def sc_scores(services: Services, hba1c: dict[str, int]) -> None:
    """Figures of the first quarter of 2024, published in April: HbA1c checked in this many of 100."""
    sc = Scenario(services, FixedClock(datetime(2024, 4, 5, 9, 0, tzinfo=AMSTERDAM)))
    sc.scores("2024-03-31", {agb: {"dm2/hba1c_measured": value} for agb, value in hba1c.items()})


def test_a_batch_that_keeps_failing_is_told_in_dutch_and_its_traceback_goes_to_operations(
        care_group: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    def lost_connection(*args: Any, **kwargs: Any) -> Any:
        raise sa.exc.OperationalError("UPDATE trajectory ...", {}, ConnectionResetError("server closed the connection"))

    monkeypatch.setattr(orchestration.sweep, "sweep_batch", lost_connection)
    monkeypatch.setattr(orchestration, "sweep_batch_task", orchestration.sweep_batch_task.with_options(
        retries=1, retry_delay_seconds=0))  # in production: twice, after 30 s

    state = run(sweep_due_flow, now=MONDAY)

    assert state.is_failed()
    assert state.message.startswith("Openstaande taken: 1 fout(en). Eerste: praktijken 01234567 t/m 07654321: "
                                    "database niet bereikbaar of niet bruikbaar: server closed the connection")
    logs = logs_of(state)
    assert "poging mislukt (database niet bereikbaar of niet bruikbaar: server closed the connection); nieuwe " \
           "poging 1 van 1" in logs, logs
    assert "mislukt na de laatste poging: database niet bereikbaar of niet bruikbaar: server closed the " \
           "connection" in logs, logs
    assert not any("Traceback" in line or "UPDATE trajectory" in line for line in logs), logs
    operations = (Path(os.environ["QC_HOME"]) / "logs" / "operations.log").read_text(encoding="utf-8")
    assert "Traceback" in operations and "server closed the connection" in operations
    # the run did what it could: the messages already due were looked at and the run was recorded, with its failure
    with care_group.session() as s:
        (recorded,) = store.duty_runs(s, "sweep_due")
    assert [f["what"] for f in recorded.summary["failures"]] == ["praktijken 01234567 t/m 07654321"]
