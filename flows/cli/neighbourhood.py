"""``qualitycycle core-team``, ``gpo``, ``mdo``, ``network-plan``, ``network-meeting``, ``neighbourhood``: the
neighbourhood's elderly care (seed 5): each practice's core team, GPO cadence and counts, each GP group's network
plan with its partners and the meetings held under it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from flows.cli import common as cli
from flows.cli.common import out

if TYPE_CHECKING:
    from domain.neighbourhood import Neighbourhood, Quarter
    from flows.services.neighbourhood import NetworkPlanLine

QuarterOption = Annotated[str | None, typer.Option("--quarter", help="Het kwartaal, bijv. 2026K1 (of 2026Q1).")]


def _quarter(value: str) -> Quarter:
    from domain.inputs import shown
    from domain.neighbourhood import Quarter

    try:
        return Quarter.parse(value)
    except ValueError:
        raise cli.CliInputError(f"--quarter {shown(value)}: verwacht bijv. 2026K1 (of 2026Q1)") from None


def _neighbourhood_json(n: Neighbourhood) -> dict[str, Any]:
    team = n.core_team
    return {
        "agb_code": n.agb_code,
        "core_team": None if team is None else {
            "formed_on": team.formed_on.isoformat(), "complete": team.complete, "missing": list(team.missing),
            "members": [{"role": role.value, "name": name} for role, name in team.members]},
        "gpo_cadence": None if n.cadence is None else {"every_weeks": n.cadence.every_weeks,
                                                       "since": n.cadence.since.isoformat()},
        "quarter": str(n.quarter) if n.quarter else None, "gpo_held": n.gpo_held, "gpo_expected": n.gpo_expected,
        "gpo_behind": n.gpo_behind, "mdo_held": n.mdo_held,
        "network_plan": None if n.plan is None else {
            "gp_group": n.plan.gp_group, "state": n.plan.status.value,
            "evaluation_due": n.plan_due_on.isoformat() if n.plan_due_on else None,
            "evaluation_overdue": n.evaluation_overdue},
        "line": n.line_nl() if n.anything else None,
    }


@cli.command("core-team")
def core_team(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    member: Annotated[list[str] | None, typer.Option(
        "--member", help="ROL=NAAM, herhaalbaar; minimaal een huisarts (gp), POH of verpleegkundige (poh_elderly, "
        "nurse) en wijkverpleegkundige (district_nurse).")] = None,
    on: Annotated[str | None, typer.Option("--on", help="Sinds wanneer het kernteam zo is.")] = None,
    as_json: cli.JsonOption = False, now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg het kernteam ouderenzorg van een praktijk vast (--member ...), of toon het; een onvolledig kernteam wordt
    vastgelegd en gemarkeerd."""
    from domain.inputs import shown
    from flows.services import neighbourhood as service

    code, moment = cli.agb_code(agb), cli.moment(now)
    if member:
        pairs = []
        for value in member:
            role, sep, name = value.partition("=")
            if not sep or not name.strip() or not role.strip():
                raise cli.CliInputError(f"--member {shown(value)}: gebruik ROL=NAAM, bijvoorbeeld "
                                        "district_nurse='W. de Vries'")
            pairs.append((role.strip(), name.strip()))
        team = service.record_core_team(cli.services(), code, pairs, cli.day(on, "--on") if on else moment.date(),
                                        moment, cli.actor(actor))
        state = ("compleet" if team.complete else f"ONVOLLEDIG: mist {', '.join(team.missing)}")
        out.print(f"kernteam van {code} vastgelegd ({len(team.members)} leden, sinds {team.formed_on}): {state}",
                  markup=False)
        return
    found = service.neighbourhoods(cli.services(), moment.date(), [code])
    if code not in found:
        from flows.services.context import UnknownPracticeError

        raise UnknownPracticeError(code)
    n = found[code]
    if as_json:
        typer.echo(json.dumps(_neighbourhood_json(n), ensure_ascii=False, indent=2))
        return
    if n.core_team is None:
        out.print(f"{code}: geen kernteam vastgelegd", markup=False)
        return
    for role, name in n.core_team.members:
        out.print(f"{role.value}: {name}", markup=False)
    out.print("compleet" if n.core_team.complete else f"onvolledig: mist {', '.join(n.core_team.missing)}",
              markup=False)


@cli.command("gpo")
def gpo(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    every_weeks: Annotated[int | None, typer.Option("--every-weeks", help="Het ritme van het GPO in weken.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Sinds wanneer dat ritme geldt (JJJJ-MM-DD).")] = None,
    quarter: QuarterOption = None,
    held: Annotated[int | None, typer.Option("--held", help="Hoeveel GPO's er in het kwartaal zijn gehouden.")] = None,
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Het gestructureerd periodiek overleg (GPO) ouderenzorg: het ritme (--every-weeks, --since) of het aantal
    gehouden in een kwartaal (--quarter, --held)."""
    from domain.neighbourhood import CountKind
    from flows.services import neighbourhood as service

    code, moment = cli.agb_code(agb), cli.moment(now)
    if (every_weeks is None) == (held is None) or (every_weeks is not None and since is None) or (
            held is not None and quarter is None):
        raise cli.CliInputError("gpo: geef --every-weeks N --since DATUM (het ritme) of --quarter 2026K1 --held N "
                                "(het aantal)")
    if every_weeks is not None and since is not None:
        cadence = service.set_gpo_cadence(cli.services(), code, every_weeks, cli.day(since, "--since"), moment,
                                          cli.actor(actor))
        out.print(f"GPO van {code}: elke {cadence.every_weeks} weken sinds {cadence.since}", markup=False)
        return
    assert held is not None and quarter is not None
    q = _quarter(quarter)
    service.record_count(cli.services(), code, q, CountKind.GPO, held, moment, cli.actor(actor))
    out.print(f"GPO van {code} in {q.nl}: {held} gehouden", markup=False)


@cli.command("mdo")
def mdo(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    quarter: Annotated[str, typer.Option("--quarter", help="Het kwartaal, bijv. 2026K1 (of 2026Q1).")],
    count: Annotated[int, typer.Option("--count", help="Hoeveel MDO's rond kwetsbare ouderen (alleen het aantal).")],
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Het aantal multidisciplinaire overleggen (MDO) rond kwetsbare ouderen in een kwartaal: alleen het aantal,
    nooit wie het betrof."""
    from domain.neighbourhood import CountKind
    from flows.services import neighbourhood as service

    code, q = cli.agb_code(agb), _quarter(quarter)
    service.record_count(cli.services(), code, q, CountKind.MDO, count, cli.moment(now), cli.actor(actor))
    out.print(f"MDO van {code} in {q.nl}: {count}", markup=False)


def _plan_json(line: NetworkPlanLine) -> dict[str, Any]:
    v = line.view
    return {"gp_group": v.gp_group, "state": v.status.value,
            "agreed_on": v.agreed_on.isoformat() if v.agreed_on else None,
            "partners": [p.model_dump(mode="json", exclude_none=True) for p in v.partners],
            "evaluations": [{"on": day.isoformat(), "note": note} for day, note in v.evaluations],
            "evaluation_due": line.evaluation_due.isoformat() if line.evaluation_due else None,
            "meetings": [{"kind": m.kind.value, "held_on": m.held_on.isoformat(), "attended": len(m.attended),
                          "partners": list(m.partners)} for m in v.meetings],
            "ended_on": v.ended_on.isoformat() if v.ended_on else None}


@cli.command("network-plan")
def network_plan(
    gp_group: Annotated[str | None, typer.Argument(help="Code van de huisartsengroep; zonder: alle.")] = None,
    partners: Annotated[Path | None, typer.Option("--partners", help="De samenwerkingspartners (CSV/XLSX: name, "
                                                                      "kind[, email]).")] = None,
    agreed_on: Annotated[str | None, typer.Option("--agreed-on", help="Dag waarop het plan is afgesproken.")] = None,
    evaluated_on: Annotated[str | None, typer.Option("--evaluated-on", help="Dag van de jaarlijkse evaluatie.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Wat de evaluatie opleverde.")] = None,
    ended_on: Annotated[str | None, typer.Option("--ended-on", help="Dag waarop het plan is beëindigd.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Waarom het plan is beëindigd.")] = None,
    as_json: cli.JsonOption = False, now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Het gezamenlijke plan van een huisartsengroep met haar samenwerkingspartners: afspreken (--partners,
    --agreed-on), jaarlijks evalueren (--evaluated-on, --note), beëindigen (--ended-on, --reason), of tonen."""
    from flows.services import neighbourhood as service

    moment = cli.moment(now)
    actions = [x for x in (partners or agreed_on, evaluated_on or note, ended_on or reason) if x]
    if len(actions) > 1:
        raise cli.CliInputError("network-plan: afspreken, evalueren of beëindigen, één tegelijk")
    if actions and gp_group is None:
        raise cli.CliInputError("network-plan: geef de huisartsengroep")
    if partners is not None or agreed_on is not None:
        if partners is None or agreed_on is None or gp_group is None:
            raise cli.CliInputError("network-plan afspreken: geef --partners BESTAND en --agreed-on DATUM")
        from readers.files import parse_partners

        found = parse_partners(partners)
        view = service.agree_network_plan(cli.services(), gp_group, found, cli.day(agreed_on, "--agreed-on"), moment,
                                          cli.actor(actor))
        out.print(f"netwerkplan van {gp_group} afgesproken op {view.agreed_on} met {len(view.partners)} partner(s)",
                  markup=False)
        return
    if evaluated_on is not None or note is not None:
        if evaluated_on is None or note is None or gp_group is None:
            raise cli.CliInputError("network-plan evalueren: geef --evaluated-on DATUM en --note TEKST")
        view = service.evaluate_network_plan(cli.services(), gp_group, cli.day(evaluated_on, "--evaluated-on"), note,
                                             moment, cli.actor(actor))
        out.print(f"netwerkplan van {gp_group} geëvalueerd op {view.last_evaluated_on}", markup=False)
        return
    if ended_on is not None or reason is not None:
        if ended_on is None or reason is None or gp_group is None:
            raise cli.CliInputError("network-plan beëindigen: geef --ended-on DATUM en --reason TEKST")
        service.end_network_plan(cli.services(), gp_group, cli.day(ended_on, "--ended-on"), reason, moment,
                                 cli.actor(actor))
        out.print(f"netwerkplan van {gp_group} beëindigd", markup=False)
        return
    lines = service.network_plans(cli.services(), gp_group)
    if as_json:
        typer.echo(json.dumps([_plan_json(line) for line in lines], ensure_ascii=False, indent=2))
        return
    from domain.neighbourhood import NETWORK_PLAN_STATE_NAMES_NL

    table = Table(title="Netwerkplannen van de huisartsengroepen")
    for column in ("Hagro", "Stand", "Afgesproken", "Partners", "Laatste evaluatie", "Evaluatie uiterlijk",
                   "Bijeenkomsten"):
        table.add_column(column, overflow="fold")
    today = moment.date()
    for line in lines:
        v = line.view
        due = line.evaluation_due.isoformat() if line.evaluation_due else ""
        table.add_row(v.gp_group, NETWORK_PLAN_STATE_NAMES_NL[v.status], str(v.agreed_on or ""),
                      ", ".join(p.name for p in v.partners), str(v.last_evaluated_on or ""),
                      due + (" (over tijd)" if line.overdue(today) else ""), str(len(v.meetings)))
    out.print(table)


@cli.command("network-meeting")
def network_meeting(
    gp_group: Annotated[str, typer.Argument(help="Code van de huisartsengroep.")],
    on: Annotated[str, typer.Option("--on", help="Dag waarop de bijeenkomst is gehouden (JJJJ-MM-DD).")],
    kind: Annotated[str, typer.Option("--kind", help="network_meeting (netwerkbijeenkomst) of case_discussion "
                                                     "(casuïstiekbespreking).")] = "network_meeting",
    attended: Annotated[list[str] | None, typer.Option("--attended", help="AGB:NAAM, herhaalbaar.")] = None,
    partner: Annotated[list[str] | None, typer.Option("--partner", help="Een partner die er was, herhaalbaar.")] = None,
    minutes: Annotated[Path | None, typer.Option("--minutes", help="Het verslag (tekstbestand).")] = None,
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg een netwerkbijeenkomst of casuïstiekbespreking van een huisartsengroep vast: wie er was en het verslag
    (nooit gegevens van patiënten)."""
    from domain.inputs import shown
    from domain.neighbourhood import NETWORK_MEETING_NAMES_NL, NetworkMeetingKind
    from flows.services import neighbourhood as service

    try:
        known = NetworkMeetingKind(kind.strip())
    except ValueError:
        raise cli.CliInputError(f"--kind {shown(kind)}: verwacht network_meeting of case_discussion") from None
    who = []
    for value in attended or []:
        agb, sep, name = value.partition(":")
        if not sep or not name.strip():
            raise cli.CliInputError(f"--attended {shown(value)}: gebruik AGB:NAAM, bijvoorbeeld 01234567:'D. Mulder'")
        who.append((cli.agb_code(agb.strip()), name.strip()))
    text = cli.read_text(minutes, "--minutes") if minutes else None
    view = service.hold_network_meeting(cli.services(), gp_group, known, cli.day(on, "--on"), who,
                                        [p.strip() for p in partner or []], cli.moment(now), cli.actor(actor),
                                        minutes=text)
    out.print(f"{NETWORK_MEETING_NAMES_NL[known]} van {gp_group} op {on} vastgelegd "
              f"({len(who)} uit de praktijken, {len(partner or [])} partner(s)); {len(view.meetings)} in totaal",
              markup=False)


@cli.command("neighbourhood")
def neighbourhood(
    agb: Annotated[str | None, typer.Argument(help="AGB-code; zonder: alle praktijken.")] = None,
    on: Annotated[str | None, typer.Option("--on", help="Zoals het stond op deze dag (standaard vandaag).")] = None,
    as_json: cli.JsonOption = False, now: cli.NowOption = None,
) -> None:
    """De wijk per praktijk: kernteam, GPO tegen het ritme, MDO's, en het netwerkplan van haar huisartsengroep."""
    from flows.services import neighbourhood as service
    from flows.services.context import UnknownPracticeError

    day = cli.day(on, "--on") if on else cli.moment(now).date()
    code = cli.agb_code(agb) if agb else None
    found = service.neighbourhoods(cli.services(), day, [code] if code else None)
    if code is not None and code not in found:
        raise UnknownPracticeError(code)
    if as_json:
        typer.echo(json.dumps([_neighbourhood_json(n) for n in found.values()], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"De wijk per praktijk op {day.isoformat()}")
    for column in ("AGB", "Wijk"):
        table.add_column(column, overflow="fold")
    for n in found.values():
        table.add_row(n.agb_code, n.line_nl() if n.anything else "niets vastgelegd")
    out.print(table)
