"""What every command of ``qualitycycle`` shares: the app, the consoles, the options, error mapping once,
the services opened from the settings, and the modules imported on first use. Messages to staff are Dutch.

Every command that fails on bad input prints what is wrong in one or two lines on stderr,
without a traceback, and exits non-zero (1; 2 for a wrong command line).
"""

from __future__ import annotations

import functools
import getpass
import importlib
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
import typer._click.core as click_core  # typer carries its own click
import typer._click.exceptions as click_errors  # ... and its errors live here
from rich.console import Console
from typer.core import TyperGroup

from domain.clock import AMSTERDAM, MomentError, as_amsterdam, parse_moment


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
    from domain import commands, inputs, registry, trajectory
    from domain import conversations as conversation_model
    from domain import errors as domain_errors
    from flows.services import bootstrap, context, conversations, policy, queries
    from flows.services import imports as data_imports
    from flows.services import settings as config
    from readers import files
else:
    commands = _lazy("domain.commands")
    conversation_model = _lazy("domain.conversations")
    inputs = _lazy("domain.inputs")
    trajectory = _lazy("domain.trajectory")
    domain_errors = _lazy("domain.errors")
    registry = _lazy("domain.registry")
    bootstrap = _lazy("flows.services.bootstrap")
    context = _lazy("flows.services.context")
    conversations = _lazy("flows.services.conversations")
    data_imports = _lazy("flows.services.imports")
    policy = _lazy("flows.services.policy")
    queries = _lazy("flows.services.queries")
    config = _lazy("flows.services.settings")
    files = _lazy("readers.files")


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


class ListingGroup(TyperGroup):
    """A command group that lists when it is given no command of its own: ``qualitycycle support [AGB] [--json]``
    is ``qualitycycle support list [AGB] [--json]`` (the issue's form), while ``support request ...`` and the other
    commands work as named."""

    default = "list"

    def parse_args(self, ctx: click_core.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = [self.default, *args]
        return super().parse_args(ctx, args)


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
            return f"{name}: {inputs.dutch_message(cause.errors()[0])}{see}"
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
        return f"{inputs.field_path(first['loc'])}: {inputs.dutch_message(first)}"
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




def services() -> context.Services:
    return bootstrap.open_services(config.load_settings())


def actor(given: str | None) -> str:
    if given:
        return inputs.checked(inputs.check_name, given, "--actor")
    settings = config.load_settings()
    return settings.actor or f"user:{getpass.getuser()}"


def moment(value: str | None) -> datetime:
    """``--now`` as the product's moment (to the microsecond), else the clock: the edge reads it here."""
    if value is None:
        return as_amsterdam(datetime.now(tz=AMSTERDAM))
    try:
        moment = parse_moment(value)
    except MomentError as exc:
        raise CliInputError(str(exc)) from None
    inputs.checked(inputs.check_date, moment.date(), "--now")
    return moment


def day(value: str, option: str) -> date:
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




def when(moment: datetime | None) -> str:
    return as_amsterdam(moment).isoformat(timespec="minutes") if moment else ""


def short(moment: datetime | None) -> str:
    return as_amsterdam(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def agb_code(value: str) -> str:
    """An AGB code typed on the command line: eight digits (else ``InvalidAgbCodeError``)."""
    return registry.validate_agb_code(value)


def attendees(values: list[str]) -> tuple[conversation_model.Attendee, ...]:
    """``--attendee ROLE=NAME`` values as attendees (a conversation's, a mirror meeting's)."""
    from domain.vocabulary import Role

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


def read_text(path: Path, option: str) -> str:
    """A text file the command is handed (a meeting's minutes), or a clean refusal naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CliInputError(f"{option} {path}: geen tekstbestand (UTF-8)") from None
    except OSError as exc:
        raise CliInputError(f"{option} {path}: kan niet worden gelezen ({exc.strerror or exc})") from None
