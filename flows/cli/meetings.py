"""``qualitycycle meeting``: the POH and practice-manager meetings as they happen: topics on the agenda, moved,
held with who came and the minutes, and each practice's attendance per year."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli import common as cli
from flows.cli.common import app, out

meeting_app = typer.Typer(cls=cli.ListingGroup, help="POH-overleg en praktijkmanagersoverleg: agenda, verplaatsen, "
                                                     "vastleggen, aanwezigheid.")
app.add_typer(meeting_app, name="meeting")

KeyArg = Annotated[str, typer.Argument(help="Het overleg (qualitycycle meeting), bijv. poh_meeting:2026:2.")]


@cli.command("agenda", group=meeting_app)
def agenda(key: KeyArg, topic: Annotated[str, typer.Option("--topic", help="Een onderwerp voor de agenda.")],
           now: cli.NowOption = None, actor: cli.ActorOption = None) -> None:
    """Zet een onderwerp op de agenda van een overleg (het gaat mee met de uitnodiging)."""
    from flows.services.meetings import add_topic

    view = add_topic(cli.services(), key, topic, cli.moment(now), cli.actor(actor))
    out.print(f"overleg {key}: onderwerpen {'; '.join(view.topics)}", markup=False)


@cli.command("move", group=meeting_app)
def move(key: KeyArg, to: Annotated[str, typer.Option("--to", help="Nieuwe dag (JJJJ-MM-DD).")],
         reason: Annotated[str, typer.Option("--reason", help="Waarom het verplaatst.")],
         now: cli.NowOption = None, actor: cli.ActorOption = None) -> None:
    """Verplaats een gepland overleg; de genodigden krijgen de nieuwe dag (dezelfde agenda-afspraak)."""
    from flows.services.meetings import move_meeting

    view = move_meeting(cli.services(), key, cli.day(to, "--to"), reason, cli.moment(now), cli.actor(actor))
    out.print(f"overleg {key} verplaatst naar {view.moved_to}", markup=False)


@cli.command("held", group=meeting_app)
def held(key: KeyArg, on: Annotated[str, typer.Option("--on", help="Dag waarop het is gehouden (JJJJ-MM-DD).")],
         attended: Annotated[list[str] | None, typer.Option("--attended", help="AGB:NAAM, herhaalbaar.")] = None,
         minutes: Annotated[Path | None, typer.Option("--minutes", help="Het verslag (tekstbestand).")] = None,
         now: cli.NowOption = None, actor: cli.ActorOption = None) -> None:
    """Leg vast dat een overleg is gehouden: wie van welke praktijk er was, en het verslag."""
    from flows.services.meetings import hold_meeting

    who = []
    for value in attended or []:
        agb, sep, name = value.partition(":")
        if not sep or not name.strip():
            raise cli.CliInputError(f"--attended {value!r}: gebruik AGB:NAAM, bijvoorbeeld 01234567:'D. Mulder'")
        who.append((cli.agb_code(agb.strip()), name.strip()))
    text = cli.read_text(minutes, "--minutes") if minutes else None
    view = hold_meeting(cli.services(), key, cli.day(on, "--on"), who, cli.moment(now), cli.actor(actor),
                        minutes=text)
    out.print(f"overleg {key} gehouden op {view.held_on} met {len(view.attended)} aanwezigen", markup=False)


@cli.command("list", group=meeting_app)
def listed(year: Annotated[int | None, typer.Option("--year", help="Het jaar (standaard dit jaar).")] = None,
           as_json: cli.JsonOption = False) -> None:
    """De overleggen van een jaar: dag, stand, onderwerpen, aanwezigen."""
    from flows.services.meetings import meetings

    found = meetings(cli.services(), year or cli.moment(None).year)
    if as_json:
        typer.echo(json.dumps([{"key": m.key, "kind": m.kind, "day": m.day.isoformat(), "status": m.status,
                                "topics": list(m.topics), "held_on": m.held_on.isoformat() if m.held_on else None,
                                "attended": m.attended} for m in found], ensure_ascii=False, indent=2))
        return
    table = Table(title="Overleggen")
    for column in ("Overleg", "Dag", "Stand", "Onderwerpen", "Gehouden", "Aanwezig"):
        table.add_column(column, overflow="fold")
    for m in found:
        table.add_row(m.key, m.day.isoformat(), m.status, "; ".join(m.topics), str(m.held_on or ""),
                      str(m.attended) if m.held_on else "")
    out.print(table)


@cli.command("attendance", group=meeting_app)
def attendance(year: Annotated[int | None, typer.Option("--year", help="Het jaar (standaard dit jaar).")] = None,
               agb: Annotated[str | None, typer.Argument(help="AGB-code; zonder: alle praktijken.")] = None,
               as_json: cli.JsonOption = False) -> None:
    """De aanwezigheid per praktijk en soort overleg in een jaar; wie bij geen enkel overleg was, staat erbij."""
    from flows.services.meetings import practice_attendance

    found = practice_attendance(cli.services(), year or cli.moment(None).year, cli.agb_code(agb) if agb else None)
    if as_json:
        typer.echo(json.dumps([{"agb_code": a.agb_code, "kind": a.kind, "year": a.year, "held": a.held,
                                "attended": a.attended, "absent_all_year": a.absent_all_year} for a in found],
                              ensure_ascii=False, indent=2))
        return
    table = Table(title="Aanwezigheid bij overleggen")
    for column in ("Praktijk", "Overleg", "Gehouden", "Aanwezig", ""):
        table.add_column(column)
    for a in found:
        table.add_row(a.agb_code, a.kind, str(a.held), str(a.attended), "nooit" if a.absent_all_year else "")
    out.print(table)
