"""Commands that walk the engine over time: the demo care group through simulated years, and a backfill that
brings history in over a past span."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli import common as cli
from flows.cli.common import config, err, out
from flows.cli.views import print_status


@cli.command()
def demo(
    years: Annotated[int, typer.Option("--years", min=1, max=5, help="Aantal gesimuleerde jaren.")] = 3,
    practices: Annotated[int, typer.Option("--practices", min=4, max=500, help="Aantal praktijken.")] = 12,
) -> None:
    """Draai een voorbeeldzorggroep door gesimuleerde jaren (eigen database in QC_HOME/demo)."""
    from flows.testing.demo import run_demo

    settings = config.load_settings()
    result = run_demo(settings.home / "demo", years=years, practices=practices)
    print_status(result.status, title=f"Voorbeeldzorggroep na {years} gesimuleerde jaren")
    out.print(result.summary, markup=False)


@cli.command()
def backfill(
    start: Annotated[str, typer.Option("--from", help="Eerste dag van de geschiedenis (JJJJ-MM-DD).")],
    until: Annotated[str | None, typer.Option(
        "--until", help="Tot dit moment (Europe/Amsterdam); standaard: nu.")] = None,
) -> None:
    """Breng geschiedenis in: loop het rooster van --from tot --until door zoals de planners dat hadden gedaan."""
    from flows.services.backfill import NOT_WALKED, BackfillError
    from flows.services.backfill import backfill as walk
    from flows.services.run_report import log_operations_to

    settings = config.load_settings()
    services = cli.services()
    log_operations_to(settings.home)
    now = cli.moment(None)
    try:
        report = walk(services, settings, cli.day(start, "--from"), cli.moment(until) if until else now, now=now)
    except BackfillError as exc:
        raise cli.CliInputError(str(exc)) from None
    if report.done_already:
        out.print(f"backfill {report.start} tot {report.until:%Y-%m-%d %H:%M}: de motor had deze periode al "
                  "beoordeeld; niets te doen", markup=False)
        return
    for duty, name in NOT_WALKED.items():
        out.print(f"niet doorlopen: {duty} ({name})", markup=False)
    runs = ", ".join(f"{duty.replace('_', '-')} {n}x" for duty, n in sorted(report.runs.items()))
    out.print(f"backfill {report.start} tot {report.until:%Y-%m-%d %H:%M}: {runs}; {report.transitions} stappen in "
              f"trajecten, {report.planned} taken gepland, {report.queued} berichten klaargezet, waarvan "
              f"{report.historic} bewaard als historisch (niet verstuurd)", markup=False)
    for what, why in report.failures:
        err.print(f"  fout bij {what}: {why}", markup=False)
    if report.failures:
        err.print(f"mislukt: {len(report.failures)} fout(en)", markup=False)
        raise typer.Exit(1)
