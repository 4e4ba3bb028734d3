"""Commands that bring the care group's data in: the database, the registry, the catalogue, targets, averages,
indicator figures and extracts recalculated."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer

from domain.clock import future_fact
from flows.cli import common as cli
from flows.cli.common import data_imports, files, out, queries


@cli.command()
def init() -> None:
    """Maak de database aan of werk het schema bij."""
    services = cli.services()
    out.print(f"database klaar: {services.db.url.render_as_string(hide_password=True)} "
              f"(schemaversie {queries.schema_revision(services)})")


@cli.command("load-registry")
def load_registry(file: Annotated[Path, typer.Argument(help="YAML-register of CSV/XLSX met praktijken.")]) -> None:
    """Laad het register: zorggroep, functionarissen, bestuur, hagro's, praktijken en hun mensen."""
    registry = files.parse_registry(file)
    counts = data_imports.load_registry(cli.services(), registry)
    out.print(f"register geladen: {counts['practices']} praktijken ({counts['new_practices']} nieuw), "
              f"{counts['gp_groups']} huisartsengroepen")


@cli.command("import-catalogue")
def import_catalogue(file: cli.FileArg) -> None:
    """Importeer de indicatorcatalogus (programme,indicator,name,kind,main)."""
    n = data_imports.import_catalogue(cli.services(), files.parse_catalogue(file))
    out.print(f"catalogus: {n} indicatoren ingelezen")


@cli.command("import-targets")
def import_targets(file: cli.FileArg) -> None:
    """Importeer streefwaarden (programme,indicator,target), in procenten 0-100."""
    services = cli.services()
    targets = files.parse_targets(file, catalogue=queries.catalogue_keys(services))
    out.print(f"streefwaarden: {data_imports.import_targets(services, targets)} ingelezen")


@cli.command("import-averages")
def import_averages(file: cli.FileArg) -> None:
    """Importeer landelijke gemiddelden (programme,indicator,year,national_average), in procenten 0-100."""
    services = cli.services()
    averages = files.parse_averages(file, catalogue=queries.catalogue_keys(services))
    out.print(f"landelijke gemiddelden: {data_imports.import_averages(services, averages)} ingelezen")


@cli.command("import-indicators")
def import_indicators(file: cli.FileArg, now: cli.NowOption = None, actor: cli.ActorOption = None) -> None:
    """Importeer indicatorcijfers per praktijk (agb_code,programme,indicator,period_end,numerator,denominator)."""
    services = cli.services()
    moment = cli.moment(now)
    scores = files.parse_scores(file, today=moment.date(), known_agb_codes=queries.known_practices(services),
                                catalogue=queries.catalogue_keys(services))
    result = data_imports.import_scores(services, scores, source=file.name, now=moment, actor=cli.actor(actor),
                                        sha256=hashlib.sha256(file.read_bytes()).hexdigest())
    out.print(f"indicatorcijfers: {result.new} nieuw, {result.changed} gewijzigd, {result.unchanged} ongewijzigd")
    if result.changed:
        out.print(f"  {result.changed} eerder ingelezen cijfers vervangen; de oude staan in 'qualitycycle imports'")


@cli.command()
def recalculate(
    extract: Annotated[Path, typer.Argument(help="Gepseudonimiseerd extract: CSV of Parquet, een rij per patiënt "
                                                 "en programma.")],
    period_end: Annotated[str, typer.Option("--period-end", help="Einde van de periode van 12 maanden.")],
    now: cli.NowOption = None,
    actor: cli.ActorOption = None,
) -> None:
    """Herbereken alle indicatoren per praktijk uit een extract; alleen de uitkomsten worden bewaard."""
    moment, end = cli.moment(now), cli.day(period_end, "--period-end")
    future = future_fact("--period-end", end, moment.date(), "cijfers tellen pas als de periode voorbij is")
    if future:
        raise cli.CliInputError(future)
    result = data_imports.recalculate_indicators(cli.services(), extract, end, now=moment, actor=cli.actor(actor))
    out.print(f"herberekend tot {end.isoformat()}: {result.new} nieuw, {result.changed} gewijzigd, "
              f"{result.unchanged} ongewijzigd (geen patiëntgegevens bewaard)")
