"""``qualitycycle checklist``, ``accreditation``, ``peer-review``: the practice's own quality system (seed 003)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from flows.cli import common as cli
from flows.cli.common import out

if TYPE_CHECKING:
    from flows.services.quality_system import QualitySystem


def _as_json(q: QualitySystem) -> dict[str, Any]:
    c, a, g = q.checklist, q.accreditation, q.peer_review
    return {
        "agb_code": q.agb_code,
        "checklist": None if c is None else {
            "filled_on": c.filled_on.isoformat(), "dispensing_practice": c.checklist.dispensing_practice,
            "answers": {k.value: v.model_dump(mode="json", exclude_none=True) for k, v in c.checklist.answers.items()},
            "open_conditions": [k.value for k, _ in c.open_conditions]},
        "accreditation": None if a is None else {
            "valid_until": a.valid_until.isoformat(), "audited_on": a.audited_on.isoformat() if a.audited_on else None},
        "peer_review_group": None if g is None else {"group": g.group, "led_by_ekc": g.led_by_ekc, "ekc": g.ekc},
    }


@cli.command("checklist")
def checklist(
    agb: Annotated[str | None, typer.Argument(help="AGB-code; zonder: alle praktijken.")] = None,
    on: Annotated[str | None, typer.Option("--on", help="Dag waarop de checklist is ingevuld (JJJJ-MM-DD).")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="De checklist (YAML): per voorwaarde yes, partly of "
                                                              "no, met een toelichting.")] = None,
    as_json: cli.JsonOption = False, now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg de jaarlijkse checklist van het kwaliteitssysteem van een praktijk vast (--on en --file), of toon de
    laatste per praktijk."""
    from flows.services import quality_system as service

    if on is not None or file is not None:
        if agb is None or on is None or file is None:
            raise cli.CliInputError("checklist vastleggen: geef AGB, --on en --file")
        from readers.files import parse_checklist

        code, day = cli.agb_code(agb), cli.day(on, "--on")
        parsed = parse_checklist(file)
        filled = service.record_checklist(cli.services(), code, day, parsed, cli.moment(now), cli.actor(actor))
        open_ = [c.value for c, _ in filled.open_conditions]
        out.print(f"checklist van {code} op {day.isoformat()} vastgelegd: "
                  + (f"{len(open_)} voorwaarde(n) niet (volledig) voldaan: {', '.join(open_)}" if open_
                     else "aan alle voorwaarden voldaan"), markup=False)
        return
    found = service.quality_systems(cli.services(), cli.agb_code(agb) if agb else None)
    if as_json:
        typer.echo(json.dumps([_as_json(q) for q in found], ensure_ascii=False, indent=2))
        return
    table = Table(title="Kwaliteitssysteem van de praktijken")
    for column in ("AGB", "Checklist", "Niet (volledig) voldaan", "NHG geldig tot", "Laatste audit", "Toetsgroep"):
        table.add_column(column, overflow="fold")
    for q in found:
        c, a, g = q.checklist, q.accreditation, q.peer_review
        table.add_row(q.agb_code, c.filled_on.isoformat() if c else "",
                      ", ".join(k.value for k, _ in c.open_conditions) if c else "",
                      a.valid_until.isoformat() if a else "", a.audited_on.isoformat() if a and a.audited_on else "",
                      (f"{g.group} (EKC {g.ekc})" if g.ekc else f"{g.group} (zonder EKC)") if g else "")
    out.print(table)


@cli.command("accreditation")
def accreditation(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    valid_until: Annotated[str, typer.Option("--valid-until", help="Tot wanneer de NHG-accreditering geldt.")],
    audited_on: Annotated[str | None, typer.Option("--audited-on", help="Dag van de laatste audit.")] = None,
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg de NHG-praktijkaccreditering van een praktijk vast: geldig tot, laatste (driejaarlijkse) audit."""
    from domain.quality_system import Accreditation
    from flows.services.quality_system import record_accreditation

    given = Accreditation(valid_until=cli.day(valid_until, "--valid-until"),
                          audited_on=cli.day(audited_on, "--audited-on") if audited_on else None)
    code = cli.agb_code(agb)
    record_accreditation(cli.services(), code, given, cli.moment(now), cli.actor(actor))
    out.print(f"NHG-accreditering van {code} vastgelegd: geldig tot {given.valid_until.isoformat()}"
              + (f", laatste audit {given.audited_on.isoformat()}" if given.audited_on else ""), markup=False)


@cli.command("peer-review")
def peer_review(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    group: Annotated[str, typer.Option("--group", help="Naam van de toetsgroep.")],
    ekc: Annotated[str | None, typer.Option("--ekc", help="De EKC die de groep begeleidt, als er een is.")] = None,
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg de toetsgroep van een praktijk vast, en of een EKC haar leidt."""
    from domain.inputs import check_name, checked
    from domain.quality_system import PeerReviewGroup
    from flows.services.quality_system import record_peer_review

    given = PeerReviewGroup(group=checked(check_name, group, "--group"),
                            ekc=checked(check_name, ekc, "--ekc") if ekc is not None else None)
    code = cli.agb_code(agb)
    record_peer_review(cli.services(), code, given, cli.moment(now), cli.actor(actor))
    out.print(f"toetsgroep van {code} vastgelegd: {given.group}"
              + (f", begeleid door EKC {given.ekc}" if given.ekc else ", zonder EKC"), markup=False)
