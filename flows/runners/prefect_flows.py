"""Prefect flows: the declared duties wrapped for operations staff, who watch them in the Prefect UI.

Each flow adds only what operators need around the service functions of ``flows/services/`` (``sweep``,
``planning``, ``digest``, ``imports``, ...): a run name that says what and when (``sweep-due 2026-03-02
06:00``), tags, task retries, and artifacts that tell an officer in Dutch what the run did
(``flows/services/run_report.py``: a summary and a table). Practice work is split into batches, one task per
batch, never one task per practice.

Invariants:
- The moment a run works for is its parameter ``now`` or, when empty (every run the scheduler starts),
  the time the run was scheduled for, to the microsecond; only an ad-hoc run without either takes the
  clock. Both come in as Prefect's own datetime type and are converted once, by ``domain.clock``, into
  a plain datetime in Europe/Amsterdam (pendulum's arithmetic loses the zone).
- A run in which a practice, a batch, an extract or a message failed finishes the rest, publishes what
  it did, logs one Dutch line per failure and ends **Failed** with a message that counts them. A flow
  run is never retried as a whole (a retry would only repeat a practice's refusal and delay the Failed
  state); a task (one batch) is retried twice for a passing fault, and opening the database is tried
  three times over a minute.
- A database that cannot be reached fails the run with one Dutch line naming it, without a traceback;
  the next run catches up, because the duties work from state, not from the runs that happened.
- ``deployments()`` turns the one declaration in ``flows/schedule.py`` into Prefect deployments with
  ``Cron`` schedules in Europe/Amsterdam (never the UTC shorthands).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from prefect import Flow, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.schedules import Cron
from prefect.states import Failed

from domain.clock import AMSTERDAM, as_amsterdam, parse_moment
from flows.schedule import BY_NAME, SCHEDULE, TIMEZONE, ScheduledDuty, check_schedule
from flows.services import context, due_notices, duties, run_report, sweep
from flows.services.bootstrap import database_reachable, open_services
from flows.services.context import Services
from flows.services.duties import DutyReport
from flows.services.settings import PrefectServerMissingError, Settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TABLE_LIMIT = 500  # rows in the artifact's table; the summary counts everything
CONNECT_PAUSES: tuple[float, ...] = (15, 45)  # seconds between tries to reach the product's database


class DatabaseUnreachableError(RuntimeError):
    """The product's database did not answer; the run fails and the next one catches up."""


def _moment(now: datetime | str | None) -> datetime:
    """The moment a run works for, to the microsecond: its parameter ``now``, else the time the scheduler
    planned the run for (Prefect's own datetime type, converted at this edge), else the clock."""
    if isinstance(now, str):
        return parse_moment(now)
    if now is not None:
        return as_amsterdam(now)
    scheduled = flow_run.scheduled_start_time
    return as_amsterdam(scheduled if scheduled is not None else datetime.now(tz=AMSTERDAM))


def _run_name(duty: str) -> Callable[[], str]:
    def name() -> str:
        moment = _moment((flow_run.parameters or {}).get("now"))
        return f"{duty} {moment:%Y-%m-%d} {run_report.clock(moment)}"

    return name


def _where(settings: Settings) -> str:
    """The database's address as staff read it: no password, no connection options."""
    return sa.make_url(settings.db_url()).set(query={}).render_as_string(hide_password=True)


def _services() -> tuple[Services, Settings]:
    """Open the product's database, trying again after each pause of ``CONNECT_PAUSES`` (a database that
    restarts at 06:00 must not cost the care group a day's sweep: runs are not retried as a whole)."""
    settings = load_settings()
    run_report.log_operations_to(settings.home, stderr=True)  # the process log of serve or a worker
    for pause in (*CONNECT_PAUSES, None):
        try:
            services = open_services(settings)
            database_reachable(services)
            return services, settings
        except sa.exc.OperationalError as exc:
            if pause is None:
                raise DatabaseUnreachableError(
                    f"database {_where(settings)} is niet bereikbaar; deze run is mislukt en de volgende haalt het "
                    f"werk in ({run_report.first_line(exc.orig if exc.orig is not None else exc)})") from None
            get_run_logger().warning("database %s nog niet bereikbaar; over %s s opnieuw", _where(settings), pause)
            time.sleep(pause)
    raise AssertionError("unreachable")


def _publish(report: DutyReport) -> None:
    """Tell an officer in Dutch what the run did: a summary (with the table's lines, readable) and a table."""
    key = report.duty.replace("_", "-")
    name = run_report.title(report.duty)
    create_markdown_artifact(run_report.summary_markdown(report), key=f"{key}-samenvatting",
                             description=f"{name}: samenvatting")
    create_table_artifact(run_report.table_rows(report, TABLE_LIMIT), key=key,
                          description=f"{name}: wat deze run deed ({len(report.lines)} regels)")


def _name_the_run(services: Services, report: DutyReport) -> None:
    """Store this flow run's id with the duty's recorded run: the workspace's runs page links to the run in the
    Prefect UI. The work is done by then, so a failure here is a warning, not a failed run."""
    run_id = flow_run.id
    if not run_id:
        return
    try:
        duties.attach_flow_run(services, report, str(run_id))
    except Exception as exc:
        get_run_logger().warning("flow run %s niet bij de run van %s vastgelegd: %s", run_id, report.duty,
                                 run_report.unexpected(exc))


def _outcome(report: DutyReport) -> Any:
    """Publish, log one line (and one per failure) and end the run: Completed with the summary, or Failed
    with a message that counts the failures, after everything else was done."""
    _publish(report)
    logger = get_run_logger()
    logger.info(run_report.headline(report))
    for line in run_report.deferred_lines(report):
        logger.info(line)
    for line in run_report.failure_lines(report):
        logger.error(line)
    if report.failures:
        return _failed_state(f"{run_report.title(report.duty)}: {run_report.failure_message([report])}")
    return report.summary()


class RunFailedError(Exception):
    """A run that finished what it could and ends Failed: its failures were already told in Dutch."""


class _QuietDeliberateFailure(logging.Filter):
    """Drop Prefect's "Engine execution exited with unexpected exception" record, with its traceback, for a run
    these flows end Failed on purpose.

    In the process that runs a deployment's flow (``serve``, a worker), Prefect's engine turns a Failed state
    back into an exception and logs it with a traceback into the run's log, below the Dutch lines that already
    said what failed; an officer reading the log should not meet a traceback for a practice that failed. Any
    other exception keeps its record and traceback (for operations)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, RunFailedError)


class _TaskFailureInDutch(logging.Filter):
    """Tell a task's failed attempt in one Dutch line, and send its traceback to the operations log.

    Prefect's task engine logs each failed attempt of a task (a batch of practices, a duty) with the exception's
    English text and, after the last attempt, its traceback, on the flow run's Logs tab that officers read. The
    record is rewritten in place: the same moment and level, a Dutch line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Finished in state Failed("):  # the state's message: English, with SQL
            record.msg, record.args = "klaar: mislukt (zie de regel hierboven)", ()
            return True
        if not str(record.msg).startswith("Task run failed with"):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        exc = record.exc_info[1] if record.exc_info else next(
            (a for a in args if isinstance(a, BaseException)), None)
        if exc is None:
            return True
        if record.exc_info:
            run_report.operations.error("taak %s", getattr(record, "task_run_name", "?"), exc_info=record.exc_info)
        retry = len(args) == 5 and "Retry" in str(record.msg)
        record.msg = (f"poging mislukt ({run_report.dutch_error(exc)}); nieuwe poging {args[2]} van {args[3]}"
                      if retry else f"mislukt na de laatste poging: {run_report.dutch_error(exc)}")
        record.args, record.exc_info, record.exc_text = (), None, None
        return True


logging.getLogger("prefect.flow_runs").addFilter(_QuietDeliberateFailure())
logging.getLogger("prefect.task_runs").addFilter(_TaskFailureInDutch())


def _failed_state(message: str) -> Any:
    return Failed(message=message, data=RunFailedError(message))


def _failed(duty: str, why: str) -> Any:
    message = f"{run_report.title(duty)}: {why}"
    get_run_logger().error(message)
    return _failed_state(message)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30, task_run_name="praktijken {first} t/m {last}")
def sweep_batch_task(services: Services, now: datetime, codes: list[str], first: str, last: str,
                     basis: duties.ReviewBasis, full: bool = False) -> DutyReport:
    return sweep.sweep_batch(services, now, codes, basis=basis, full=full)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30, task_run_name="berichten klaarzetten")
def notices_task(services: Services, now: datetime, duty: str, chunk: int) -> DutyReport:
    report = DutyReport(duty, now)
    due_notices.queue_due_notices(services, now, sweep.SWEEP_KINDS, report, chunk=chunk)
    return report


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30, task_run_name="run vastleggen")
def record_task(services: Services, report: DutyReport, duty: str) -> DutyReport:
    return duties.finish_duty(services, report, context.ENGINE_ACTOR)


@flow(name="sweep-due", flow_run_name=_run_name("sweep-due"), log_prints=True)
def sweep_due_flow(now: datetime | None = None, batch_size: int = duties.DEFAULT_BATCH,
                   full: bool = False) -> Any:
    """Openstaande taken: trajecten bijwerken, plannen, uitnodigen, herinneren (in batches van praktijken).
    Met ``full``: elke praktijk opnieuw bekijken, niet alleen die waarbij iets veranderde."""
    moment = _moment(now)
    try:
        services, _ = _services()
    except DatabaseUnreachableError as exc:
        return _failed("sweep_due", str(exc))
    try:
        report = DutyReport("sweep_due", moment)
        try:
            services = services.in_force(moment)  # the review basis names the policy in force at the moment
            basis = duties.ReviewBasis.load(services)
            batches = sweep.review_batches(services, moment, basis, batch_size=batch_size, full=full)
        except Exception as exc:  # nothing could be looked at: say why, in Dutch
            return _failed("sweep_due", run_report.unexpected(exc))
        # only the practices whose facts, scores or deadlines moved; one task per batch of them, and a batch
        # that fails (after its retries) does not stop the others
        for codes in batches:
            try:
                report.merge(sweep_batch_task(services, moment, codes, codes[0], codes[-1], basis, full))
            except Exception as exc:
                report.failures.append((f"praktijken {codes[0]} t/m {codes[-1]}", run_report.unexpected(exc)))
        try:
            report.merge(notices_task(services, moment, "sweep_due", batch_size))
        except Exception as exc:
            report.failures.append(("berichten klaarzetten", run_report.unexpected(exc)))
        try:
            report = record_task(services, report, "sweep_due")
            _name_the_run(services, report)
        except Exception as exc:
            report.failures.append(("run vastleggen", run_report.unexpected(exc)))
        return _outcome(report)
    finally:
        services.db.dispose()


def _duty_flow(duty: ScheduledDuty) -> Any:
    """A flow that runs one declared duty as one task and publishes what it did."""
    code = duty.name.replace("-", "_")

    @task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30, name=duty.name, task_run_name=duty.title_nl)
    def run(services: Services, settings: Settings, now: datetime) -> DutyReport:
        return duty.run(services, now, settings)

    def body(now: datetime | None = None) -> Any:
        moment = _moment(now)
        try:
            services, settings = _services()
        except DatabaseUnreachableError as exc:
            return _failed(code, str(exc))
        try:
            try:
                report = run(services, settings, moment)
            except Exception as exc:
                return _failed(code, run_report.unexpected(exc))
            _name_the_run(services, report)
            return _outcome(report)
        finally:
            services.db.dispose()

    # the module-level name, also as __qualname__: Prefect's entrypoint ("flows/runners/prefect_flows.py:<qualname>")
    # must resolve to that name when ``serve`` loads the flow in a run's subprocess
    body.__name__ = body.__qualname__ = code + "_flow"
    body.__doc__ = duty.description_nl
    return flow(name=duty.name, flow_run_name=_run_name(duty.name), log_prints=True,
                description=duty.description_nl)(body)


recalculate_indicators_flow = _duty_flow(BY_NAME["recalculate-indicators"])
plan_meetings_flow = _duty_flow(BY_NAME["plan-meetings"])
refresh_kits_flow = _duty_flow(BY_NAME["refresh-kits"])
board_digest_flow = _duty_flow(BY_NAME["board-digest"])
dispatch_outbox_flow = _duty_flow(BY_NAME["dispatch-outbox"])

FLOWS: dict[str, Any] = {
    "recalculate-indicators": recalculate_indicators_flow,
    "sweep-due": sweep_due_flow,
    "plan-meetings": plan_meetings_flow,
    "refresh-kits": refresh_kits_flow,
    "board-digest": board_digest_flow,
    "dispatch-outbox": dispatch_outbox_flow,
}
ENTRYPOINTS = {name: f"flows/runners/prefect_flows.py:{f.fn.__name__}" for name, f in FLOWS.items()}


def require_server() -> str:
    """The Prefect API this process talks to, or a refusal: without ``PREFECT_API_URL`` Prefect quietly starts
    a temporary server of its own, registers everything there and never plans a run (LIBRARY-NOTES)."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise PrefectServerMissingError(
            "PREFECT_API_URL is niet gezet: zonder Prefect-server wordt niets gepland (Prefect zou een tijdelijke "
            "server starten die geen runs plant). Start de server en zet bijvoorbeeld "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (docs/prefect.md, stap 1)")
    return str(url)


def deployments(paused: bool = False) -> list[Any]:
    """The declared schedule as Prefect deployments (served by this process: ``qualitycycle serve``)."""
    check_schedule()
    return [FLOWS[d.name].to_deployment(
        name=d.name, schedules=[Cron(d.cron, timezone=TIMEZONE)], tags=["qualitycycle", *d.tags],
        description=d.description_nl, paused=paused) for d in SCHEDULE]


def serve_deployments(limit: int | None = None) -> None:
    """Register the deployments with the Prefect server (``PREFECT_API_URL``) and run what it schedules."""
    from prefect import serve

    require_server()
    serve(*deployments(), limit=limit)


def deploy_to_pool(pool: str, source: Path = PROJECT_ROOT) -> list[str]:
    """Register the deployments on a work pool (``process`` type), so workers on several machines
    share the runs; the code is read from ``source`` (a checkout every worker can reach)."""
    from prefect import deploy

    require_server()
    check_schedule()
    items: list[Any] = []
    for d in SCHEDULE:
        remote: Any = Flow.from_source(source=str(source), entrypoint=ENTRYPOINTS[d.name])
        items.append(remote.to_deployment(
            name=d.name, schedules=[Cron(d.cron, timezone=TIMEZONE)], tags=["qualitycycle", *d.tags],
            description=d.description_nl))
    ids: Any = deploy(*items, work_pool_name=pool, build=False, push=False, print_next_steps_message=False)
    return [str(i) for i in ids]


def run_worker(pool: str, *, name: str | None = None, limit: int | None = None) -> None:
    """A process worker for ``pool`` that stops cleanly (``qualitycycle worker``).

    ``prefect worker start`` 3.9 ignores a first SIGTERM (its handler turns it into a SIGINT that the worker
    never acts on; measured: still running after 40 s) and only a second one ends it, with SIGKILL. Here the
    first SIGTERM or Ctrl-C stops taking new runs and lets the runs under way finish (each is its own
    process); a second one stops at once (a run cut off is completed by the next run: the duties work from
    state)."""
    import asyncio
    import contextlib
    import signal

    from prefect.workers.process import ProcessWorker

    require_server()

    class StoppableWorker(ProcessWorker):
        stopping = False
        running = 0

        async def get_and_submit_flow_runs(self) -> list[Any]:
            return [] if self.stopping else await super().get_and_submit_flow_runs()

        async def run(self, flow_run: Any, configuration: Any, task_status: Any = None) -> Any:
            self.running += 1
            try:
                return await super().run(flow_run, configuration, task_status)
            finally:
                self.running -= 1

    async def main() -> None:
        worker = StoppableWorker(work_pool_name=pool, name=name, limit=limit)
        work = asyncio.ensure_future(worker.start(printer=lambda *a, **k: print(*a, flush=True)))
        signals = 0
        asked = asyncio.Event()

        def ask_to_stop() -> None:
            nonlocal signals
            signals += 1
            asked.set()
            if signals > 1:
                print("tweede stopsignaal: worker stopt nu", flush=True)
                work.cancel()

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, ask_to_stop)
        stopper = asyncio.ensure_future(asked.wait())
        await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            worker.stopping = True
            print(f"worker stopt: neemt geen nieuwe runs meer aan; wacht op {worker.running} lopende run(s) "
                  "(nog een stopsignaal: nu stoppen)", flush=True)
            # a run claimed but not yet started (still being submitted) counts as under way too
            while (worker.running or worker._submitting_flow_run_ids) and not work.done():
                await asyncio.sleep(0.2)
            work.cancel()
        stopper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work
        print("worker gestopt", flush=True)

    asyncio.run(main())
