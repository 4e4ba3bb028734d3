"""``qualitycycle publish-cards``, ``cards-current``, ``cards``, ``import-leaflets``, ``leaflets``: the instruction
cards of the quality folder and the patient leaflets (seed section 3)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from flows.cli import common as cli
from flows.cli.common import out


@cli.command("publish-cards")
def publish_cards(
    version: Annotated[str, typer.Argument(help="Versie van de instructiekaarten, bijvoorbeeld 2026.1.")],
    on: Annotated[str, typer.Option("--on", help="Dag van publicatie (JJJJ-MM-DD).")],
    note: Annotated[str | None, typer.Option("--note", help="Wat er is veranderd.")] = None,
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg een nieuwe set instructiekaarten vast; elke praktijk krijgt eenmaal bericht."""
    from flows.services.cards import publish_cards as publish

    done = publish(cli.services(), version, cli.day(on, "--on"), cli.moment(now), cli.actor(actor), note=note)
    c = done.card_set
    said = "vastgelegd" if done.new else "was al vastgelegd"
    out.print(f"instructiekaarten versie {c.version} (gepubliceerd op {c.published_on.isoformat()}) {said}; "
              f"{done.queued} bericht(en) aan praktijken klaargezet; kwaliteitsmap actueel uiterlijk op "
              f"{done.current_by.isoformat()}", markup=False)


@cli.command("cards-current")
def cards_current(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    version: Annotated[str, typer.Option("--version", help="Versie waarmee de map is bijgewerkt.")],
    on: Annotated[str, typer.Option("--on", help="Dag waarop de map is bijgewerkt (JJJJ-MM-DD).")],
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg vast dat de kwaliteitsmap van een praktijk actueel is met een versie van de instructiekaarten."""
    from flows.services.cards import mark_cards_current

    new = mark_cards_current(cli.services(), cli.agb_code(agb), version, cli.day(on, "--on"), cli.moment(now),
                             cli.actor(actor))
    out.print(f"kwaliteitsmap van {agb} actueel met versie {version} sinds {on}"
              + ("" if new else " (was al vastgelegd)"), markup=False)


@cli.command("cards")
def cards(
    behind: Annotated[bool, typer.Option("--behind", help="Alleen de praktijken die achter zijn.")] = False,
    as_json: cli.JsonOption = False, now: cli.NowOption = None,
) -> None:
    """Per praktijk: de versie in de kwaliteitsmap, sinds wanneer, en sinds wanneer zij achter is."""
    from flows.services.cards import folders

    lines = folders(cli.services(), cli.moment(now).date(), behind_only=behind)
    if as_json:
        typer.echo(json.dumps([x.as_json() for x in lines], ensure_ascii=False, indent=2))
        return
    table = Table(title="Kwaliteitsmappen (instructiekaarten)")
    for column in ("AGB", "Praktijk", "Versie", "Actueel sinds", "Nieuwste", "Achter sinds"):
        table.add_column(column, overflow="fold")
    for x in lines:
        f = x.standing
        table.add_row(x.agb_code, x.name, f.version or "", str(f.current_on or ""), f.latest or "",
                      str(f.behind_since or ""))
    out.print(table)


@cli.command("import-leaflets")
def import_leaflets(file: cli.FileArg, now: cli.NowOption = None, actor: cli.ActorOption = None) -> None:
    """Importeer de patiëntenfolders (programme,title,url); het bestand is het hele register."""
    from flows.services.cards import import_leaflets as store_leaflets

    leaflets = cli.files.parse_leaflets(file)
    count = store_leaflets(cli.services(), leaflets, cli.moment(now), cli.actor(actor))
    out.print(f"patiëntenfolders: {count} ingelezen", markup=False)


@cli.command("leaflets")
def leaflets(as_json: cli.JsonOption = False) -> None:
    """De patiëntenfolders per zorgprogramma, met hun webadres."""
    from flows.services.cards import leaflets as register

    found = register(cli.services())
    if as_json:
        typer.echo(json.dumps([{"programme": x.programme.value, "title": x.title, "url": x.url} for x in found],
                              ensure_ascii=False, indent=2))
        return
    table = Table(title="Patiëntenfolders")
    for column in ("Programma", "Titel", "Webadres"):
        table.add_column(column, overflow="fold")
    for x in found:
        table.add_row(x.programme.value, x.title, x.url)
    out.print(table)
