"""Commands of the schedule and its duties: run it (once or on and on), plan, show the duties, record a kit
refreshed or a course completed, the runs, and Prefect's serve, deploy and worker."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from domain.vocabulary import STATE_NAMES_NL
from flows.cli import common as cli
from flows.cli.common import config, err, inputs, out, queries

STATUS_NL = {"open": "open", "done": "afgerond", "cancelled": "vervallen"}


def _print_duty(report: Any) -> None:
    from flows.services import run_report

    out.print(run_report.headline(report), markup=False)
    for t in report.transitions:
        states = STATE_NAMES_NL
        out.print(f"  {t.agb_code} {t.name}: {states[t.from_state]} -> {states[t.to_state]} "
                  f"({t.trigger.value}) {t.summary}", markup=False)
    for line in run_report.deferred_lines(report):
        out.print(f"  {line}", markup=False)
    for line in run_report.failure_lines(report):
        err.print(f"  {line}", markup=False)


@cli.command()
def run(
    now: Annotated[str | None, typer.Option(
        "--now", help="Voer elke geplande taak eenmaal uit voor dit moment (Europe/Amsterdam) en stop. "
        "Zonder --now: blijf draaien en voer het rooster uit (ingebouwde planner, zonder Prefect-server).")] = None,
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Alleen deze taak (herhaalbaar): recalculate-indicators, sweep-due, plan-meetings, "
        "refresh-kits, board-digest of dispatch-outbox.")] = None,
) -> None:
    """Voer het rooster van de zorggroep uit: eenmaal voor een moment (--now), of doorlopend."""
    from flows.schedule import BY_NAME, run_all

    unknown = [name for name in only or [] if name not in BY_NAME]
    if only and now is None:
        raise cli.CliInputError("--only werkt alleen samen met --now "
                                "(de ingebouwde planner voert het hele rooster uit)")
    if unknown:
        raise cli.CliInputError(f"onbekende taak {unknown[0]!r}; bekend zijn: {', '.join(BY_NAME)}")
    if now is None:
        from flows.runners.embedded import JOB_TABLE, serve_embedded

        settings = config.load_settings()
        out.print(f"ingebouwde planner gestart (taken in tabel {JOB_TABLE} van de eigen database); "
                  "stoppen met Ctrl-C of SIGTERM", markup=False)
        for name, duty in BY_NAME.items():
            out.print(f"  {name}: '{duty.cron}' (Europe/Amsterdam) {duty.title_nl}", markup=False)
        serve_embedded(settings)
        out.print("ingebouwde planner gestopt", markup=False)
        return
    moment = cli.moment(now)
    settings = config.load_settings()
    services = cli.services()
    from flows.services.run_report import log_operations_to

    log_operations_to(settings.home)  # tracebacks of unexpected failures, for whoever maintains the product
    reports = run_all(services, moment, settings, tuple(only) if only else None)
    for report in reports:
        _print_duty(report)
    if any(r.failures for r in reports):
        from flows.services import run_report

        err.print(f"mislukt: {run_report.failure_message(reports)}", markup=False)
        raise typer.Exit(1)


@cli.command()
def plan(
    now: cli.NowOption = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Waarom opnieuw gepland wordt (bijv. "
                                                                "'sluitingsdag 24 december toegevoegd').")] = None,
    actor: cli.ActorOption = None,
) -> None:
    """Plan alle taken van de praktijken (opnieuw), bijvoorbeeld na een wijziging van kalender of beleid."""
    from flows.services.planning import plan_obligations

    _print_duty(plan_obligations(cli.services(), cli.moment(now), actor=cli.actor(actor), reason=reason))


@cli.command()
def obligations(
    agb: Annotated[str | None, typer.Argument(help="AGB-code; zonder: alle praktijken en de overleggen.")] = None,
    status_filter: Annotated[str | None, typer.Option("--status", help="open, done of cancelled.")] = "open",
    history_of: Annotated[str | None, typer.Option("--changes", help="Toon de wijzigingen van deze taak (sleutel).")]
    = None,
    as_json: cli.JsonOption = False,
) -> None:
    """Toon de taken (gesprekken, overleggen, koffers, scholing) met hun uiterste datum."""
    from domain.obligations import OBLIGATION_NAMES_NL, ObligationKind

    services = cli.services()
    if history_of is not None:
        logged = queries.obligation_changes(services, history_of)
        if as_json:
            out.print(json.dumps([{"at": c.at.isoformat(), "change": c.change, "old": c.old, "new": c.new,
                                   "reason": c.reason, "actor": c.actor} for c in logged], ensure_ascii=False))
            return
        for c in logged:
            out.print(f"{cli.short(c.at)} {c.change}: {c.reason} ({c.actor})", markup=False)
        return
    found = queries.obligations(services, agb_code=agb, status=status_filter or None)
    if as_json:
        out.print(json.dumps([{"key": r.key, "kind": r.kind, "agb_code": r.agb_code, "subject": r.subject,
                               "anchor_on": r.anchor_on.isoformat(), "due_on": r.due_on.isoformat(),
                               "planned_on": r.planned_on.isoformat() if r.planned_on else None,
                               "status": r.status, "notices_done": r.notices_done,
                               "next_notice_on": r.next_notice_on.isoformat() if r.next_notice_on else None,
                               "close_reason": r.close_reason} for r in found], ensure_ascii=False))
        return
    table = Table(title="Taken")
    for column in ("taak", "praktijk", "onderwerp", "uiterlijk", "gepland op", "status", "berichten", "sleutel"):
        table.add_column(column)
    for r in found:
        table.add_row(OBLIGATION_NAMES_NL[ObligationKind(r.kind)], r.agb_code or "zorggroep", r.subject,
                      r.due_on.isoformat(), r.planned_on.isoformat() if r.planned_on else "",
                      STATUS_NL.get(r.status, r.status), ", ".join(r.notices_done), r.key)
    out.print(table)


@cli.command("record-kit-refresh")
def record_kit_refresh(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    kit: Annotated[str, typer.Argument(help="inhalation (inhalatie) of insulin (insuline).")],
    on: Annotated[str, typer.Option("--on", help="Datum van actualisatie (JJJJ-MM-DD).")],
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg vast dat een instructiekoffer van een praktijk is geactualiseerd."""
    from domain.obligations import KitKind
    from flows.services.kits_and_courses import record_kit_refresh as record

    aliases = {"inhalatie": "inhalation", "insuline": "insulin"}
    try:
        kind = KitKind(aliases.get(kit, kit))
    except ValueError:
        raise cli.CliInputError(f"onbekende koffer {kit!r}: gebruik inhalation of insulin") from None
    new = record(cli.services(), cli.agb_code(agb), kind, cli.day(on, "--on"), cli.moment(now),
                 cli.actor(actor))
    out.print(f"koffer {kind.value} van {agb} geactualiseerd op {on}" + ("" if new else " (was al vastgelegd)"))


@cli.command("record-training")
def record_training(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    person: Annotated[str, typer.Argument(help="Naam zoals in het register.")],
    course: Annotated[str, typer.Argument(help="Code van de scholing, bijv. caspir of langerhans.")],
    on: Annotated[str, typer.Option("--on", help="Datum waarop de scholing is gevolgd (JJJJ-MM-DD).")],
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg vast dat iemand een scholing uit de catalogus heeft gevolgd (een verplichte: tot de volgende keer bij)."""
    from flows.services.kits_and_courses import record_course_completion

    person = inputs.checked(inputs.check_name, person, "PERSON (naam)")
    new = record_course_completion(cli.services(), cli.agb_code(agb), person, course, cli.day(on, "--on"),
                                   cli.moment(now), cli.actor(actor))
    out.print(f"scholing {course} van {person} ({agb}) vastgelegd op {on}" + ("" if new else " (was al vastgelegd)"))


@cli.command()
def runs(duty: Annotated[str | None, typer.Argument(help="Bijv. sweep_due.")] = None, as_json: cli.JsonOption = False
         ) -> None:
    """Toon de laatste runs van de taken en wat ze deden."""
    rows = queries.duty_runs(cli.services(), duty)
    if as_json:
        out.print(json.dumps([r.summary for r in rows], ensure_ascii=False))
        return
    from flows.services.run_report import title

    for r in rows:
        sm = r.summary
        out.print(f"{cli.short(r.moment)} {title(r.duty)}: {sm.get('practices', 0)} praktijken, {sm.get('planned', 0)} "
                  f"gepland, {sm.get('messages', 0)} berichten, {len(sm.get('failures', []))} fouten ({r.actor})",
                  markup=False)


@cli.command()
def serve(
    limit: Annotated[int | None, typer.Option("--limit", help="Hoeveel runs tegelijk.")] = None,
) -> None:
    """Registreer het rooster als Prefect-deployments bij de Prefect-server (PREFECT_API_URL) en voer uit."""
    from flows.runners.prefect_flows import serve_deployments

    serve_deployments(limit=limit)


@cli.command()
def deploy(
    pool: Annotated[str, typer.Option("--pool", help="Naam van de Prefect work pool (type process).")],
) -> None:
    """Registreer het rooster als deployments op een Prefect work pool, voor workers op meerdere machines."""
    from flows.runners.prefect_flows import deploy_to_pool

    ids = deploy_to_pool(pool)
    out.print(f"{len(ids)} deployments geregistreerd op work pool {pool}; start workers met "
              f"'qualitycycle worker --pool {pool}'", markup=False)


@cli.command()
def worker(
    pool: Annotated[str, typer.Option("--pool", help="Naam van de Prefect work pool (type process).")],
    name: Annotated[str | None, typer.Option("--name", help="Naam van deze worker in de Prefect-UI.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Hoeveel runs tegelijk.")] = None,
) -> None:
    """Voer de runs van een work pool uit; stopt netjes op SIGTERM of Ctrl-C (lopende runs maken af)."""
    from flows.runners.prefect_flows import run_worker

    run_worker(pool, name=name, limit=limit)
