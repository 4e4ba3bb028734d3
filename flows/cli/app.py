"""``qualitycycle``: the command line of operations staff. Messages to staff are Dutch.

Every command that fails on bad input prints what is wrong in one or two lines on stderr,
without a traceback, and exits non-zero (1; 2 for a wrong command line).
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import importlib
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
import typer._click.exceptions as click_errors  # typer carries its own click; its errors live here
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from domain.clock import AMSTERDAM, MomentError, as_amsterdam, future_fact, parse_moment
from domain.vocabulary import KIND_NAMES_NL, STATE_NAMES_NL, ConversationKind, Programme, Role, message_kind_nl


class _lazy:  # lower case: it stands where a module name stands
    """A module imported on first use."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


# Each command imports what it needs when it runs: the models, the database, Polars and Prefect are not loaded
# to show --help or to parse a command line (``qualitycycle --help`` starts several times faster). A module bound
# here by ``_lazy`` is imported on its first attribute; mypy reads the real imports.
if TYPE_CHECKING:
    from domain import commands, inputs, trajectory
    from domain import conversations as conversation_model
    from domain import errors as domain_errors
    from flows.services import bootstrap, context, conversations, policy, queries
    from flows.services import imports as data_imports
    from flows.services import settings as config
    from readers import files
    from statemachines import trajectory as machine
    from storage import database
else:
    commands = _lazy("domain.commands")
    conversation_model = _lazy("domain.conversations")
    inputs = _lazy("domain.inputs")
    trajectory = _lazy("domain.trajectory")
    domain_errors = _lazy("domain.errors")
    bootstrap = _lazy("flows.services.bootstrap")
    context = _lazy("flows.services.context")
    conversations = _lazy("flows.services.conversations")
    data_imports = _lazy("flows.services.imports")
    policy = _lazy("flows.services.policy")
    queries = _lazy("flows.services.queries")
    config = _lazy("flows.services.settings")
    files = _lazy("readers.files")
    machine = _lazy("statemachines.trajectory")
    database = _lazy("storage.database")


class _DutchCommandLine(TyperGroup):
    """The command group whose usage errors (an unknown command or option, a missing argument, a value of the
    wrong kind) are one Dutch line on stderr, exit 2, instead of click's English box."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except click_errors.UsageError as exc:
            err.print(f"fout: {inputs.printable(_usage_nl(exc))}", markup=False)
            sys.exit(2)
        except click_errors.ClickException as exc:
            err.print(f"fout: {inputs.printable(exc.format_message())}", markup=False)
            sys.exit(exc.exit_code)
        except typer.Abort:
            err.print("afgebroken", markup=False)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _usage_nl(exc: click_errors.UsageError) -> str:
    """A usage error in Dutch, with where to read how the command is used."""
    command = exc.ctx.command_path if exc.ctx is not None else "qualitycycle"
    see = f" (zie {command} --help)"
    if isinstance(exc, click_errors.MissingParameter):
        name = "/".join(getattr(exc.param, "opts", None) or [])
        if getattr(exc.param, "param_type_name", "") == "argument":
            name = f"argument {name.upper()}"
        return f"{name or 'een argument'} ontbreekt{see}"
    if isinstance(exc, click_errors.BadParameter):
        name = "/".join(getattr(exc.param, "opts", None) or []) or "waarde"
        from pydantic import ValidationError

        cause = exc.__cause__
        if isinstance(cause, ValidationError) and cause.errors():
            return f"{name}: {files.dutch_message(cause.errors()[0])}{see}"
        return f"{name}: ongeldige waarde{see}"
    if isinstance(exc, click_errors.NoSuchOption):
        maybe = f"; bedoelt u {' of '.join(exc.possibilities)}?" if exc.possibilities else ""
        return f"onbekende optie {exc.option_name}{maybe}{see}"
    if isinstance(exc, click_errors.BadOptionUsage):
        return f"optie {exc.option_name} heeft een waarde nodig{see}"
    unknown = re.match(r"No such command '(.*)'", exc.message)
    if unknown:
        return f"onbekende opdracht {unknown.group(1)!r}{see}"
    if exc.message.startswith("Got unexpected extra argument"):
        return f"te veel argumenten{see}"
    return f"onjuist gebruik{see}"


app = typer.Typer(cls=_DutchCommandLine, add_completion=False, no_args_is_help=True,
                  help="qualitycycle: de kwaliteitscyclus van de zorggroep (gesprekken, verbetertrajecten, bestuur).")
out = Console(markup=False, highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
# never wrap: a message stays one line, a path whole; no markup: a name like "[/x]" is text, not a style
err = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


class CliInputError(domain_errors.InputError):
    """A command-line value is wrong."""


def _known_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean "refused" (``QualityCycleError``: bad input, unknown, a conflict, a date in the
    future; and a model's validation): one Dutch line, exit 1."""
    from pydantic import ValidationError

    return (domain_errors.QualityCycleError, ValidationError)


@contextmanager
def _friendly_errors() -> Iterator[None]:
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        from sqlalchemy.exc import IntegrityError, OperationalError

        if isinstance(exc, _known_errors()):
            err.print(f"fout: {inputs.printable(_one_line(exc))}", markup=False)
        elif isinstance(exc, IntegrityError):
            err.print("fout: iemand anders legde tegelijk hetzelfde vast; er is niets dubbel opgeslagen, "
                      "probeer het opnieuw", markup=False)
        elif isinstance(exc, OSError):
            err.print(f"fout: {inputs.printable(str(exc.filename or 'bestand'))} kan niet worden gelezen of "
                      f"geschreven: {exc.strerror}", markup=False)
        elif isinstance(exc, OperationalError):
            err.print("fout: database niet bereikbaar of niet bruikbaar: "
                      f"{inputs.printable(' '.join(str(exc.orig).split()))}", markup=False)
        else:
            raise
        raise typer.Exit(1) from None


def _one_line(exc: BaseException) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{files.field_path(first['loc'])}: {files.dutch_message(first)}"
    return str(exc)


def command(name: str | None = None, *, group: typer.Typer | None = None, **kw: Any) -> Callable[[F], F]:
    def wrap(func: F) -> F:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with _friendly_errors():
                return func(*args, **kwargs)

        (group or app).command(name, **kw)(run)
        return func

    return wrap


policy_app = typer.Typer(no_args_is_help=True, help="Het beleid (alle drempels): versies, wijzigen, eerst proberen.")
app.add_typer(policy_app, name="policy")


def _services() -> context.Services:
    return bootstrap.open_services(config.load_settings())


def _actor(given: str | None) -> str:
    if given:
        return inputs.checked(inputs.check_name, given, "--actor")
    settings = config.load_settings()
    return settings.actor or f"user:{getpass.getuser()}"


def _moment(value: str | None) -> datetime:
    """``--now`` as the product's moment (to the microsecond), else the clock: the edge reads it here."""
    if value is None:
        return as_amsterdam(datetime.now(tz=AMSTERDAM))
    try:
        moment = parse_moment(value)
    except MomentError as exc:
        raise CliInputError(str(exc)) from None
    inputs.checked(inputs.check_date, moment.date(), "--now")
    return moment


def _date(value: str, option: str) -> date:
    """A date option (``--on``), refused with the option's name when unreadable or outside the horizon."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise CliInputError(f"{option} {inputs.shown(value)}: onleesbare of onbestaande datum; "
                            "gebruik JJJJ-MM-DD") from None
    return inputs.checked(inputs.check_date, day, option)


NowOption = Annotated[str | None, typer.Option("--now", help="Het moment (Europe/Amsterdam); standaard: nu.")]
ActorOption = Annotated[str | None, typer.Option("--actor", help="Wie dit vastlegt (standaard QC_ACTOR of gebruiker).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Uitvoer als JSON.")]
AsOfOption = Annotated[str | None, typer.Option(
    "--as-of", help="Zoals het stond op deze datum (eind van de dag) of dit moment, herbouwd uit de gebeurtenissen.")]
FileArg = Annotated[Path, typer.Argument(help="CSV (komma of puntkomma, UTF-8 met of zonder BOM) of XLSX.")]


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


def _attendees(values: list[str]) -> tuple[conversation_model.Attendee, ...]:
    attendees = []
    for value in values:
        role, sep, name = value.partition("=")
        if not sep or not name.strip():
            raise CliInputError(f"--attendee {inputs.shown(value)}: gebruik ROL=NAAM, "
                                "bijvoorbeeld gp_principal='Dr. Bakker'")
        try:
            known = Role(role.strip())
        except ValueError:
            roles = ", ".join(r.value for r in Role)
            raise CliInputError(f"--attendee: onbekende rol {inputs.shown(role)} (mogelijk: {roles})") from None
        name = inputs.checked(inputs.check_name, name, f"--attendee {known.value}=")
        attendees.append(conversation_model.Attendee(role=known, name=name))
    return tuple(attendees)


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


@command("record-conversation")
def record_conversation(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    kind: Annotated[ConversationKind, typer.Option("--kind", help="start, annual of extra.")],
    held_on: Annotated[str, typer.Option("--held-on", help="Datum van het gesprek (JJJJ-MM-DD).")],
    programme: Annotated[Programme | None, typer.Option("--programme", help="Programma (startgesprek).")] = None,
    attendee: Annotated[list[str] | None, typer.Option("--attendee", help="ROL=NAAM, herhaalbaar.")] = None,
    plan: Annotated[Path | None, typer.Option("--plan", help="YAML met het verbeterplan (extra gesprek).")] = None,
    now: NowOption = None,
    actor: ActorOption = None,
) -> None:
    """Leg een gesprek vast (start, kwaliteitsjaargesprek of extra gesprek) en neem de bijbehorende stap."""
    cmd = commands.RecordConversation(
        agb_code=files.agb_code_argument(agb), kind=kind, held_on=_date(held_on, "--held-on"), programme=programme,
        attendees=_attendees(attendee or []), plan=files.parse_plan(plan) if plan else None,
    )
    _describe_conversation(conversations.record_conversation(_services(), cmd, _moment(now), _actor(actor),
                                                             plan_source=str(plan) if plan else "verbeterplan"))


@command("import-conversations")
def import_conversations(file: FileArg, now: NowOption = None, actor: ActorOption = None) -> None:
    """Leg eerder gehouden gesprekken vast uit een spreadsheet (agb_code,kind,held_on[,programme])."""
    services = _services()
    lines = files.parse_conversations(file, known_agb_codes=queries.known_practices(services),
                                     today=_moment(now).date())
    results = data_imports.import_conversations(services, lines, _moment(now), _actor(actor), source=str(file))
    new = sum(1 for r in results if not r.already_recorded)
    out.print(f"gesprekken: {new} vastgelegd, {len(results) - new} waren al bekend")


@command()
def leave(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    on: Annotated[str, typer.Option("--on", help="Datum van vertrek (JJJJ-MM-DD).")],
    reason: Annotated[str, typer.Option("--reason", help="Waarom de praktijk vertrekt.")],
    now: NowOption = None,
    actor: ActorOption = None,
) -> None:
    """Een praktijk verlaat de kwaliteitscyclus van de zorggroep."""
    leaving = commands.LeaveProgramme(agb_code=files.agb_code_argument(agb), on=_date(on, "--on"),
                                      reason=inputs.checked(inputs.check_text, reason, "--reason"))
    result = conversations.leave(_services(), leaving, _moment(now), _actor(actor))
    if result.transition is not None:
        event = result.transition
        out.print(f"praktijk {event.agb_code}: {STATE_NAMES_NL[event.from_state]} -> "
                  f"{STATE_NAMES_NL[event.to_state]}")
    else:
        out.print(f"vertrek van {result.agb_code} op {result.on} vastgelegd; traject: {result.waiting}", markup=False)


def _print_duty(report: Any) -> None:
    from flows.services import run_report

    out.print(run_report.headline(report), markup=False)
    for t in report.transitions:
        states = STATE_NAMES_NL
        out.print(f"  {t.agb_code} {t.name}: {states[t.from_state]} -> {states[t.to_state]} "
                  f"({t.trigger.value}) {t.summary}", markup=False)
    for line in run_report.deferred_lines(report):
        out.print(f"  {line}", markup=False)
    for line in run_report.failure_lines(report):
        err.print(f"  {line}", markup=False)


@command()
def run(
    now: Annotated[str | None, typer.Option(
        "--now", help="Voer elke geplande taak eenmaal uit voor dit moment (Europe/Amsterdam) en stop. "
        "Zonder --now: blijf draaien en voer het rooster uit (ingebouwde planner, zonder Prefect-server).")] = None,
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Alleen deze taak (herhaalbaar): recalculate-indicators, sweep-due, plan-meetings, "
        "refresh-kits, board-digest of dispatch-outbox.")] = None,
) -> None:
    """Voer het rooster van de zorggroep uit: eenmaal voor een moment (--now), of doorlopend."""
    from flows.schedule import BY_NAME, run_all

    unknown = [name for name in only or [] if name not in BY_NAME]
    if only and now is None:
        raise CliInputError("--only werkt alleen samen met --now (de ingebouwde planner voert het hele rooster uit)")
    if unknown:
        raise CliInputError(f"onbekende taak {unknown[0]!r}; bekend zijn: {', '.join(BY_NAME)}")
    if now is None:
        from flows.runners.embedded import JOB_TABLE, serve_embedded

        settings = config.load_settings()
        out.print(f"ingebouwde planner gestart (taken in tabel {JOB_TABLE} van de eigen database); "
                  "stoppen met Ctrl-C of SIGTERM", markup=False)
        for name, duty in BY_NAME.items():
            out.print(f"  {name}: '{duty.cron}' (Europe/Amsterdam) {duty.title_nl}", markup=False)
        serve_embedded(settings)
        out.print("ingebouwde planner gestopt", markup=False)
        return
    moment = _moment(now)
    settings = config.load_settings()
    services = _services()
    from flows.services.run_report import log_operations_to

    log_operations_to(settings.home)  # tracebacks of unexpected failures, for whoever maintains the product
    reports = run_all(services, moment, settings, tuple(only) if only else None)
    for report in reports:
        _print_duty(report)
    if any(r.failures for r in reports):
        from flows.services import run_report

        err.print(f"mislukt: {run_report.failure_message(reports)}", markup=False)
        raise typer.Exit(1)


@command()
def plan(
    now: NowOption = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Waarom opnieuw gepland wordt (bijv. "
                                                                "'sluitingsdag 24 december toegevoegd').")] = None,
    actor: ActorOption = None,
) -> None:
    """Plan alle taken van de praktijken (opnieuw), bijvoorbeeld na een wijziging van kalender of beleid."""
    from flows.services.planning import plan_obligations

    _print_duty(plan_obligations(_services(), _moment(now), actor=_actor(actor), reason=reason))


STATUS_NL = {"open": "open", "done": "afgerond", "cancelled": "vervallen"}


@command()
def obligations(
    agb: Annotated[str | None, typer.Argument(help="AGB-code; zonder: alle praktijken en de overleggen.")] = None,
    status_filter: Annotated[str | None, typer.Option("--status", help="open, done of cancelled.")] = "open",
    history_of: Annotated[str | None, typer.Option("--changes", help="Toon de wijzigingen van deze taak (sleutel).")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Toon de taken (gesprekken, overleggen, koffers, scholing) met hun uiterste datum."""
    from domain.obligations import OBLIGATION_NAMES_NL, ObligationKind

    services = _services()
    if history_of is not None:
        logged = queries.obligation_changes(services, history_of)
        if as_json:
            out.print(json.dumps([{"at": c.at.isoformat(), "change": c.change, "old": c.old, "new": c.new,
                                   "reason": c.reason, "actor": c.actor} for c in logged], ensure_ascii=False))
            return
        for c in logged:
            out.print(f"{_short(c.at)} {c.change}: {c.reason} ({c.actor})", markup=False)
        return
    found = queries.obligations(services, agb_code=agb, status=status_filter or None)
    if as_json:
        out.print(json.dumps([{"key": r.key, "kind": r.kind, "agb_code": r.agb_code, "subject": r.subject,
                               "anchor_on": r.anchor_on.isoformat(), "due_on": r.due_on.isoformat(),
                               "planned_on": r.planned_on.isoformat() if r.planned_on else None,
                               "status": r.status, "notices_done": r.notices_done,
                               "next_notice_on": r.next_notice_on.isoformat() if r.next_notice_on else None,
                               "close_reason": r.close_reason} for r in found], ensure_ascii=False))
        return
    table = Table(title="Taken")
    for column in ("taak", "praktijk", "onderwerp", "uiterlijk", "gepland op", "status", "berichten", "sleutel"):
        table.add_column(column)
    for r in found:
        table.add_row(OBLIGATION_NAMES_NL[ObligationKind(r.kind)], r.agb_code or "zorggroep", r.subject,
                      r.due_on.isoformat(), r.planned_on.isoformat() if r.planned_on else "",
                      STATUS_NL.get(r.status, r.status), ", ".join(r.notices_done), r.key)
    out.print(table)


@command("record-kit-refresh")
def record_kit_refresh(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    kit: Annotated[str, typer.Argument(help="inhalation (inhalatie) of insulin (insuline).")],
    on: Annotated[str, typer.Option("--on", help="Datum van actualisatie (JJJJ-MM-DD).")],
    now: NowOption = None, actor: ActorOption = None,
) -> None:
    """Leg vast dat een instructiekoffer van een praktijk is geactualiseerd."""
    from domain.obligations import KitKind
    from flows.services.kits_and_courses import record_kit_refresh as record

    aliases = {"inhalatie": "inhalation", "insuline": "insulin"}
    try:
        kind = KitKind(aliases.get(kit, kit))
    except ValueError:
        raise CliInputError(f"onbekende koffer {kit!r}: gebruik inhalation of insulin") from None
    new = record(_services(), files.agb_code_argument(agb), kind, _date(on, "--on"), _moment(now), _actor(actor))
    out.print(f"koffer {kind.value} van {agb} geactualiseerd op {on}" + ("" if new else " (was al vastgelegd)"))


@command("record-training")
def record_training(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    person: Annotated[str, typer.Argument(help="Naam zoals in het register.")],
    course: Annotated[str, typer.Argument(help="Code van de scholing, bijv. caspir of langerhans.")],
    on: Annotated[str, typer.Option("--on", help="Datum waarop de scholing is gevolgd (JJJJ-MM-DD).")],
    now: NowOption = None, actor: ActorOption = None,
) -> None:
    """Leg vast dat iemand een verplichte scholing heeft gevolgd."""
    from flows.services.kits_and_courses import record_course_completion

    person = inputs.checked(inputs.check_name, person, "PERSON (naam)")
    new = record_course_completion(_services(), files.agb_code_argument(agb), person, course, _date(on, "--on"),
                                   _moment(now), _actor(actor))
    out.print(f"scholing {course} van {person} ({agb}) vastgelegd op {on}" + ("" if new else " (was al vastgelegd)"))


@command()
def runs(duty: Annotated[str | None, typer.Argument(help="Bijv. sweep_due.")] = None, as_json: JsonOption = False
         ) -> None:
    """Toon de laatste runs van de taken en wat ze deden."""
    rows = queries.duty_runs(_services(), duty)
    if as_json:
        out.print(json.dumps([r.summary for r in rows], ensure_ascii=False))
        return
    from flows.services.run_report import title

    for r in rows:
        sm = r.summary
        out.print(f"{_short(r.moment)} {title(r.duty)}: {sm.get('practices', 0)} praktijken, {sm.get('planned', 0)} "
                  f"gepland, {sm.get('messages', 0)} berichten, {len(sm.get('failures', []))} fouten ({r.actor})",
                  markup=False)


@command()
def serve(
    limit: Annotated[int | None, typer.Option("--limit", help="Hoeveel runs tegelijk.")] = None,
) -> None:
    """Registreer het rooster als Prefect-deployments bij de Prefect-server (PREFECT_API_URL) en voer uit."""
    from flows.runners.prefect_flows import serve_deployments

    serve_deployments(limit=limit)


@command()
def deploy(
    pool: Annotated[str, typer.Option("--pool", help="Naam van de Prefect work pool (type process).")],
) -> None:
    """Registreer het rooster als deployments op een Prefect work pool, voor workers op meerdere machines."""
    from flows.runners.prefect_flows import deploy_to_pool

    ids = deploy_to_pool(pool)
    out.print(f"{len(ids)} deployments geregistreerd op work pool {pool}; start workers met "
              f"'qualitycycle worker --pool {pool}'", markup=False)


@command()
def worker(
    pool: Annotated[str, typer.Option("--pool", help="Naam van de Prefect work pool (type process).")],
    name: Annotated[str | None, typer.Option("--name", help="Naam van deze worker in de Prefect-UI.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Hoeveel runs tegelijk.")] = None,
) -> None:
    """Voer de runs van een work pool uit; stopt netjes op SIGTERM of Ctrl-C (lopende runs maken af)."""
    from flows.runners.prefect_flows import run_worker

    run_worker(pool, name=name, limit=limit)


def _short_reason(reason: dict[str, Any]) -> str:
    if "indicator" not in reason:
        return str(reason.get("explanation", ""))
    reference = "streef" if reason.get("reference") == "target" else "landelijk"
    return (f"{reason['programme']}/{reason['indicator']} {reason['score']:.1f}% "
            f"({reference} {reason['reference_value']:.1f}%, grens {reason['threshold']:.1f}%)").replace(".", ",")


def _status_table(lines: list[queries.StatusLine], title: str = "Praktijken") -> Table:
    table = Table(title=title, show_lines=False)
    for column in ("AGB", "Praktijk", "Hagro", "Toestand", "Sinds", "Volgende", "Redenen"):
        table.add_column(column, overflow="fold")
    for line in lines:
        reasons = "; ".join([_short_reason(r) for r in line.reasons]
                            + [f"bericht wacht: {held}" for held in line.held_messages]
                            + [f"stap wacht: {step}" for step in line.waiting_steps])
        due = f"{line.next_due.name_nl} {line.next_due.on.isoformat()}" if line.next_due else ""
        table.add_row(line.agb_code, line.name, line.gp_group or "", STATE_NAMES_NL[line.state],
                      line.since.date().isoformat() if line.since else "", due, reasons)
    return table


@command()
def status(as_json: JsonOption = False, as_of: AsOfOption = None) -> None:
    """Waar staat elke praktijk in de kwaliteitscyclus, sinds wanneer, waarom, en wat komt er aan."""
    moment = _as_of(as_of)
    lines = queries.status(_services(), moment, now=_moment(None))
    if as_json:
        typer.echo(json.dumps([line.as_json() for line in lines], ensure_ascii=False, indent=2))
    else:
        out.print(_status_table(lines, "Praktijken" + (f" op {moment:%Y-%m-%d %H:%M}" if moment else "")))


@command()
def history(agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")], as_json: JsonOption = False,
            as_of: AsOfOption = None) -> None:
    """De gebeurtenissen van het traject van een praktijk, in volgorde."""
    moment = _as_of(as_of)
    events = queries.history(_services(), files.agb_code_argument(agb), moment)
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
        return datetime.combine(_date(value.strip(), "--as-of"), time.max, tzinfo=AMSTERDAM)
    return _moment(value)


@command()
def replay(
    agb: Annotated[str | None, typer.Argument(help="AGB-code; zonder: alle praktijken.")] = None,
) -> None:
    """Herbouw de toestand uit de gebeurtenissen en vergelijk met de opgeslagen toestand."""
    services = _services()
    codes = [files.agb_code_argument(agb)] if agb else sorted(queries.known_practices(services))
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


@command()
def indicators(
    agb: Annotated[str | None, typer.Argument(help="AGB-code van de praktijk.")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Einde van de periode (standaard: laatste).")] = None,
    gp_group: Annotated[str | None, typer.Option("--gp-group", help="Een huisartsengroep, samengeteld.")] = None,
    care_group: Annotated[bool, typer.Option("--care-group", help="De hele zorggroep, samengeteld.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Indicatoren tegen streefwaarde en landelijk gemiddelde, met 95%-interval, verandering over een jaar en
    de spreiding binnen de zorggroep."""
    if sum(x is not None and x is not False for x in (agb, gp_group, care_group or None)) != 1:
        raise CliInputError("geef precies een van: AGB-code, --gp-group CODE of --care-group")
    view = queries.indicator_view(_services(), agb_code=files.agb_code_argument(agb) if agb else None,
                                  gp_group=gp_group, period_end=_date(period, "--period") if period else None,
                                  on=_moment(None).date())
    if as_json:
        typer.echo(json.dumps({"scope": view.scope, "period_end": view.period_end.isoformat() if view.period_end
                               else None, "indicators": [line.as_json() for line in view.lines]},
                              ensure_ascii=False, indent=2))
        return
    if view.period_end is None:
        out.print(f"{view.scope}: nog geen indicatorcijfers")
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
            f"{_nl(line.interval[0])}-{_nl(line.interval[1])}", f"{line.numerator}/{line.denominator}",
            _nl(line.target), _nl(line.gap_to_target, signed=True), national,
            _nl(line.gap_to_national_average, signed=True),
            _nl(line.change_over_year, signed=True) if line.change_over_year is not None else "-",
            f"{_nl(ref.p10)} - {_nl(ref.median)} - {_nl(ref.p90)} (n={ref.practices})" if ref else "-",
        )
    out.print(table)


@command()
def chart(
    agb: Annotated[str, typer.Argument(help="AGB-code van de praktijk.")],
    output: Annotated[Path, typer.Option("--out", help="SVG-bestand om te schrijven.")],
    all_indicators: Annotated[bool, typer.Option("--all", help="Ook de niet-hoofdindicatoren.")] = False,
) -> None:
    """Grafiek per indicator: score door de tijd tegen streefwaarde en landelijk gemiddelde (SVG)."""
    from notifications.charts import practice_chart_svg

    title, series = queries.chart_series(_services(), files.agb_code_argument(agb), main_only=not all_indicators)
    output.write_text(practice_chart_svg(title, series), encoding="utf-8")
    out.print(f"grafiek geschreven: {output} ({len(series)} indicatoren)")


@command()
def imports(
    agb: Annotated[str | None, typer.Option("--revisions", help="Vervangen cijfers van deze praktijk.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Welke indicatorbestanden wanneer zijn ingelezen, en welke cijfers een correctie verving."""
    services = _services()
    log, revised = queries.import_log(services, files.agb_code_argument(agb) if agb else None)
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


@command()
def diagram() -> None:
    """De toestandsmachine van een traject als Mermaid-diagram."""
    typer.echo(machine.mermaid(), nl=False)


@command()
def demo(
    years: Annotated[int, typer.Option("--years", min=1, max=5, help="Aantal gesimuleerde jaren.")] = 3,
    practices: Annotated[int, typer.Option("--practices", min=4, max=500, help="Aantal praktijken.")] = 12,
) -> None:
    """Draai een voorbeeldzorggroep door gesimuleerde jaren (eigen database in QC_HOME/demo)."""
    from flows.testing.demo import run_demo

    settings = config.load_settings()
    result = run_demo(settings.home / "demo", years=years, practices=practices)
    out.print(_status_table(result.status, title=f"Voorbeeldzorggroep na {years} gesimuleerde jaren"))
    out.print(result.summary, markup=False)


OUTBOX_STATUS_NL = {"pending": "wacht", "sending": "bezig", "sent": "verzonden", "failed": "mislukt",
                    "withdrawn": "ingetrokken", "historic": "historisch (niet verstuurd)"}


def _when(moment: datetime | None) -> str:
    return as_amsterdam(moment).isoformat(timespec="minutes") if moment else ""


def _short(moment: datetime | None) -> str:
    return as_amsterdam(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


@command()
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
    services = _services()
    log_operations_to(settings.home)
    now = _moment(None)
    try:
        report = walk(services, settings, _date(start, "--from"), _moment(until) if until else now, now=now)
    except BackfillError as exc:
        raise CliInputError(str(exc)) from None
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


@command()
def outbox(
    status: Annotated[str | None, typer.Option(
        "--status", help="pending, sending, sent, failed of historic.")] = None,
    as_json: JsonOption = False,
) -> None:
    """De berichten in de outbox: wat wacht (en waarom), wat is verzonden en wat is mislukt."""
    if status is not None and status not in OUTBOX_STATUS_NL:
        raise CliInputError(f"--status {status!r} onbekend: kies uit {', '.join(OUTBOX_STATUS_NL)}")
    services = _services()
    rows = queries.outbox_messages(services, status)
    if as_json:
        typer.echo(json.dumps([{
            "id": r.id, "key": r.key, "kind": r.kind, "agb_code": r.agb_code, "recipient_name": r.recipient_name,
            "recipient_email": r.recipient_email, "recipient_role": r.recipient_role, "subject": r.subject,
            "status": r.status, "attempts": r.attempts, "last_error": r.last_error, "message_id": r.message_id,
            "created_at": _when(r.created_at) or None, "last_attempt_at": _when(r.last_attempt_at) or None,
            "next_attempt_at": _when(r.next_attempt_at) or None, "sent_at": _when(r.sent_at) or None,
        } for r in rows], ensure_ascii=False, indent=2))
        return
    table = Table(title="Outbox" + (f" ({OUTBOX_STATUS_NL[status]})" if status else ""),
                  caption="onderwerp, Message-ID en alle tijden: --json")
    for column in ("Aangemaakt", "Soort", "Praktijk", "Ontvanger", "Status", "Pogingen", "Verzonden/volgende",
                   "Reden"):
        table.add_column(column, overflow="fold")
    for r in rows:
        who = f"{r.recipient_name} <{r.recipient_email}>" if r.recipient_email else f"{r.recipient_name} (geen adres)"
        when = r.sent_at if r.status == "sent" else r.next_attempt_at
        table.add_row(_short(r.created_at), message_kind_nl(r.kind), r.agb_code or "", who,
                      OUTBOX_STATUS_NL.get(r.status, r.status),
                      str(r.attempts), _short(when), r.last_error or "")
    out.print(table)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    out.print(", ".join(f"{OUTBOX_STATUS_NL.get(k, k)}: {n}" for k, n in sorted(counts.items())) or "outbox is leeg")


@command()
def send(now: NowOption = None) -> None:
    """Verstuur nu alle berichten die aan de beurt zijn (via SMTP, of als .eml-bestand in QC_HOME/outbox)."""
    from flows.services.outbox import channel_from_settings, dispatch_outbox

    settings = config.load_settings()
    services = _services()
    report = dispatch_outbox(services, channel_from_settings(settings), _moment(now), mail_from=settings.mail_from)
    resent = f" (waarvan {len(report.resent)} opnieuw na een onderbreking)" if report.resent else ""
    out.print(f"verzenden via {report.channel}: {len(report.sent)} verzonden{resent}, "
              f"{len(report.retrying)} later opnieuw, {len(report.failed)} mislukt, "
              f"{len(report.held)} wachten op een e-mailadres", markup=False)
    for p in report.retrying:
        err.print(f"  later opnieuw (vanaf {_when(p.next_attempt_at)}): {p.key}: {p.reason}", markup=False)
    for p in report.failed:
        err.print(f"  mislukt, opgegeven: {p.key}: {p.reason}", markup=False)
    for p in report.held:
        err.print(f"  wacht: {p.key}: {p.reason}", markup=False)
    if report.notices_queued:
        out.print(f"  {report.notices_queued} melding(en) over een ontbrekend adres aan de functionarissen klaargezet")
    if report.failed:
        raise typer.Exit(1)


@command()
def preview(
    kind: Annotated[str, typer.Argument(help="Soort bericht, bijvoorbeeld conversation_invitation.")],
    output: Annotated[Path | None, typer.Option("--out", help="Schrijf naar een bestand: .eml het hele bericht, "
                                                              ".html de HTML-versie, .ics de agenda-uitnodiging, "
                                                              "anders de tekst.")] = None,
) -> None:
    """Toon een voorbeeldbericht van een soort, zodat de tekst gecontroleerd kan worden."""
    from notifications.channels import message_bytes
    from notifications.rendering import KINDS, RenderError, render, sample_messages

    samples = sample_messages()
    if kind not in samples:
        raise CliInputError(f"onbekende berichtsoort {kind!r}: kies uit {', '.join(KINDS)}")
    try:
        msg = render(samples[kind], mail_from=config.load_settings().mail_from, now=_moment(None))
    except RenderError as exc:
        raise CliInputError(str(exc)) from None
    body = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    text = body.get_content() if body is not None else ""
    attachments = [(part.get_filename() or "", part) for part in msg.iter_attachments()]
    if output is not None:
        suffix = output.suffix.lower()
        if suffix == ".eml":
            output.write_bytes(message_bytes(msg))
        elif suffix in (".html", ".htm"):
            output.write_text(html.get_content() if html is not None else "", encoding="utf-8")
        elif suffix == ".ics":
            invite = next((part for name, part in attachments if name.endswith(".ics")), None)
            if invite is None:
                raise CliInputError(f"berichtsoort {kind} heeft geen agenda-uitnodiging")
            data = invite.get_payload(decode=True)
            output.write_bytes(data if isinstance(data, bytes) else b"")
        else:
            output.write_text(text, encoding="utf-8")
        out.print(f"voorbeeld {kind} geschreven: {output}", markup=False)
        return
    typer.echo(f"Van: {msg['From']}\nAan: {msg['To']}\nOnderwerp: {msg['Subject']}\n")
    typer.echo(text, nl=False)
    for name, part in attachments:
        typer.echo(f"[bijlage: {name} ({part.get_content_type()})]")


def main() -> None:
    app()


if __name__ == "__main__":
    main()


# --------------------------------------------------------------------------- the policy and its versions


def _proposed(file: Path, on: date) -> Any:
    """A policy file's thresholds on top of the policy in force on ``on`` (a file may name only what changes)."""
    from pydantic import ValidationError as PolicyError

    from domain.policy import Policy
    from flows.services.settings import read_policy_file

    services = _services().in_force(on)
    try:
        return Policy.model_validate({**services.policy.model_dump(), **read_policy_file(file)})
    except PolicyError as exc:
        first = exc.errors()[0]
        raise CliInputError(f"{file}, {files.field_path(first['loc'])}: {files.dutch_message(first)}") from None


@command("show", group=policy_app)
def policy_show(as_json: JsonOption = False, now: NowOption = None) -> None:
    """Het beleid nu en alle versies, met de dag vanaf wanneer ze gelden."""
    services = _services()
    moment = _moment(now)
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


@command("set", group=policy_app)
def policy_set(
    file: Annotated[Path, typer.Argument(help="YAML of TOML met de drempels die veranderen.")],
    start: Annotated[str, typer.Option("--from", help="Vanaf deze dag geldt het (JJJJ-MM-DD).")],
    reason: Annotated[str, typer.Option("--reason", help="Waarom het beleid verandert.")],
    now: NowOption = None, actor: ActorOption = None,
) -> None:
    """Leg een nieuwe versie van het beleid vast, geldend vanaf een dag; beslissingen noemen hun versie."""
    day = _date(start, "--from")
    reason = inputs.checked(inputs.check_text, reason, "--reason")
    proposed = _proposed(file, day)
    number = policy.add_policy_version(_services(), proposed, day, reason, _moment(now), _actor(actor))
    out.print(f"beleid {number} vastgelegd, geldt vanaf {day.isoformat()}: {reason}", markup=False)


@command("what-if", group=policy_app)
def policy_what_if(
    file: Annotated[Path, typer.Argument(help="YAML of TOML met de voorgestelde drempels.")],
    months: Annotated[int, typer.Option("--months", min=1, max=120, help="Hoeveel maanden vooruit.")] = 12,
    since: Annotated[str | None, typer.Option(
        "--from", help="Herbouw de trajecten vanaf deze dag onder beide (anders: vanaf nu vooruit).")] = None,
    now: NowOption = None,
) -> None:
    """Probeer een beleidswijziging eerst: de zorggroep onder het huidige en het voorgestelde beleid, op kopieen
    (niets opgeslagen, niets verstuurd), en per praktijk waar de twee verschillen."""
    from flows.services.whatif import what_if

    moment = _moment(now)
    start = _date(since, "--from") if since else None
    proposed = _proposed(file, start or moment.date())
    report = what_if(_services(), config.load_settings(), proposed, now=moment, months=months, since=start)
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
