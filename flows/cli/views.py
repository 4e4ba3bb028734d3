"""Commands that show where the care group stands: status, a practice's history and replay, indicators,
charts, the import log and the state machine's diagram. None of them writes."""

from __future__ import annotations

import json
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from domain.clock import AMSTERDAM, as_amsterdam
from domain.vocabulary import (
    OUTCOME_NAMES_NL,
    OWNER_NAMES_NL,
    STATE_NAMES_NL,
    AgreementOwner,
    Outcome,
    figure_nl,
    goal_status_nl,
    percent_nl,
    small_numbers_nl,
)
from flows.cli import common as cli
from flows.cli.common import err, out, queries

if TYPE_CHECKING:
    from flows.services.around_the_cycle import AroundTheCycle


def _short_reason(reason: dict[str, Any], min_denominator: int | None = None, small: bool = False) -> str:
    if "indicator" not in reason:
        return str(reason.get("explanation", ""))
    reference = "streef" if reason.get("reference") == "target" else "landelijk"
    text = (f"{reason['programme']}/{reason['indicator']} {reason['score']:.1f}% "
            f"({reference} {reason['reference_value']:.1f}%, grens {reason['threshold']:.1f}%)").replace(".", ",")
    if small:  # a figure over fewer patients than the policy judges
        text += f" [{reason['numerator']}/{reason['denominator']}, {small_numbers_nl(min_denominator)}]"
    return text


def _around_lines(line: queries.StatusLine) -> list[str]:
    if line.around is not None:
        return line.around.lines_nl()
    # no day given: the practice's own quality system and its folder, as stored
    return ([f"kwaliteitssysteem: {line.quality_system}"] if line.quality_system else []) + (
        [f"kwaliteitsmap: achter sinds {line.folder.behind_since.isoformat()} (versie {line.folder.version or 'geen'}, "
         f"actueel {line.folder.latest})"] if line.folder and line.folder.behind_since else [])


def status_table(lines: list[queries.StatusLine], title: str = "Praktijken") -> Table:
    table = Table(title=title, show_lines=False)
    for column in ("AGB", "Praktijk", "Hagro", "Toestand", "Sinds", "Volgende", "Redenen"):
        table.add_column(column, overflow="fold")
    for line in lines:
        reasons = "; ".join([_short_reason(r, line.min_denominator, line.small_numbers(r)) for r in line.reasons]
                            + [f"bericht wacht: {held}" for held in line.held_messages]
                            + [f"stap wacht: {step}" for step in line.waiting_steps])
        due = f"{line.next_due.name_nl} {line.next_due.on.isoformat()}" if line.next_due else ""
        table.add_row(line.agb_code, line.name, line.gp_group or "", STATE_NAMES_NL[line.state],
                      line.since.date().isoformat() if line.since else "", due, reasons)
    return table


def print_status(lines: list[queries.StatusLine], title: str = "Praktijken") -> None:
    """The status table, then per practice each part around the cycle in one line (issue 14): under the table, not
    in a column, so the reasons keep their width and a line is read whole."""
    out.print(status_table(lines, title))
    around = [(line, _around_lines(line)) for line in lines]
    if any(parts for _, parts in around):
        out.print("Rond de cyclus:", markup=False)
        for line, parts in around:
            if parts:
                out.print(f"  {line.agb_code} {line.name}", markup=False)
                for text in parts:
                    out.print(f"    {text}", markup=False, soft_wrap=True)


@cli.command()
def status(as_json: cli.JsonOption = False, as_of: cli.AsOfOption = None) -> None:
    """Waar staat elke praktijk in de kwaliteitscyclus, sinds wanneer, waarom, en wat komt er aan."""
    moment = _as_of(as_of)
    lines = queries.status(cli.services(), moment, now=cli.moment(None))
    if as_json:
        typer.echo(json.dumps([line.as_json() for line in lines], ensure_ascii=False, indent=2))
    else:
        print_status(lines, "Praktijken" + (f" op {moment:%Y-%m-%d %H:%M}" if moment else ""))


@cli.command()
def history(agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")], as_json: cli.JsonOption = False,
            as_of: cli.AsOfOption = None) -> None:
    """De gebeurtenissen van het traject van een praktijk, in volgorde."""
    moment = _as_of(as_of)
    events = queries.history(cli.services(), cli.agb_code(agb), moment)
    if as_json:
        typer.echo(json.dumps([queries.event_as_json(e) for e in events], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Geschiedenis van {agb}" + (f" tot en met {moment:%Y-%m-%d %H:%M}" if moment else ""))
    for column in ("#", "Gebeurd", "Vastgelegd", "Trigger", "Van", "Naar", "Door", "Redenen"):
        table.add_column(column, overflow="fold")
    for e in events:
        reasons = "; ".join(str(r.get("explanation", "")) for r in e.reasons)
        late = " (laat)" if e.details.get("late") else ""
        table.add_row(str(e.seq), e.at.astimezone(AMSTERDAM).isoformat(timespec="minutes"),
                      e.recorded.astimezone(AMSTERDAM).isoformat(timespec="minutes") + late, e.trigger.value,
                      e.from_state.value, e.to_state.value, e.actor, reasons)
    out.print(table)


def _as_of(value: str | None) -> datetime | None:
    """``--as-of``: a moment, or a date meaning the end of that day (everything that happened on it)."""
    if value is None:
        return None
    if "T" not in value and " " not in value.strip():
        return datetime.combine(cli.day(value.strip(), "--as-of"), time.max, tzinfo=AMSTERDAM)
    return cli.moment(value)


@cli.command()
def replay(
    agb: Annotated[str | None, typer.Argument(help="AGB-code; zonder: alle praktijken.")] = None,
) -> None:
    """Herbouw de toestand uit de gebeurtenissen en vergelijk met de opgeslagen toestand."""
    services = cli.services()
    codes = [cli.agb_code(agb)] if agb else sorted(queries.known_practices(services))
    failed = 0
    for code in codes:
        result = queries.replay_practice(services, code)
        if result.agrees:
            out.print(f"{code}: {result.events} gebeurtenissen herbouwd, toestand komt overeen")
            continue
        failed += 1
        err.print(f"{code}: herbouwde toestand wijkt af: {result.error or result.differences}", markup=False)
    if failed:
        raise typer.Exit(1)


def _nl(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return (f"{value:+.1f}" if signed else f"{value:.1f}").replace(".", ",")


@cli.command()
def indicators(
    agb: Annotated[str | None, typer.Argument(help="AGB-code van de praktijk.")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Einde van de periode (standaard: laatste).")] = None,
    gp_group: Annotated[str | None, typer.Option("--gp-group", help="Een huisartsengroep, samengeteld.")] = None,
    care_group: Annotated[bool, typer.Option("--care-group", help="De hele zorggroep, samengeteld.")] = False,
    as_json: cli.JsonOption = False,
) -> None:
    """Indicatoren tegen streefwaarde en landelijk gemiddelde, met 95%-interval, verandering over een jaar en
    de spreiding binnen de zorggroep."""
    if sum(x is not None and x is not False for x in (agb, gp_group, care_group or None)) != 1:
        raise cli.CliInputError("geef precies een van: AGB-code, --gp-group CODE of --care-group")
    view = queries.indicator_view(cli.services(), agb_code=cli.agb_code(agb) if agb else None,
                                  gp_group=gp_group, period_end=cli.day(period, "--period") if period else None,
                                  on=cli.moment(None).date())
    # a practice's view ends with its parts around the cycle, one line each (issue 14)
    from flows.services.around_the_cycle import around_the_cycle

    around = (around_the_cycle(cli.services(), cli.moment(None).date(), [cli.agb_code(agb)])[cli.agb_code(agb)]
              if agb else None)
    if as_json:
        typer.echo(json.dumps({"scope": view.scope, "period_end": view.period_end.isoformat() if view.period_end
                               else None, "indicators": [line.as_json() for line in view.lines]}
                              | ({"around_the_cycle": around.as_json()} if around is not None else {}),
                              ensure_ascii=False, indent=2))
        return
    if view.period_end is None:
        out.print(f"{view.scope}: nog geen indicatorcijfers")
        _print_around(around)
        return
    table = Table(title=f"Indicatoren {view.scope}, periode tot {view.period_end.isoformat()}")
    table.caption = "* belangrijkste procesindicator; namen en definities: --json of de catalogus"
    table.add_column("Indicator", no_wrap=True)
    for column in ("Score", "95%-interval", "Teller/noemer", "Streef", "Verschil", "Landelijk", "Verschil",
                   "1 jaar eerder", "Zorggroep p10-mediaan-p90"):
        table.add_column(column, no_wrap=True)
    for line in view.lines:
        ref = line.reference
        national = (f"{_nl(line.national_average)} ({line.national_average_year})"
                    if line.national_average is not None else "-")
        table.add_row(
            f"{line.key}{' *' if line.main else ''}", _nl(line.score),
            f"{_nl(line.interval[0])}-{_nl(line.interval[1])}",
            f"{line.numerator}/{line.denominator}" + (" †" if line.small_numbers else ""),
            _nl(line.target), _nl(line.gap_to_target, signed=True), national,
            _nl(line.gap_to_national_average, signed=True),
            _nl(line.change_over_year, signed=True) if line.change_over_year is not None else "-",
            f"{_nl(ref.p10)} - {_nl(ref.median)} - {_nl(ref.p90)} (n={ref.practices})" if ref else "-",
        )
    out.print(table)
    for line in view.lines:  # under the table, whole: a cell would cut the words short
        if line.small_numbers:
            out.print(f"† {line.key}: {figure_nl(line.score, line.numerator, line.denominator, line.min_denominator)}")
    _print_around(around)


def _print_around(around: AroundTheCycle | None) -> None:
    if around is not None and around.lines:
        out.print("Rond de cyclus:", markup=False)
        for text in around.lines_nl():
            out.print(f"  {text}", markup=False)


@cli.command()
def chart(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    output: Annotated[Path, typer.Option("--out", help="SVG-bestand om te schrijven.")],
    all_indicators: Annotated[bool, typer.Option("--all", help="Ook de niet-hoofdindicatoren.")] = False,
) -> None:
    """Grafiek per indicator: score door de tijd tegen streefwaarde en landelijk gemiddelde (SVG)."""
    svg, shown = queries.practice_chart(cli.services(), cli.agb_code(agb), main_only=not all_indicators)
    output.write_text(svg, encoding="utf-8")
    out.print(f"grafiek geschreven: {output} ({shown} indicatoren)")


@cli.command()
def imports(
    agb: Annotated[str | None, typer.Option("--revisions", help="Vervangen cijfers van deze praktijk.")] = None,
    as_json: cli.JsonOption = False,
) -> None:
    """Welke indicatorbestanden wanneer zijn ingelezen, en welke cijfers een correctie verving."""
    services = cli.services()
    log, revised = queries.import_log(services, cli.agb_code(agb) if agb else None)
    if as_json:
        typer.echo(json.dumps({
            "imports": [{"id": i.id, "source": i.source, "sha256": i.sha256,
                         "imported_at": as_amsterdam(i.imported_at).isoformat(), "actor": i.actor, "rows": i.rows,
                         "new": i.new, "changed": i.changed, "unchanged": i.unchanged} for i in log],
            "revisions": [{"import_id": r.import_id, "agb_code": r.agb_code, "programme": r.programme,
                           "indicator": r.indicator, "period_end": r.period_end.isoformat(),
                           "old": [r.old_numerator, r.old_denominator], "new": [r.new_numerator, r.new_denominator]}
                          for r in revised],
        }, ensure_ascii=False, indent=2))
        return
    table = Table(title="Ingelezen indicatorcijfers")
    for column in ("Moment", "Bron", "Door", "Rijen", "Nieuw", "Gewijzigd", "Ongewijzigd"):
        table.add_column(column, overflow="fold")
    for i in log:
        table.add_row(as_amsterdam(i.imported_at).isoformat(timespec="minutes"), i.source, i.actor, str(i.rows),
                      str(i.new), str(i.changed), str(i.unchanged))
    out.print(table)
    for r in revised:
        out.print(f"  {r.agb_code} {r.programme}/{r.indicator} {r.period_end}: {r.old_numerator}/{r.old_denominator}"
                  f" -> {r.new_numerator}/{r.new_denominator}")


@cli.command()
def agreements(
    agb: Annotated[str | None, typer.Argument(help="AGB-code; zonder: alle praktijken.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Alleen afspraken die nog open staan.")] = False,
    as_json: cli.JsonOption = False,
) -> None:
    """De afspraken uit de verslagen van de gesprekken: wie, wanneer af, open of hoe geëvalueerd."""
    found = queries.agreements(cli.services(), cli.agb_code(agb) if agb else None, open_only=open_only)
    if as_json:
        typer.echo(json.dumps([{
            "id": a.id, "agb_code": a.agb_code, "text": a.text, "owner": a.owner,
            "due": a.due.isoformat() if a.due else None, "made_on": a.made_on.isoformat(), "status": a.status,
            "evaluated_on": a.evaluated_on.isoformat() if a.evaluated_on else None, "note": a.note,
            "proposed_outcome": a.proposed_outcome,
        } for a in found], ensure_ascii=False, indent=2))
        return
    table = Table(title="Afspraken" + (" (open)" if open_only else ""))
    for column in ("Id", "Praktijk", "Afspraak", "Wie", "Uiterlijk", "Gemaakt", "Stand"):
        table.add_column(column, overflow="fold")
    for a in found:
        state = "open" if a.status == "open" else (
            f"{OUTCOME_NAMES_NL[Outcome(a.status)]} ({a.evaluated_on})" + (f": {a.note}" if a.note else ""))
        if a.proposed_outcome:  # the support given for it proposes an outcome; the next conversation evaluates
            state += f" (voorstel: {OUTCOME_NAMES_NL[Outcome(a.proposed_outcome)]}, ondersteuning gegeven)"
        table.add_row(a.id, a.agb_code, a.text, OWNER_NAMES_NL[AgreementOwner(a.owner)],
                      a.due.isoformat() if a.due else "", a.made_on.isoformat(), state)
    out.print(table)


@cli.command()
def goals(
    agb: Annotated[str | None, typer.Argument(help="AGB-code; zonder: alle praktijken.")] = None,
    as_json: cli.JsonOption = False,
) -> None:
    """De doelen uit de gesprekken: streefcijfer en datum, en hoe ze ervoor staan (beoordeeld op hun datum)."""
    found = queries.goals(cli.services(), cli.agb_code(agb) if agb else None)
    if as_json:
        typer.echo(json.dumps([{"id": g.id, "agb_code": g.agb_code, "set_on": g.set_on.isoformat(),
                                **g.line.model_dump(), "reason": g.reason} for g in found],
                              ensure_ascii=False, indent=2))
        return
    table = Table(title="Doelen")
    for column in ("Id", "Praktijk", "Indicator", "Doel", "Uiterlijk", "Stand", "Cijfer"):
        table.add_column(column, overflow="fold")
    for g in found:
        line = g.line
        figure = "" if line.score is None else (
            f"{percent_nl(line.score)} ({line.numerator}/{line.denominator}, tot {line.period_end})")
        table.add_row(g.id, g.agb_code, f"{line.programme}/{line.indicator}", percent_nl(line.target),
                      line.by.isoformat(), goal_status_nl(line.status), figure)
    out.print(table)


@cli.command()
def diagram() -> None:
    """De toestandsmachine van een traject als Mermaid-diagram."""
    typer.echo(queries.trajectory_diagram(), nl=False)
