"""``qualitycycle pack``, ``board-report`` and ``indicator-table``: the documents people print or pass on
(``flows.services.packs``): the conversation pack and the board's report as PDF, indicator tables as XLSX."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from flows.cli import common as cli
from flows.cli.common import out


@cli.command("pack")
def pack(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    output: Annotated[Path, typer.Option("--out", help="PDF-bestand om te schrijven.")],
    on: Annotated[str | None, typer.Option("--on", help="De stand op die dag (standaard: vandaag).")] = None,
    now: cli.NowOption = None,
) -> None:
    """Het gesprekspakket van een praktijk als PDF: indicatoren met grafiek, afspraken, doelen, ondersteuning,
    gemist overleg, checklist van het kwaliteitssysteem en patiëntenfolders."""
    from flows.services.packs import conversation_pack

    moment = cli.moment(now)
    day = cli.day(on, "--on") if on else moment.date()
    output.write_bytes(conversation_pack(cli.services(), cli.agb_code(agb), day, moment))
    out.print(f"gesprekspakket geschreven: {output}", markup=False)


def _period(value: str) -> tuple[date, date]:
    """``2025K3`` (a quarter), ``2025-07`` (a month) or ``2025`` (a year)."""
    from domain.calendar import period_bounds

    try:
        return period_bounds(value)
    except ValueError as exc:
        raise cli.CliInputError(f"--period {value!r} is ongeldig: {exc}") from None


@cli.command("board-report")
def board_report(
    output: Annotated[Path, typer.Option("--out", help="PDF-bestand om te schrijven.")],
    period: Annotated[str | None, typer.Option(
        "--period", help="2025K3, 2025-07 of 2025; standaard de laatste afgesloten periode van het overzicht.")] = None,
    now: cli.NowOption = None,
) -> None:
    """De rapportage voor het bestuur over een periode als PDF: de praktijken onder het beleid, hun plan en
    cijfers, en de tellingen rond de kwaliteitscyclus."""
    from flows.services.digest import digest_period
    from flows.services.packs import board_report as report

    moment = cli.moment(now)
    services = cli.services()
    start, end = _period(period) if period else digest_period(
        moment.date(), services.in_force(moment).policy.board_digest_every_months)
    if end >= moment.date():
        raise cli.CliInputError(f"--period: de periode loopt tot {end.isoformat()} en is nog niet afgesloten")
    output.write_bytes(report(services, start, end, moment))
    out.print(f"rapportage bestuur {start.isoformat()} t/m {end.isoformat()} geschreven: {output}", markup=False)


@cli.command("indicator-table")
def indicator_table(
    output: Annotated[Path, typer.Option("--out", help="XLSX-bestand om te schrijven.")],
    agb: Annotated[str | None, typer.Argument(help="AGB-code van de praktijk.")] = None,
    gp_group: Annotated[str | None, typer.Option("--gp-group", help="Een huisartsengroep, samengeteld.")] = None,
    care_group: Annotated[bool, typer.Option("--care-group", help="De hele zorggroep, samengeteld.")] = False,
    period: Annotated[str | None, typer.Option("--period", help="Einde van de periode (standaard: laatste).")] = None,
    now: cli.NowOption = None,
) -> None:
    """De indicatorentabel van een praktijk, huisartsengroep of de zorggroep als XLSX."""
    from flows.services.packs import indicator_workbook

    if sum(x is not None and x is not False for x in (agb, gp_group, care_group or None)) != 1:
        raise cli.CliInputError("geef precies een van: AGB-code, --gp-group CODE of --care-group")
    moment = cli.moment(now)
    output.write_bytes(indicator_workbook(cli.services(), agb_code=cli.agb_code(agb) if agb else None,
                                          gp_group=gp_group, period_end=cli.day(period, "--period") if period else None,
                                          on=moment.date(), now=moment))
    out.print(f"indicatorentabel geschreven: {output}", markup=False)
