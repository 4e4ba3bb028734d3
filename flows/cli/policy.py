"""``qualitycycle policy``: the policy's versions, setting a new one, and what a proposed one would change."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from flows.cli import common as cli
from flows.cli.common import config, err, inputs, out, policy

policy_app = typer.Typer(no_args_is_help=True, help="Het beleid (alle drempels): versies, wijzigen, eerst proberen.")
cli.app.add_typer(policy_app, name="policy")


def _proposed(file: Path, on: date) -> Any:
    """A policy file's thresholds on top of the policy in force on ``on`` (a file may name only what changes)."""
    from pydantic import ValidationError as PolicyError

    from domain.policy import Policy
    from flows.services.settings import read_policy_file

    services = cli.services().in_force(on)
    try:
        return Policy.model_validate({**services.policy.model_dump(), **read_policy_file(file)})
    except PolicyError as exc:
        first = exc.errors()[0]
        raise cli.CliInputError(f"{file}, {inputs.field_path(first['loc'])}: {inputs.dutch_message(first)}") from None


@cli.command("show", group=policy_app)
def policy_show(as_json: cli.JsonOption = False, now: cli.NowOption = None) -> None:
    """Het beleid nu en alle versies, met de dag vanaf wanneer ze gelden."""
    services = cli.services()
    moment = cli.moment(now)
    versions = policy.policy_versions(services)
    current = services.in_force(moment)
    if as_json:
        typer.echo(json.dumps({
            "in_force": current.policy_label, "policy": current.policy.model_dump(mode="json"),
            "versions": [{"number": v.number, "applies_from": v.applies_from.isoformat() if v.applies_from else None,
                          "reason": v.reason, "policy": v.policy.model_dump(mode="json")} for v in versions],
        }, ensure_ascii=False, indent=2))
        return
    out.print(f"nu van kracht: {current.policy_label}", markup=False)
    for v in versions:
        out.print(f"  {v.label}: {v.reason}", markup=False)
    for name, value in current.policy.model_dump(mode="json").items():
        out.print(f"  {name}: {value}", markup=False)


@cli.command("set", group=policy_app)
def policy_set(
    file: Annotated[Path, typer.Argument(help="YAML of TOML met de drempels die veranderen.")],
    start: Annotated[str, typer.Option("--from", help="Vanaf deze dag geldt het (JJJJ-MM-DD).")],
    reason: Annotated[str, typer.Option("--reason", help="Waarom het beleid verandert.")],
    now: cli.NowOption = None, actor: cli.ActorOption = None,
) -> None:
    """Leg een nieuwe versie van het beleid vast, geldend vanaf een dag; beslissingen noemen hun versie."""
    day = cli.day(start, "--from")
    reason = inputs.checked(inputs.check_text, reason, "--reason")
    proposed = _proposed(file, day)
    number = policy.add_policy_version(cli.services(), proposed, day, reason, cli.moment(now), cli.actor(actor))
    out.print(f"beleid {number} vastgelegd, geldt vanaf {day.isoformat()}: {reason}", markup=False)


@cli.command("what-if", group=policy_app)
def policy_what_if(
    file: Annotated[Path, typer.Argument(help="YAML of TOML met de voorgestelde drempels.")],
    months: Annotated[int, typer.Option("--months", min=1, max=120, help="Hoeveel maanden vooruit.")] = 12,
    since: Annotated[str | None, typer.Option(
        "--from", help="Herbouw de trajecten vanaf deze dag onder beide (anders: vanaf nu vooruit).")] = None,
    now: cli.NowOption = None,
) -> None:
    """Probeer een beleidswijziging eerst: de zorggroep onder het huidige en het voorgestelde beleid, op kopieen
    (niets opgeslagen, niets verstuurd), en per praktijk waar de twee verschillen."""
    from flows.services.whatif import what_if

    moment = cli.moment(now)
    start = cli.day(since, "--from") if since else None
    proposed = _proposed(file, start or moment.date())
    report = what_if(cli.services(), config.load_settings(), proposed, now=moment, months=months, since=start)
    changed = ", ".join(f"{k}: {a} -> {b}" for k, a, b in ((k, *v) for k, v in report.changed.items()))
    out.print(f"wat als {changed or 'niets verandert'} (nu: {report.current}); "
              f"{report.start:%Y-%m-%d} tot {report.until:%Y-%m-%d}" + (", trajecten herbouwd" if start else ""),
              markup=False)
    if not report.differences:
        out.print("geen verschil voor welke praktijk ook", markup=False)
    for agb in report.practices:
        lines = [d for d in report.differences if d.agb_code == agb]
        out.print(f"{agb} {lines[0].name}:", markup=False)
        for d in lines:
            out.print(f"  - {d.text}", markup=False)
    for what, why in report.failures:
        err.print(f"  fout bij {what}: {why}", markup=False)
    if report.failures:
        raise typer.Exit(1)
