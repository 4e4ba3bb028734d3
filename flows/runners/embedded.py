"""The embedded runner: one long-running process that fires the declared schedule with APScheduler 3.x.

For a care group without a Prefect server (``qualitycycle run`` without ``--now``). Jobs live in the
product's own database (``scheduler_job`` table, APScheduler's SQLAlchemy job store), so a restart
knows what was due while the machine was off.

Invariants (LIBRARY-NOTES, APScheduler):
- A restart keeps each stored job's next run time: a job whose declaration did not change is left as it
  is (re-adding it with ``replace_existing`` would compute its next run time from now and lose the run
  that fell due while the process was down); a changed declaration replaces the job, a duty no longer
  declared is removed.
- ``misfire_grace_time=None`` and ``coalesce=True``: a duty due while the process was down runs once
  when it comes back, however late, never once per missed time; ``max_instances=1``.
- Jobs reference their function as text (``flows.runners.embedded:run_duty``) with fixed ids, so a stored job
  survives a restart and a new release.
- Run exactly one runner per database: two schedulers on one job store run jobs more than once. The
  duties themselves are idempotent per moment, so even then nothing is sent twice.
- The moment a duty runs for is the time it starts, to the microsecond, converted once at this edge
  (``domain.clock.as_amsterdam``); the duties work from state (what is due on or before that day), so a
  late or coalesced run catches up on everything missed.
- Every run logs one line (duty, moment, counts, failures); each failure, and a run that could not
  finish, is logged as an error in Dutch, without a traceback (that goes to the operations log,
  ``$QC_HOME/logs/operations.log``).
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime
from types import FrameType

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler

from domain.clock import AMSTERDAM, as_amsterdam
from flows.schedule import BY_NAME, SCHEDULE, ScheduledDuty, check_schedule, trigger
from flows.services import run_report
from flows.services.bootstrap import open_services, scheduler_database
from flows.services.duties import DutyReport
from flows.services.settings import Settings, load_settings

log = logging.getLogger("qualitycycle.runner")
JOB_TABLE = "scheduler_job"
JOB_FUNCTION = "flows.runners.embedded:run_duty"


def execute_duty(name: str, moment: datetime, settings: Settings | None = None) -> DutyReport:
    """Run one declared duty for ``moment`` on the configured database and return what it did."""
    settings = settings or load_settings()
    services = open_services(settings)
    try:
        return BY_NAME[name].run(services, as_amsterdam(moment), settings)
    finally:
        services.db.dispose()


def run_duty(name: str, moment: datetime | None = None) -> DutyReport | None:
    """The job function: run one declared duty for ``moment`` (default: the clock as it starts) and log what
    it did. Never raises: a failure is logged loudly and the schedule goes on (the next run catches up)."""
    now = as_amsterdam(moment or datetime.now(tz=AMSTERDAM))
    try:
        report = execute_duty(name, now)
    except Exception as exc:
        log.error("%s %s: mislukt, niet afgemaakt: %s", name, f"{now:%Y-%m-%d %H:%M:%S}",
                  run_report.unexpected(exc, name))
        return None
    log_report(report)
    return report


def log_report(report: DutyReport) -> None:
    (log.error if report.failures else log.info)(run_report.headline(report))
    for line in run_report.deferred_lines(report):
        log.info("  %s", line)
    for line in run_report.failure_lines(report):
        log.error("  %s", line)


def _same(job: object, duty: ScheduledDuty) -> bool:
    """Whether a stored job is still the declared one (then its next run time is kept)."""
    declared = trigger(duty)
    stored = getattr(job, "trigger", None)
    return (getattr(job, "func_ref", None) == JOB_FUNCTION and tuple(getattr(job, "args", ())) == (duty.name,)
            and str(stored) == str(declared) and str(getattr(stored, "timezone", "")) == str(declared.timezone))


class _Scheduler(BackgroundScheduler):
    """APScheduler 3.11 whose loop does not touch the jobs once stopped.

    On ``shutdown`` the library wakes its loop, which runs ``_process_jobs`` once more with the state
    ``STOPPED`` (it skips only ``PAUSED``): a job due at that moment cannot be submitted any more ("cannot
    schedule new futures after shutdown"), yet its stored next run time is moved on, and the run is lost
    to the next start. A test stops a runner with a missed duty and finds it still due at the restart."""

    def _process_jobs(self) -> float | None:
        # under the job stores' lock (re-entrant; the library's pass takes it again), which ``shutdown`` holds
        # while it stops the executors after setting STOPPED: a pass that began before cannot outlive them
        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                return None
            wait: float | None = super()._process_jobs()
            return wait


def build_scheduler(settings: Settings) -> BaseScheduler:
    """A started, paused scheduler whose stored jobs match the declared schedule: call ``resume()`` to run.

    Jobs the declaration did not change keep their stored next run time, so a duty that fell due while
    the process was down runs once on ``resume()``."""
    check_schedule()
    # the product's own engine: on SQLite the same WAL mode and busy timeout as every other connection to the
    # file (a plain engine held locks in the rollback-journal mode that made the duties' connections fail)
    store = SQLAlchemyJobStore(engine=scheduler_database(settings), tablename=JOB_TABLE)
    scheduler = _Scheduler(jobstores={"default": store}, timezone=AMSTERDAM,
                                    job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    scheduler.start(paused=True)  # loads the stored jobs; nothing runs until resume()
    declared = {d.name: d for d in SCHEDULE}
    for job in scheduler.get_jobs():
        if job.id not in declared:
            log.info("taak %s staat niet meer in het rooster en is verwijderd", job.id)
            scheduler.remove_job(job.id)
    for duty in SCHEDULE:
        job = scheduler.get_job(duty.name)
        if job is not None and _same(job, duty):
            if job.name != duty.title_nl:
                scheduler.modify_job(duty.name, name=duty.title_nl)
            continue
        scheduler.add_job(JOB_FUNCTION, trigger(duty), args=[duty.name], id=duty.name, name=duty.title_nl,
                          replace_existing=True)
    return scheduler


def configure_logging() -> None:
    """One line per record on standard error, with the time; APScheduler's own chatter only when it warns."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger("qualitycycle")
    if not root.handlers:
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def serve_embedded(settings: Settings | None = None, stop: threading.Event | None = None) -> None:
    """Run the schedule until interrupted (Ctrl-C, SIGTERM, or ``stop`` set); a duty running then finishes."""
    configure_logging()
    settings = settings or load_settings()
    run_report.log_operations_to(settings.home, stderr=True)
    stop = stop or threading.Event()
    scheduler = build_scheduler(settings)
    for job in scheduler.get_jobs():
        log.info("%s: volgende run %s", job.id, f"{job.next_run_time:%Y-%m-%d %H:%M}" if job.next_run_time else "-")

    def ask_to_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, ask_to_stop)
    scheduler.resume()
    try:
        while not stop.wait(1.0):  # a timed wait, so the signal handlers run promptly
            pass
    finally:
        log.info("ingebouwde planner stopt; een lopende taak wordt afgemaakt")
        scheduler.shutdown(wait=True)
