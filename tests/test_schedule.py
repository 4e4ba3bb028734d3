"""The schedule is declared once and both runners read it: Prefect deployments and the embedded
APScheduler runner. Nothing fires between 02:00 and 03:00; a duty missed while the machine was off
runs once when the runner comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from domain.clock import AMSTERDAM
from flows.runner import JOB_TABLE, build_scheduler
from flows.schedule import (
    BY_NAME,
    SCHEDULE,
    TIMEZONE,
    ScheduledDuty,
    ScheduleError,
    check_schedule,
    fire_times,
)
from flows.settings import Settings
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
    for _ in range(2):  # a restart replaces the jobs, never duplicates them
        scheduler = build_scheduler(settings, blocking=False)
        scheduler.start(paused=True)
        scheduler.shutdown(wait=False)
    jobs = _stored_jobs(settings)
    assert set(jobs) == set(BY_NAME)
    first_sweep = datetime.fromtimestamp(jobs["sweep-due"], tz=AMSTERDAM)
    assert (first_sweep.hour, first_sweep.minute) == (6, 0) and first_sweep > datetime.now(tz=AMSTERDAM)


def test_a_duty_missed_three_times_while_the_machine_was_off_runs_once(settings: Settings) -> None:
    scheduler = build_scheduler(settings, blocking=False)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("plan-meetings")
        assert job.coalesce and job.misfire_grace_time is None and job.max_instances == 1
        # as if the machine had been off for three weeks of Monday runs
        scheduler.modify_job("plan-meetings", next_run_time=datetime.now(tz=AMSTERDAM) - timedelta(weeks=3))
        scheduler.resume()
        engine = create_db_engine(settings.db_url())
        deadline = time.monotonic() + 30
        runs: list[tuple[str, datetime]] = []
        while time.monotonic() < deadline:
            try:
                with engine.connect() as connection:
                    runs = [tuple(r) for r in connection.execute(sa.text(  # type: ignore[misc]
                        "SELECT duty, moment FROM duty_run WHERE duty = 'plan_meetings'")).all()]
            except sa.exc.OperationalError:  # the duty has not yet created the product's tables
                runs = []
            if runs:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # a second (uncoalesced) run would land by now
        with engine.connect() as connection:
            count = connection.execute(sa.text("SELECT count(*) FROM duty_run WHERE duty = 'plan_meetings'")).scalar()
        engine.dispose()
        assert runs and count == 1
        next_run = scheduler.get_job("plan-meetings").next_run_time
        assert next_run > datetime.now(tz=AMSTERDAM) and next_run.weekday() == 0
    finally:
        scheduler.shutdown(wait=True)
