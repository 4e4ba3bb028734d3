"""Commands that record what officers did with a practice: a conversation held, conversations from a
spreadsheet, a practice leaving the cycle."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from domain.vocabulary import KIND_NAMES_NL, STATE_NAMES_NL, ConversationKind, Programme
from flows.cli import common as cli
from flows.cli.common import (
    commands,
    conversations,
    data_imports,
    files,
    inputs,
    out,
    queries,
)


def _describe_conversation(result: conversations.ConversationRecorded) -> None:
    name = KIND_NAMES_NL[result.kind]
    if result.already_recorded:
        out.print(f"{name} van {result.agb_code} op {result.held_on} was al vastgelegd; niets gewijzigd")
        return
    out.print(f"{name} van {result.agb_code} op {result.held_on} vastgelegd")
    if result.transition is not None and result.transition.from_state != result.transition.to_state:
        out.print(f"  traject: {STATE_NAMES_NL[result.transition.from_state]} -> "
                  f"{STATE_NAMES_NL[result.transition.to_state]}"
                  + (" (later vastgelegd dan de laatste stap)" if result.transition.details.get("late") else ""))
    if result.waiting:
        out.print(f"  traject: {result.waiting}", markup=False)
    if result.enrolled:
        out.print(f"  programma {result.enrolled} gestart")
    for gap in result.attendance_gaps:
        out.print(f"  let op (aanwezigheid): {gap}")
    if result.agreements:
        out.print(f"  afspraken vastgelegd: {', '.join(result.agreements)}")
    for gap in result.agreement_gaps:
        out.print(f"  let op (afspraken): {gap}", markup=False)


@cli.command("record-conversation")
def record_conversation(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    kind: Annotated[ConversationKind, typer.Option("--kind", help="start, annual of extra.")],
    held_on: Annotated[str, typer.Option("--held-on", help="Datum van het gesprek (JJJJ-MM-DD).")],
    programme: Annotated[Programme | None, typer.Option("--programme", help="Programma (startgesprek).")] = None,
    attendee: Annotated[list[str] | None, typer.Option("--attendee", help="ROL=NAAM, herhaalbaar.")] = None,
    plan: Annotated[Path | None, typer.Option("--plan", help="YAML met het verbeterplan (extra gesprek).")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="YAML met het verslag: samenvatting, ondersteuningsvragen, afspraken, evaluaties, "
                         "doelen.")] = None,
    now: cli.NowOption = None,
    actor: cli.ActorOption = None,
) -> None:
    """Leg een gesprek vast (start, kwaliteitsjaargesprek of extra gesprek) en neem de bijbehorende stap."""
    if plan is not None and report is not None:
        raise cli.CliInputError("--plan of --report, niet beide: de doelen van het verslag zijn het verbeterplan")
    cmd = commands.RecordConversation(
        agb_code=cli.agb_code(agb), kind=kind, held_on=cli.day(held_on, "--held-on"), programme=programme,
        attendees=cli.attendees(attendee or []), plan=files.parse_plan(plan) if plan else None,
        report=files.parse_report(report) if report else None,
    )
    source = str(plan or report) if plan or report else "verbeterplan"
    _describe_conversation(conversations.record_conversation(cli.services(), cmd, cli.moment(now), cli.actor(actor),
                                                             plan_source=source))


@cli.command("import-conversations")
def import_conversations(file: cli.FileArg, now: cli.NowOption = None, actor: cli.ActorOption = None) -> None:
    """Leg eerder gehouden gesprekken vast uit een spreadsheet (agb_code,kind,held_on[,programme])."""
    services = cli.services()
    lines = files.parse_conversations(file, known_agb_codes=queries.known_practices(services),
                                     today=cli.moment(now).date())
    results = data_imports.import_conversations(services, lines, cli.moment(now), cli.actor(actor), source=str(file))
    new = sum(1 for r in results if not r.already_recorded)
    out.print(f"gesprekken: {new} vastgelegd, {len(results) - new} waren al bekend")


@cli.command()
def leave(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    on: Annotated[str, typer.Option("--on", help="Datum van vertrek (JJJJ-MM-DD).")],
    reason: Annotated[str, typer.Option("--reason", help="Waarom de praktijk vertrekt.")],
    now: cli.NowOption = None,
    actor: cli.ActorOption = None,
) -> None:
    """Een praktijk verlaat de kwaliteitscyclus van de zorggroep."""
    leaving = commands.LeaveProgramme(agb_code=cli.agb_code(agb), on=cli.day(on, "--on"),
                                      reason=inputs.checked(inputs.check_text, reason, "--reason"))
    result = conversations.leave(cli.services(), leaving, cli.moment(now), cli.actor(actor))
    if result.transition is not None:
        event = result.transition
        out.print(f"praktijk {event.agb_code}: {STATE_NAMES_NL[event.from_state]} -> "
                  f"{STATE_NAMES_NL[event.to_state]}")
    else:
        out.print(f"vertrek van {result.agb_code} op {result.on} vastgelegd; traject: {result.waiting}", markup=False)


@cli.command()
def assign(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    officer: Annotated[list[str], typer.Option("--officer", help="Naam van een functionaris; één of twee keer.")],
    now: cli.NowOption = None,
    actor: cli.ActorOption = None,
) -> None:
    """Leg vast welke functionarissen de gesprekken met een praktijk voeren (anders: gelijk verdeeld)."""
    from flows.services.officers import assign as assign_officers

    names = assign_officers(cli.services(), cli.agb_code(agb), officer, cli.moment(now), cli.actor(actor))
    out.print(f"praktijk {agb}: gesprekken met {' en '.join(names)}", markup=False)


@cli.command()
def reschedule(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    kind: Annotated[ConversationKind, typer.Option("--kind", help="start, annual of extra.")],
    to: Annotated[str, typer.Option("--to", help="De nieuwe dag van het gesprek (JJJJ-MM-DD), een werkdag.")],
    reason: Annotated[str, typer.Option("--reason", help="Waarom het gesprek verplaatst wordt.")],
    programme: Annotated[Programme | None, typer.Option(
        "--programme", help="Welk startgesprek, als er meer dan één open staat.")] = None,
    now: cli.NowOption = None,
    actor: cli.ActorOption = None,
) -> None:
    """Verplaats een gepland gesprek naar een andere dag; de uitnodiging wordt bijgewerkt (zelfde agenda-item)."""
    from flows.services.reschedule import reschedule_conversation

    moment = cli.moment(now)
    moved = reschedule_conversation(cli.services(), cli.agb_code(agb), kind, cli.day(to, "--to"),
                                    inputs.checked(inputs.check_text, reason, "--reason"), moment,
                                    cli.actor(actor), subject=programme.value if programme else None)
    name = KIND_NAMES_NL[moved.kind]
    if moved.already:
        out.print(f"{name} van {moved.agb_code} staat al op {moved.to}; niets gewijzigd")
        return
    out.print(f"{name} van {moved.agb_code} verplaatst: {moved.from_day or '-'} -> {moved.to}")
    if moved.to == moment.date():
        out.print("  het gesprek is vandaag: er gaat geen nieuwe uitnodiging meer uit; laat het de deelnemers weten")
    elif moved.queued:
        out.print(f"  nieuwe uitnodiging klaargezet ({moved.queued} bericht(en), zelfde agenda-item); de herinnering "
                  "volgt voor de nieuwe dag")
    else:
        out.print("  uitnodiging en herinnering volgen voor de nieuwe dag")
    if moved.past_due:
        out.print(f"  let op: na de uiterste datum {moved.due_on}; de functionarissen krijgen de dag erna de "
                  "melding dat de termijn verstreken is")
