"""The schedule is declared once and both runners read it: Prefect deployments and the embedded
APScheduler runner. Nothing fires between 02:00 and 03:00; a duty missed while the machine was off
runs once when the runner comes back."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger

from domain.clock import AMSTERDAM
from flows.runners import embedded as runner
from flows.runners.embedded import JOB_TABLE, build_scheduler
from flows.schedule import (
    BY_NAME,
    SCHEDULE,
    TIMEZONE,
    ScheduledDuty,
    ScheduleError,
    check_schedule,
    fire_times,
)
from flows.services import run_report
from flows.services.duties import DutyReport
from flows.services.settings import Settings
from storage.database import create_db_engine


def test_no_duty_fires_in_the_night_hour_that_daylight_saving_repeats_or_skips() -> None:
    for year in (2026, 2027, 2028):
        check_schedule(year=year)


def test_a_duty_declared_at_half_past_two_is_refused() -> None:
    night = ScheduledDuty("nightly", "30 2 * * *", BY_NAME["sweep-due"].run, "Nacht", "")
    with pytest.raises(ScheduleError, match="tussen 02:00 en 03:00"):
        check_schedule((*SCHEDULE, night))


def test_the_sweep_keeps_local_time_across_both_clock_changes() -> None:
    sweep = BY_NAME["sweep-due"]
    around_spring = fire_times(sweep, datetime(2026, 3, 27, tzinfo=AMSTERDAM), datetime(2026, 4, 1, tzinfo=AMSTERDAM))
    around_autumn = fire_times(sweep, datetime(2026, 10, 23, tzinfo=AMSTERDAM),
                               datetime(2026, 10, 28, tzinfo=AMSTERDAM))
    for moment in around_spring + around_autumn:
        assert (moment.hour, moment.minute) == (6, 0) and moment.weekday() < 5
    assert [m.utcoffset() for m in around_spring] == [timedelta(hours=1), timedelta(hours=2), timedelta(hours=2)]
    assert [m.utcoffset() for m in around_autumn] == [timedelta(hours=2), timedelta(hours=1), timedelta(hours=1)]


def test_every_declared_duty_has_a_dutch_title_and_runs_once_on_a_working_morning() -> None:
    names = [d.name for d in SCHEDULE]
    assert len(names) == len(set(names)) and {"sweep-due", "plan-meetings", "refresh-kits", "board-digest",
                                              "dispatch-outbox", "recalculate-indicators"} == set(names)
    monday = fire_times(BY_NAME["plan-meetings"], datetime(2026, 3, 2, tzinfo=AMSTERDAM),
                        datetime(2026, 3, 9, tzinfo=AMSTERDAM))
    assert [m.isoformat() for m in monday] == ["2026-03-02T06:15:00+01:00"]


def test_prefect_and_the_embedded_runner_read_the_declaration_the_same_way() -> None:
    from prefect.server.schemas.schedules import CronSchedule  # what the Prefect server plans runs with

    start = datetime(2026, 3, 23, tzinfo=AMSTERDAM)  # two weeks around the spring clock change
    end = start + timedelta(days=14)
    for duty in SCHEDULE:
        ours = fire_times(duty, start, end)
        schedule = CronSchedule(cron=duty.cron, timezone=TIMEZONE)
        theirs = asyncio.run(schedule.get_dates(n=1000, start=start, end=end))
        assert [m.timestamp() for m in ours] == [m.timestamp() for m in theirs], duty.name
        assert all(m.astimezone(AMSTERDAM).hour != 2 for m in theirs)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    for name in ("QC_DATABASE_URL", "QC_SMTP_HOST", "QC_POLICY_FILE", "QC_SETTINGS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QC_HOME", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
    yield Settings()


def _stored_jobs(settings: Settings) -> dict[str, float]:
    engine = create_db_engine(settings.db_url())
    with engine.connect() as connection:
        rows = connection.execute(sa.text(f"SELECT id, next_run_time FROM {JOB_TABLE}")).all()
    engine.dispose()
    return {row[0]: row[1] for row in rows}


def test_embedded_runner_keeps_its_jobs_in_the_products_database_once(settings: Settings) -> None:
    for _ in range(2):  # a restart keeps the jobs, never duplicates them
        scheduler = build_scheduler(settings)
        scheduler.shutdown(wait=False)
    jobs = _stored_jobs(settings)
    assert set(jobs) == set(BY_NAME)
    first_sweep = datetime.fromtimestamp(jobs["sweep-due"], tz=AMSTERDAM)
    assert (first_sweep.hour, first_sweep.minute) == (6, 0) and first_sweep > datetime.now(tz=AMSTERDAM)


def test_a_duty_missed_three_times_while_the_machine_was_off_runs_once(settings: Settings) -> None:
    scheduler = build_scheduler(settings)
    job = scheduler.get_job("plan-meetings")
    assert job.coalesce and job.misfire_grace_time is None and job.max_instances == 1
    # as if the machine had been off for three weeks of Monday runs: the stored next run time lies three weeks back
    scheduler.modify_job("plan-meetings", next_run_time=datetime.now(tz=AMSTERDAM) - timedelta(weeks=3))
    scheduler.shutdown(wait=False)

    scheduler = build_scheduler(settings)  # the restart keeps that stored time ...
    try:
        assert scheduler.get_job("plan-meetings").next_run_time < datetime.now(tz=AMSTERDAM)
        scheduler.resume()  # ... and runs the missed duty once
        assert _wait_for_runs(settings, "plan_meetings", 1) == 1
        time.sleep(1.0)  # a second (uncoalesced) run would land by now
        assert _count_runs(settings, "plan_meetings") == 1
        next_run = scheduler.get_job("plan-meetings").next_run_time
        assert next_run > datetime.now(tz=AMSTERDAM) and next_run.weekday() == 0
    finally:
        scheduler.shutdown(wait=True)


def _count_runs(settings: Settings, duty: str) -> int:
    engine = create_db_engine(settings.db_url())
    try:
        with engine.connect() as connection:
            found = connection.execute(sa.text("SELECT count(*) FROM duty_run WHERE duty = :d"), {"d": duty})
            return int(found.scalar() or 0)
    except sa.exc.OperationalError:  # the duty has not yet created the product's tables
        return 0
    finally:
        engine.dispose()


def _wait_for_runs(settings: Settings, duty: str, count: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    found = 0
    while time.monotonic() < deadline:
        found = _count_runs(settings, duty)
        if found >= count:
            break
        time.sleep(0.2)
    return found


def test_a_duty_that_fell_due_while_the_runner_was_stopped_runs_once_when_it_is_started_again(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Real time: a duty fires six seconds from now; the runner is started and stopped before that, stays
    down over the fire time, and is started again (with APScheduler's ``replace_existing`` the stored next run
    time was recomputed from now and the missed run was lost)."""
    ran: list[datetime] = []

    def tick(services: Any, now: datetime, settings: Settings) -> DutyReport:
        ran.append(now)
        report = DutyReport("tick", now)
        report.planned = 1
        return report

    fire = (datetime.now(tz=AMSTERDAM) + timedelta(seconds=6)).replace(microsecond=0)  # room for a slow start
    duty = ScheduledDuty("tick", "* * * * *", tick, "Tik", "")
    monkeypatch.setattr(runner, "SCHEDULE", (duty,))
    monkeypatch.setattr(runner, "BY_NAME", {"tick": duty})
    # the declared schedule has minutes; this test needs seconds
    monkeypatch.setattr(runner, "trigger", lambda d: CronTrigger(hour=fire.hour, minute=fire.minute, second=fire.second,
                                                                 timezone=AMSTERDAM))

    stop = threading.Event()
    first = threading.Thread(target=runner.serve_embedded, args=(settings, stop))
    first.start()
    time.sleep(0.5)
    stop.set()
    first.join(timeout=10)
    assert not first.is_alive() and ran == [] and datetime.now(tz=AMSTERDAM) < fire
    assert datetime.fromtimestamp(_stored_jobs(settings)["tick"], tz=AMSTERDAM) == fire

    while datetime.now(tz=AMSTERDAM) < fire + timedelta(seconds=1):  # the machine is off over the fire time
        time.sleep(0.1)
    caplog.set_level(logging.INFO, logger="qualitycycle")
    stop = threading.Event()
    second = threading.Thread(target=runner.serve_embedded, args=(settings, stop))
    second.start()
    try:
        deadline = time.monotonic() + 10
        while not ran and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
    finally:
        stop.set()
        second.join(timeout=10)
    assert len(ran) == 1 and ran[0] > fire  # once, for the moment it ran (the clock, with its seconds)
    assert datetime.fromtimestamp(_stored_jobs(settings)["tick"], tz=AMSTERDAM) == fire + timedelta(days=1)
    lines = [r.getMessage() for r in caplog.records if r.name == "qualitycycle.runner"]
    assert any(line.startswith(f"tick (tick) {ran[0]:%Y-%m-%d %H:%M:%S}: ") and "1 taken gepland" in line
               and "geen fouten" in line for line in lines), lines


def test_a_failing_duty_is_logged_loudly_in_dutch_and_the_runner_goes_on(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(services: Any, now: datetime, settings: Settings) -> DutyReport:
        raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused\nmore detail"))

    def refusing(services: Any, now: datetime, settings: Settings) -> DutyReport:
        report = DutyReport("sweep_due", now)
        report.failures.append(("01234567", "praktijk 01234567: 'escalate' kan niet in toestand 'start'"))
        return report

    monkeypatch.setattr(runner, "BY_NAME", {"broken": ScheduledDuty("broken", "0 6 * * *", broken, "Kapot", ""),
                                            "sweep-due": ScheduledDuty("sweep-due", "0 6 * * *", refusing, "T", "")})
    caplog.set_level(logging.INFO, logger="qualitycycle")
    moment = datetime(2026, 7, 6, 4, 0, 12, tzinfo=UTC)  # a summer morning, as APScheduler hands it over

    run_report.log_operations_to(settings.home)
    assert runner.run_duty("broken", moment) is None  # no exception escapes into the scheduler
    report = runner.run_duty("sweep-due", moment)
    assert report is not None and report.moment == datetime(2026, 7, 6, 6, 0, 12, tzinfo=AMSTERDAM)

    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "qualitycycle.runner"]
    assert [r.getMessage() for r in errors] == [
        "broken 2026-07-06 06:00:12: mislukt, niet afgemaakt: database niet bereikbaar of niet bruikbaar: "
        "connection refused",
        "sweep-due (Openstaande taken) 2026-07-06 06:00:12: 0 praktijken bekeken, 0 taken gepland, 0 verplaatst, "
        "0 afgerond, 0 vervallen, 0 stappen in trajecten, gemeld aan het bestuur: niemand, 0 berichten klaargezet; "
        "1 fout(en)",
        "  fout: praktijk 01234567: 'escalate' kan niet in toestand 'start'",
    ]
    assert not any(r.exc_info for r in errors)  # no traceback in what an officer reads ...
    operations = (settings.home / "logs" / "operations.log").read_text(encoding="utf-8")
    assert "broken: database niet bereikbaar" in operations and "Traceback" in operations  # ... but for operations


def test_the_embedded_runner_over_a_summer_and_a_winter_morning_stores_steps_at_their_instant(
        settings: Settings) -> None:
    from flows.services.context import Services
    from flows.services.queries import known_practices, replay_practice
    from flows.testing.scenario import Scenario
    from tests.prefect_care_group import DESCRIPTION, EIK, LINDE

    services = Services.open(settings.db_url())
    try:
        sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
        sc.conversation(LINDE, "start", "2024-01-15")
        sc.conversation(EIK, "start", "2024-01-16")
        sc.clock.set(datetime(2024, 4, 5, 9, 0, tzinfo=AMSTERDAM))
        sc.scores("2024-03-31", {LINDE: {"dm2/hba1c_measured": 55}})
        # fire times as APScheduler hands them over: aware, in whatever zone the trigger computed them
        summer = runner.run_duty("sweep-due", datetime(2024, 7, 1, 4, 0, 7, tzinfo=UTC))
        winter = runner.run_duty("sweep-due", datetime(2024, 12, 9, 6, 0, tzinfo=AMSTERDAM))
        sent = runner.run_duty("dispatch-outbox", datetime(2024, 12, 9, 6, 15, tzinfo=AMSTERDAM))
        assert summer is not None and winter is not None and sent is not None
        assert not (summer.failures or winter.failures or sent.failures)
        assert [t.trigger.value for t in summer.transitions] == ["flag_deviation"]
        assert sent.delivery is not None and sum(sent.delivery.sent.values()) > 0
        (flagged,) = [e for e in sc.history(LINDE) if e.trigger.value == "flag_deviation"]
        assert flagged.at == datetime(2024, 7, 1, 6, 0, 7, tzinfo=AMSTERDAM)
        assert all(replay_practice(services, code).agrees for code in known_practices(services))
    finally:
        services.db.dispose()
