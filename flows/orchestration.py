"""Prefect flows: the declared duties wrapped for operations staff, who watch them in the Prefect UI.

Each flow adds only what operators need around the service functions of ``flows/duties.py``: a run
name that says what and when (``sweep-due 2026-03-02 06:00``), tags, retries, and artifacts that tell
an officer in Dutch what the run did (a summary, and a table: practices planned, escalated, messages
queued, failures with reasons). Practice work is split into batches, one task per batch, never one
task per practice.

Invariants:
- The moment a run works for is its parameter ``now`` or, when empty, the time the run was scheduled
  for (so a retry of the same run works for the same moment and lands on the same rows); only when
  neither exists (an ad-hoc run) the clock at the edge.
- A database that cannot be reached fails the run with a Dutch message naming it; the next run
  catches up, because the duties work from state, not from the runs that happened.
- ``deployments()`` turns the one declaration in ``flows/schedule.py`` into Prefect deployments with
  ``Cron`` schedules in Europe/Amsterdam (never the UTC shorthands).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from prefect import Flow, flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.schedules import Cron

from domain.clock import AMSTERDAM, as_amsterdam
from flows import duties
from flows.duties import DutyReport
from flows.engine import Services
from flows.runner import open_services
from flows.schedule import BY_NAME, SCHEDULE, TIMEZONE, ScheduledDuty, check_schedule
from flows.settings import Settings, load_settings
from notifications.wording import date_nl

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TABLE_LIMIT = 500  # rows in the artifact's table; the summary counts everything


class DatabaseUnreachableError(RuntimeError):
    """The product's database did not answer; the run fails and the next one catches up."""


def _moment(now: datetime | None) -> datetime:
    if now is not None:
        return as_amsterdam(now).replace(second=0, microsecond=0)
    scheduled = flow_run.scheduled_start_time
    moment = scheduled if scheduled is not None else datetime.now(tz=AMSTERDAM)
    return as_amsterdam(moment).replace(second=0, microsecond=0)


def _run_name(duty: str) -> Callable[[], str]:
    def name() -> str:
        parameters = flow_run.parameters or {}
        given = parameters.get("now")
        moment = _moment(datetime.fromisoformat(given) if isinstance(given, str) else given)
        return f"{duty} {moment:%Y-%m-%d %H:%M}"

    return name


def _services() -> tuple[Services, Settings]:
    settings = load_settings()
    try:
        services = open_services(settings)
        with services.db.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        where = sa.make_url(settings.db_url()).render_as_string(hide_password=True)
        raise DatabaseUnreachableError(
            f"database {where} is niet bereikbaar; deze run is mislukt en de volgende haalt het werk in "
            f"({str(exc.orig).strip().splitlines()[0] if exc.orig else exc})") from exc
    return services, settings


def _publish(report: DutyReport, title: str) -> None:
    """Tell an officer in Dutch what the run did: a summary and a table."""
    key = report.duty.replace("_", "-")
    moment = f"{date_nl(report.moment, weekday=True)} {report.moment:%H:%M}"
    lines = [f"# {title}, {moment}", ""]
    if report.already_ran:
        lines += ["Dit moment was al eerder verwerkt: deze run heeft alleen afgemaakt wat nog openstond.", ""]
    lines += [
        "| | |", "|---|---|",
        f"| Praktijken | {report.practices} |",
        f"| Taken gepland | {report.planned} |",
        f"| Taken verplaatst | {report.rescheduled} |",
        f"| Taken afgerond | {report.done} |",
        f"| Taken vervallen | {report.cancelled} |",
        f"| Overgangen in trajecten | {len(report.transitions)} |",
        f"| Geëscaleerd naar het bestuur | {', '.join(report.escalated) or 'geen'} |",
        f"| Berichten klaargezet | {report.messages} |",
        f"| Fouten | {len(report.failures)} |",
    ]
    if report.queued:
        lines += ["", "Berichten per soort: " + ", ".join(f"{k}: {v}" for k, v in sorted(report.queued.items()))]
    if report.failures:
        lines += ["", "## Fouten", ""] + [f"- {what}: {why}" for what, why in report.failures]
    create_markdown_artifact("\n".join(lines), key=f"{key}-samenvatting", description=f"{title}: samenvatting")
    rows = report.lines[:TABLE_LIMIT] or [{"praktijk": "-", "wat": "niets te doen", "details": ""}]
    create_table_artifact(rows, key=key, description=f"{title}: wat deze run deed ({len(report.lines)} regels)")


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30, task_run_name="batch {first}-{last}")
def sweep_batch_task(services: Services, now: datetime, codes: list[str], first: str, last: str,
                     basis: duties.ReviewBasis, full: bool = False) -> DutyReport:
    return duties.sweep_batch(services, now, codes, basis=basis, full=full)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30, task_run_name="berichten {duty}")
def notices_task(services: Services, now: datetime, duty: str, chunk: int) -> DutyReport:
    report = DutyReport(duty, now)
    duties.queue_due_notices(services, now, duties.SWEEP_KINDS, report, chunk=chunk)
    return report


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30, task_run_name="record {duty}")
def record_task(services: Services, report: DutyReport, duty: str) -> DutyReport:
    return duties._finish(services, report, duties.ENGINE_ACTOR)


@flow(name="sweep-due", flow_run_name=_run_name("sweep-due"), retries=1, retry_delay_seconds=60, log_prints=True)
def sweep_due_flow(now: datetime | None = None, batch_size: int = duties.DEFAULT_BATCH,
                   full: bool = False) -> dict[str, Any]:
    """Openstaande taken: trajecten bijwerken, plannen, uitnodigen, herinneren (in batches van praktijken).
    Met ``full``: elke praktijk opnieuw bekijken, niet alleen die waarbij iets veranderde."""
    moment = _moment(now)
    services, _ = _services()
    try:
        report = DutyReport("sweep_due", moment)
        basis = duties.ReviewBasis.load(services)
        # only the practices whose facts, scores or deadlines moved; one task per batch of them
        for codes in duties.review_batches(services, moment, basis, batch_size=batch_size, full=full):
            report.merge(sweep_batch_task(services, moment, codes, codes[0], codes[-1], basis, full))
        report.merge(notices_task(services, moment, "sweep_due", batch_size))
        report = record_task(services, report, "sweep_due")
        _publish(report, BY_NAME["sweep-due"].title_nl)
        return report.summary()
    finally:
        services.db.dispose()


def _duty_flow(duty: ScheduledDuty) -> Any:
    """A flow that runs one declared duty as one task and publishes what it did."""

    @task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30, name=duty.name, task_run_name=duty.name)
    def run(services: Services, settings: Settings, now: datetime) -> DutyReport:
        return duty.run(services, now, settings)

    def body(now: datetime | None = None) -> dict[str, Any]:
        moment = _moment(now)
        services, settings = _services()
        try:
            report = run(services, settings, moment)
            _publish(report, duty.title_nl)
            if report.failures and duty.name == "dispatch-outbox":
                print(f"{len(report.failures)} bericht(en) definitief mislukt")
            return report.summary()
        finally:
            services.db.dispose()

    # the module-level name, also as __qualname__: Prefect's entrypoint ("flows/orchestration.py:<qualname>")
    # must resolve to that name when ``serve`` loads the flow in a run's subprocess
    body.__name__ = body.__qualname__ = duty.name.replace("-", "_") + "_flow"
    body.__doc__ = duty.description_nl
    return flow(name=duty.name, flow_run_name=_run_name(duty.name), retries=1, retry_delay_seconds=60,
                log_prints=True, description=duty.description_nl)(body)


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
ENTRYPOINTS = {name: f"flows/orchestration.py:{f.fn.__name__}" for name, f in FLOWS.items()}


def deployments(paused: bool = False) -> list[Any]:
    """The declared schedule as Prefect deployments (served by this process: ``qualitycycle serve``)."""
    check_schedule()
    return [FLOWS[d.name].to_deployment(
        name=d.name, schedules=[Cron(d.cron, timezone=TIMEZONE)], tags=["qualitycycle", *d.tags],
        description=d.description_nl, paused=paused) for d in SCHEDULE]


def serve_deployments(limit: int | None = None) -> None:
    """Register the deployments with the Prefect server (``PREFECT_API_URL``) and run what it schedules."""
    from prefect import serve

    serve(*deployments(), limit=limit)


def deploy_to_pool(pool: str, source: Path = PROJECT_ROOT) -> list[str]:
    """Register the deployments on a work pool (``process`` type), so workers on several machines
    share the runs; the code is read from ``source`` (a checkout every worker can reach)."""
    from prefect import deploy

    check_schedule()
    items: list[Any] = []
    for d in SCHEDULE:
        remote: Any = Flow.from_source(source=str(source), entrypoint=ENTRYPOINTS[d.name])
        items.append(remote.to_deployment(
            name=d.name, schedules=[Cron(d.cron, timezone=TIMEZONE)], tags=["qualitycycle", *d.tags],
            description=d.description_nl))
    ids: Any = deploy(*items, work_pool_name=pool, build=False, push=False, print_next_steps_message=False)
    return [str(i) for i in ids]
