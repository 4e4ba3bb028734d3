"""Commands that bring the care group's data in: the database, the registry, the catalogue, targets, averages,
indicator figures and extracts recalculated."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer

from domain.clock import future_fact
from flows.cli.common import (
    ActorOption,
    CliInputError,
    FileArg,
    NowOption,
    _actor,
    _date,
    _moment,
    _services,
    command,
    data_imports,
    files,
    out,
    queries,
)


@command()
def init() -> None:
    """Maak de database aan of werk het schema bij."""
    services = _services()
    out.print(f"database klaar: {services.db.url.render_as_string(hide_password=True)} "
              f"(schemaversie {queries.schema_revision(services)})")


@command("load-registry")
def load_registry(file: Annotated[Path, typer.Argument(help="YAML-register of CSV/XLSX met praktijken.")]) -> None:
    """Laad het register: zorggroep, functionarissen, bestuur, hagro's, praktijken en hun mensen."""
    registry = files.parse_registry(file)
    counts = data_imports.load_registry(_services(), registry)
    out.print(f"register geladen: {counts['practices']} praktijken ({counts['new_practices']} nieuw), "
              f"{counts['gp_groups']} huisartsengroepen")


@command("import-catalogue")
def import_catalogue(file: FileArg) -> None:
    """Importeer de indicatorcatalogus (programme,indicator,name,kind,main)."""
    n = data_imports.import_catalogue(_services(), files.parse_catalogue(file))
    out.print(f"catalogus: {n} indicatoren ingelezen")


@command("import-targets")
def import_targets(file: FileArg) -> None:
    """Importeer streefwaarden (programme,indicator,target), in procenten 0-100."""
    services = _services()
    targets = files.parse_targets(file, catalogue=queries.catalogue_keys(services))
    out.print(f"streefwaarden: {data_imports.import_targets(services, targets)} ingelezen")


@command("import-averages")
def import_averages(file: FileArg) -> None:
    """Importeer landelijke gemiddelden (programme,indicator,year,national_average), in procenten 0-100."""
    services = _services()
    averages = files.parse_averages(file, catalogue=queries.catalogue_keys(services))
    out.print(f"landelijke gemiddelden: {data_imports.import_averages(services, averages)} ingelezen")


@command("import-indicators")
def import_indicators(file: FileArg, now: NowOption = None, actor: ActorOption = None) -> None:
    """Importeer indicatorcijfers per praktijk (agb_code,programme,indicator,period_end,numerator,denominator)."""
    services = _services()
    moment = _moment(now)
    scores = files.parse_scores(file, today=moment.date(), known_agb_codes=queries.known_practices(services),
                                catalogue=queries.catalogue_keys(services))
    result = data_imports.import_scores(services, scores, source=file.name, now=moment, actor=_actor(actor),
                                        sha256=hashlib.sha256(file.read_bytes()).hexdigest())
    out.print(f"indicatorcijfers: {result.new} nieuw, {result.changed} gewijzigd, {result.unchanged} ongewijzigd")
    if result.changed:
        out.print(f"  {result.changed} eerder ingelezen cijfers vervangen; de oude staan in 'qualitycycle imports'")


@command()
def recalculate(
    extract: Annotated[Path, typer.Argument(help="Gepseudonimiseerd extract: CSV of Parquet, een rij per patiënt "
                                                 "en programma.")],
    period_end: Annotated[str, typer.Option("--period-end", help="Einde van de periode van 12 maanden.")],
    now: NowOption = None,
    actor: ActorOption = None,
) -> None:
    """Herbereken alle indicatoren per praktijk uit een extract; alleen de uitkomsten worden bewaard."""
    moment, end = _moment(now), _date(period_end, "--period-end")
    future = future_fact("--period-end", end, moment.date(), "cijfers tellen pas als de periode voorbij is")
    if future:
        raise CliInputError(future)
    result = data_imports.recalculate_indicators(_services(), extract, end, now=moment, actor=_actor(actor))
    out.print(f"herberekend tot {end.isoformat()}: {result.new} nieuw, {result.changed} gewijzigd, "
              f"{result.unchanged} ongewijzigd (geen patiëntgegevens bewaard)")
