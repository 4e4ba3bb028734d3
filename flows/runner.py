"""The embedded runner: one long-running process that fires the declared schedule with APScheduler 3.x.

For a care group without a Prefect server (``qualitycycle run`` without ``--now``). Jobs live in the
product's own database (``scheduler_job`` table, APScheduler's SQLAlchemy job store), so a restart
knows what was due while the machine was off.

Invariants (LIBRARY-NOTES, APScheduler):
- ``misfire_grace_time=None`` and ``coalesce=True``: a duty due while the process was down runs once
  when it comes back, however late, never once per missed time; ``max_instances=1``.
- Jobs reference their function as text (``flows.runner:run_duty``) with fixed ids and
  ``replace_existing=True``, so a restart replaces rather than duplicates them, and a schedule change in
  ``flows/schedule.py`` takes effect at the next start.
- Run exactly one runner per database: two schedulers on one job store run jobs more than once. The
  duties themselves are idempotent per moment, so even then nothing is sent twice.
- The moment a duty runs for is the time it starts, to the minute; the duties work from state (what is
  due on or before that day), so a late or coalesced run catches up on everything missed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from domain.clock import AMSTERDAM
from flows.duties import DutyReport
from flows.engine import Services
from flows.schedule import BY_NAME, SCHEDULE, check_schedule, trigger
from flows.settings import Settings, load_settings
from storage.database import create_db_engine

log = logging.getLogger("qualitycycle.runner")
JOB_TABLE = "scheduler_job"


def open_services(settings: Settings) -> Services:
    from flows.engine import ensure_default_catalogue

    services = Services.open(settings.db_url(), settings.load_policy(), settings.calendar())
    ensure_default_catalogue(services)
    return services


def run_duty(name: str, moment: datetime | None = None) -> DutyReport:
    """Run one declared duty for ``moment`` (default: now, to the minute). The job function."""
    settings = load_settings()
    now = (moment or datetime.now(tz=AMSTERDAM)).astimezone(AMSTERDAM).replace(second=0, microsecond=0)
    services = open_services(settings)
    try:
        report = BY_NAME[name].run(services, now, settings)
    finally:
        services.db.dispose()
    log.info("%s %s: %s", name, now.isoformat(timespec="minutes"), report.summary())
    return report


def build_scheduler(settings: Settings, *, blocking: bool = True) -> BaseScheduler:
    """A scheduler with every declared duty as a persistent cron job in the product's database."""
    check_schedule()
    # the product's own engine: on SQLite the same WAL mode and busy timeout as every other connection to the
    # file (a plain engine held locks in the rollback-journal mode that made the duties' connections fail)
    store = SQLAlchemyJobStore(engine=create_db_engine(settings.db_url()), tablename=JOB_TABLE)
    kind = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = kind(jobstores={"default": store}, timezone=AMSTERDAM,
                     job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    for duty in SCHEDULE:
        scheduler.add_job("flows.runner:run_duty", trigger(duty), args=[duty.name], id=duty.name,
                          name=duty.title_nl, replace_existing=True)
    return scheduler


def _log_outcome(event: JobExecutionEvent) -> None:
    if event.exception is not None:
        log.error("taak %s mislukt: %s", event.job_id, event.exception)


def serve_embedded(settings: Settings | None = None) -> None:
    """Block and run the schedule until interrupted (Ctrl-C)."""
    scheduler = build_scheduler(settings or load_settings(), blocking=True)
    scheduler.add_listener(_log_outcome, EVENT_JOB_ERROR | EVENT_JOB_EXECUTED)
    scheduler.start()
