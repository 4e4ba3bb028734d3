"""``qualitycycle mirror-meeting``: a GP group's mirror meeting, requested, held (with its accreditation), cancelled,
listed, and the pack its practices get."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from flows.cli import common as cli
from flows.cli.common import app, out

if TYPE_CHECKING:
    from domain.mirror_meetings import MirrorMeetingView

mirror_app = typer.Typer(cls=cli.ListingGroup, help="Spiegelbijeenkomsten van huisartsengroepen: aanvragen, "
                                                    "vastleggen, accrediteren.")
app.add_typer(mirror_app, name="mirror-meeting")

IdArg = Annotated[str, typer.Argument(help="Het id van de spiegelbijeenkomst (qualitycycle mirror-meeting).")]


class AccreditationChoice(StrEnum):  # the command line's choices; the domain's Accreditation is loaded lazily
    NONE = "none"
    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"


def _said(view: MirrorMeetingView, what: str) -> None:
    out.print(f"spiegelbijeenkomst {view.id} (huisartsengroep {view.gp_group}) {what}", markup=False)


@cli.command("request", group=mirror_app)
def request(
    gp_group: Annotated[str, typer.Argument(help="Code van de huisartsengroep.")],
    on: Annotated[str, typer.Option("--on", help="Dag van de aanvraag (JJJJ-MM-DD).")],
    by: Annotated[str | None, typer.Option("--by", help="Wie namens de huisartsengroep aanvraagt.")] = None,
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg de aanvraag van een spiegelbijeenkomst vast; zij wordt gepland en de praktijken worden uitgenodigd; toont
    het id."""
    from flows.services.mirror_meetings import request_mirror_meeting

    view = request_mirror_meeting(cli.services(), gp_group, cli.day(on, "--on"), cli.moment(now), cli.actor(actor),
                                  by=by)
    _said(view, f"aangevraagd op {view.requested_on}, gepland op {view.planned_on} (uiterlijk {view.due_on})")
    out.print(view.id)


@cli.command("held", group=mirror_app)
def held(
    key: IdArg, on: Annotated[str, typer.Option("--on", help="Dag waarop zij is gehouden (JJJJ-MM-DD).")],
    attendee: Annotated[list[str] | None, typer.Option("--attendee", help="ROL=NAAM, herhaalbaar.")] = None,
    accreditation: Annotated[AccreditationChoice, typer.Option(
        "--accreditation", help="none, requested, granted of refused.")] = AccreditationChoice.NONE,
    ekc: Annotated[str | None, typer.Option("--ekc", help="De EKC (standaard die van de huisartsengroep).")] = None,
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg vast dat een spiegelbijeenkomst is gehouden: wie er waren en of accreditatie is aangevraagd."""
    from domain.mirror_meetings import ACCREDITATION_NAMES_NL, Accreditation
    from flows.services.mirror_meetings import hold_mirror_meeting

    view = hold_mirror_meeting(cli.services(), key, cli.day(on, "--on"), cli.moment(now), cli.actor(actor),
                               attendees=cli.attendees(attendee or []),
                               accreditation=Accreditation(accreditation.value), ekc=ekc)
    _said(view, f"gehouden op {view.held_on}; accreditatie: {ACCREDITATION_NAMES_NL[view.accreditation]}"
          + (f" (EKC {view.ekc})" if view.ekc else ""))


@cli.command("accreditation", group=mirror_app)
def accreditation(
    key: IdArg,
    status: Annotated[AccreditationChoice, typer.Option("--status", help="requested, granted of refused.")],
    on: Annotated[str, typer.Option("--on", help="Dag van de aanvraag of het besluit (JJJJ-MM-DD).")],
    ekc: Annotated[str | None, typer.Option("--ekc", help="De EKC (standaard die van de huisartsengroep).")] = None,
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg de accreditatie van een gehouden spiegelbijeenkomst vast: aangevraagd, toegekend of afgewezen."""
    from domain.mirror_meetings import ACCREDITATION_NAMES_NL, Accreditation
    from flows.services.mirror_meetings import record_accreditation

    view = record_accreditation(cli.services(), key, Accreditation(status.value), cli.day(on, "--on"),
                                cli.moment(now), cli.actor(actor), ekc=ekc)
    _said(view, f"accreditatie {ACCREDITATION_NAMES_NL[view.accreditation]} op {view.accreditation_on}")


@cli.command("cancel", group=mirror_app)
def cancel(
    key: IdArg, reason: Annotated[str, typer.Option("--reason", help="Waarom zij niet doorgaat.")],
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Laat een aangevraagde spiegelbijeenkomst vervallen, met de reden."""
    from flows.services.mirror_meetings import cancel_mirror_meeting

    _said(cancel_mirror_meeting(cli.services(), key, reason, cli.moment(now), cli.actor(actor)), "vervallen")


def _as_json(view: MirrorMeetingView) -> dict[str, Any]:
    def day(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {"id": view.id, "gp_group": view.gp_group, "status": view.status.value,
            "requested_on": day(view.requested_on), "planned_on": day(view.planned_on), "due_on": day(view.due_on),
            "held_on": day(view.held_on), "by": view.by,
            "attendees": [{"role": role, "name": name} for role, name in view.attendees],
            "accreditation": view.accreditation.value, "accreditation_on": day(view.accreditation_on),
            "ekc": view.ekc}


@cli.command("list", group=mirror_app)
def listed(
    gp_group: Annotated[str | None, typer.Argument(help="Code van de huisartsengroep; zonder: alle.")] = None,
    as_json: cli.JsonOption = False,
) -> None:
    """De spiegelbijeenkomsten per huisartsengroep: aangevraagd, gepland, gehouden, accreditatie."""
    from domain.mirror_meetings import ACCREDITATION_NAMES_NL, MIRROR_STATE_NAMES_NL
    from flows.services.mirror_meetings import mirror_meetings

    found = mirror_meetings(cli.services(), gp_group)
    if as_json:
        typer.echo(json.dumps([_as_json(v) for v in found], ensure_ascii=False, indent=2))
        return
    table = Table(title="Spiegelbijeenkomsten")
    for column in ("Id", "Huisartsengroep", "Stand", "Aangevraagd", "Gepland", "Gehouden", "Aanwezig",
                   "Accreditatie", "EKC"):
        table.add_column(column, overflow="fold")
    for v in found:
        table.add_row(v.id, v.gp_group, MIRROR_STATE_NAMES_NL[v.status], str(v.requested_on or ""),
                      str(v.planned_on or ""), str(v.held_on or ""), str(len(v.attendees)) if v.held_on else "",
                      ACCREDITATION_NAMES_NL[v.accreditation], v.ekc or "")
    out.print(table)


@cli.command("pack", group=mirror_app)
def pack(
    gp_group: Annotated[str, typer.Argument(help="Code van de huisartsengroep.")],
    on: Annotated[str | None, typer.Option("--on", help="Met de cijfers bekend op die dag (standaard: vandaag).")]
    = None,
    as_json: cli.JsonOption = False,
) -> None:
    """Het spiegelpakket van een huisartsengroep: de belangrijkste indicatoren van haar praktijken naast elkaar."""
    from domain.vocabulary import percent_nl
    from flows.services.mirror_meetings import group_pack

    part = group_pack(cli.services(), gp_group, cli.day(on, "--on") if on else cli.moment(None).date())
    if as_json:
        typer.echo(json.dumps(part.model_dump(), ensure_ascii=False, indent=2))
        return
    out.print(f"Spiegelpakket huisartsengroep {gp_group}, periode tot {part.period_end or '-'}"
              + (" (geanonimiseerd)" if part.anonymised else ""), markup=False)
    for i in part.indicators:
        spread = (f"; zorggroep mediaan {percent_nl(i.spread.median)} (p10 {percent_nl(i.spread.p10)}, "
                  f"p90 {percent_nl(i.spread.p90)})") if i.spread else ""
        out.print(f"  {i.programme}/{i.indicator}: streefwaarde {percent_nl(i.target)}, landelijk "
                  f"{percent_nl(i.national_average)}{spread}", markup=False)
        for f in i.practices:
            figure = "geen cijfer" if f.score is None else f"{percent_nl(f.score)} ({f.numerator}/{f.denominator})"
            out.print(f"    {f.label}: {figure}" + (" te weinig patiënten" if f.small_numbers else ""), markup=False)
