"""``qualitycycle import-courses``, ``courses``, ``training``: the course catalogue and who is current, due or
overdue on the mandatory courses (seed section 4, "Scholing")."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from flows.cli import common as cli
from flows.cli.common import out


@cli.command("import-courses")
def import_courses(file: cli.FileArg, now: cli.NowOption = None, actor: cli.ActorOption = None) -> None:
    """Lees de scholingscatalogus in (CSV/XLSX: code, name, kind, roles, every_months; optioneel first_within_months,
    url): het bestand is het hele aanbod; de verplichte scholingen worden bij de volgende ronde per persoon gepland."""
    from flows.services.training import import_courses as store_courses

    courses = cli.files.parse_courses(file)
    count = store_courses(cli.services(), courses, cli.moment(now), cli.actor(actor))
    mandatory = sum(1 for c in courses if c.mandatory)
    out.print(f"scholingscatalogus ingelezen: {count} scholing(en), waarvan {mandatory} verplicht", markup=False)


@cli.command("courses")
def courses(as_json: cli.JsonOption = False) -> None:
    """Toon de scholingscatalogus: verplichte scholingen en het aanbod aan basis-, start- en verdiepingsscholingen."""
    from flows.services.training import course_catalogue

    catalogue = course_catalogue(cli.services())
    if as_json:
        typer.echo(json.dumps({"shipped": catalogue.shipped, "courses": [
            c.model_dump(mode="json") | {"roles": sorted(r.value for r in c.roles)} for c in catalogue.courses]},
            ensure_ascii=False, indent=2))
        return
    table = Table(title="Scholingscatalogus" + (" (meegeleverd; nog niet ingelezen)" if catalogue.shipped else ""))
    for column in ("Code", "Naam", "Soort", "Rollen", "Elke (maanden)", "Adres"):
        table.add_column(column, overflow="fold")
    for c in catalogue.courses:
        table.add_row(c.code, c.name, c.kind_nl, ", ".join(sorted(r.value for r in c.roles)),
                      str(c.every_months or ""), c.url or "")
    out.print(table)


@cli.command()
def training(
    agb: Annotated[str | None, typer.Argument(help="AGB-code; zonder: alle praktijken.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Alleen wie over tijd is.")] = False,
    on: Annotated[str | None, typer.Option("--on", help="De stand op die dag (standaard: vandaag).")] = None,
    as_json: cli.JsonOption = False,
) -> None:
    """Scholing per praktijk en rol: wie is bij, wie is aan de beurt, wie is over tijd met een verplichte scholing,
    en wie welke basis-, start- of verdiepingsscholing volgde."""
    from flows.services.training import training as lines_of

    day = cli.day(on, "--on") if on else cli.moment(None).date()
    found = lines_of(cli.services(), day, cli.agb_code(agb) if agb else None, overdue_only=overdue)
    if as_json:
        typer.echo(json.dumps([{"agb_code": t.agb_code, "person": t.person, "role": t.role, "course": t.course,
                                "kind": t.kind, "status": t.status,
                                "due_on": t.due_on.isoformat() if t.due_on else None,
                                "last_completed_on": t.last_completed_on} for t in found],
                              ensure_ascii=False, indent=2))
        return
    names = {"current": "bij", "due": "aan de beurt", "overdue": "over tijd", "followed": "gevolgd"}
    table = Table(title="Scholing")
    for column in ("Praktijk", "Rol", "Naam", "Scholing", "Uiterlijk", "Stand", "Laatst gevolgd"):
        table.add_column(column, overflow="fold")
    for t in found:
        table.add_row(t.agb_code, t.role, t.person, t.course_name or t.course,
                      t.due_on.isoformat() if t.due_on else "", names.get(t.status, t.status),
                      t.last_completed_on or "")
    out.print(table)
