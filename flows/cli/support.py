"""``qualitycycle support``: the support the care group gives a practice, requested, planned, done or cancelled."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from domain.vocabulary import OUTCOME_NAMES_NL, Outcome, SupportKind
from flows.cli import common as cli
from flows.cli.common import app, out

if TYPE_CHECKING:
    from domain.support import SupportView

support_app = typer.Typer(cls=cli.ListingGroup, help="Ondersteuning van praktijken: aanvragen, plannen, afronden.")
app.add_typer(support_app, name="support")

IdArg = Annotated[str, typer.Argument(help="Het id van de ondersteuning (qualitycycle support list).")]


def _said(view: SupportView, what: str) -> None:
    out.print(f"ondersteuning {view.id} ({view.kind.value if view.kind else ''}, praktijk {view.agb_code}) {what}",
              markup=False)


@cli.command("request", group=support_app)
def request(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    kind: Annotated[SupportKind, typer.Option("--kind", help="coaching, lung_function, record_review, "
                                                             "recall_system of consultation.")],
    on: Annotated[str, typer.Option("--on", help="Dag van de aanvraag (JJJJ-MM-DD).")],
    agreement: Annotated[str | None, typer.Option("--agreement", help="Id van de afspraak die zij opvolgt.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Toelichting.")] = None,
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg een vraag om ondersteuning vast; toont het id."""
    from flows.services.support import request_support

    view = request_support(cli.services(), cli.agb_code(agb), kind, cli.day(on, "--on"), cli.moment(now),
                           cli.actor(actor), agreement=agreement, note=note)
    _said(view, f"gevraagd op {view.requested_on}")
    out.print(view.id)


@cli.command("plan", group=support_app)
def plan(
    key: IdArg, on: Annotated[str, typer.Option("--on", help="Geplande dag (JJJJ-MM-DD).")],
    by: Annotated[str | None, typer.Option("--by", help="Wie het geeft.")] = None,
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Plan gevraagde ondersteuning op een dag (opnieuw, als zij verschuift)."""
    from flows.services.support import plan_support

    view = plan_support(cli.services(), key, cli.day(on, "--on"), cli.moment(now), cli.actor(actor), by=by)
    _said(view, f"gepland op {view.planned_on}" + (f" door {view.by}" if view.by else ""))


@cli.command("done", group=support_app)
def done(
    key: IdArg, on: Annotated[str, typer.Option("--on", help="Dag waarop zij is gegeven (JJJJ-MM-DD).")],
    half_days: Annotated[float | None, typer.Option("--half-days", min=0, max=200, help="Aantal dagdelen.")] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="Wat het opleverde.")] = None,
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg vast dat geplande ondersteuning is gegeven."""
    from flows.services.queries import agreements
    from flows.services.support import complete_support

    services = cli.services()
    view = complete_support(services, key, cli.day(on, "--on"), cli.moment(now), cli.actor(actor),
                            half_days=half_days, outcome=outcome)
    _said(view, f"gegeven op {view.done_on}")
    if view.agreement is not None:  # proposed for the agreement's evaluation at the next conversation
        for a in agreements(services, view.agb_code, open_only=True):
            if a.id == view.agreement and a.proposed_outcome:
                out.print(f"  afspraak {a.id} voorgesteld voor evaluatie in het volgende gesprek: "
                          f"{OUTCOME_NAMES_NL[Outcome(a.proposed_outcome)]}", markup=False)


@cli.command("cancel", group=support_app)
def cancel(
    key: IdArg, reason: Annotated[str, typer.Option("--reason", help="Waarom zij vervalt.")],
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Laat gevraagde of geplande ondersteuning vervallen, met de reden."""
    from flows.services.support import cancel_support

    view = cancel_support(cli.services(), key, reason, cli.moment(now), cli.actor(actor))
    _said(view, "vervallen")


def _as_json(view: SupportView) -> dict[str, Any]:
    return {"id": view.id, "agb_code": view.agb_code, "kind": view.kind.value if view.kind else None,
            "status": view.status.value, "requested_on": str(view.requested_on) if view.requested_on else None,
            "planned_on": str(view.planned_on) if view.planned_on else None,
            "done_on": str(view.done_on) if view.done_on else None, "half_days": view.half_days, "by": view.by,
            "agreement": view.agreement, "outcome": view.outcome}


@cli.command("list", group=support_app)
def listed(
    agb: Annotated[str | None, typer.Argument(help="AGB-code; zonder: alle praktijken.")] = None,
    as_json: cli.JsonOption = False,
) -> None:
    """De ondersteuning per praktijk: wat is gevraagd, gepland, gegeven of vervallen."""
    from domain.support import SUPPORT_STATE_NAMES_NL
    from domain.vocabulary import SUPPORT_NAMES_NL
    from flows.services.support import supports

    found = supports(cli.services(), cli.agb_code(agb) if agb else None)
    if as_json:
        typer.echo(json.dumps([_as_json(v) for v in found], ensure_ascii=False, indent=2))
        return
    table = Table(title="Ondersteuning")
    for column in ("Id", "Praktijk", "Soort", "Stand", "Gevraagd", "Gepland", "Gegeven", "Dagdelen", "Afspraak"):
        table.add_column(column, overflow="fold")
    for v in found:
        table.add_row(v.id, v.agb_code, SUPPORT_NAMES_NL[v.kind] if v.kind else "", SUPPORT_STATE_NAMES_NL[v.status],
                      str(v.requested_on or ""), str(v.planned_on or ""), str(v.done_on or ""),
                      "" if v.half_days is None else f"{v.half_days:g}", v.agreement or "")
    out.print(table)
