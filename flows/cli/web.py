"""``qualitycycle user`` (accounts of the workspace) and ``qualitycycle web`` (serve it)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from flows.cli import common as cli
from flows.cli.common import app, out

user_app = typer.Typer(cls=cli.ListingGroup, help="Accounts van de werkplek: toevoegen, tonen, uitschakelen, "
                                                  "wachtwoord.")
app.add_typer(user_app, name="user")


def _password() -> str:
    """The password from standard input (one line): never an option, so it stays out of the shell's history."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("Wachtwoord: ")
        if getpass.getpass("Nog eens: ") != first:
            raise cli.CliInputError("de wachtwoorden verschillen")
        return first
    return sys.stdin.readline().rstrip("\r\n")


@cli.command("add", group=user_app)
def add(login: Annotated[str, typer.Argument(help="Gebruikersnaam.")],
        role: Annotated[str, typer.Option("--role", help="admin, officer, board of practice.")],
        practice: Annotated[str | None, typer.Option("--practice", help="AGB-code (bij role practice).")] = None,
        gp_group: Annotated[str | None, typer.Option("--gp-group", help="Huisartsengroep (bij role practice; "
                                                                         "standaard die van de praktijk).")] = None,
        now: cli.NowOption = None, actor: cli.ActorOption = None) -> None:
    """Maak een account; het wachtwoord komt van standaardinvoer."""
    from domain.accounts import AccountRole
    from flows.services.accounts import add_user

    try:
        known = AccountRole(role)
    except ValueError:
        raise cli.CliInputError("--role: kies admin, officer, board of practice") from None
    account = add_user(cli.services(), login, known, _password(), cli.moment(now), cli.actor(actor),
                       agb_code=practice, gp_group=gp_group)
    out.print(f"gebruiker {account.login} ({account.role.value}"
              + (f", praktijk {account.agb_code}" if account.agb_code else "") + ") toegevoegd", markup=False)


@cli.command("list", group=user_app)
def listed(as_json: cli.JsonOption = False) -> None:
    """De accounts: rol, praktijk, uitgeschakeld, mislukte aanmeldingen."""
    import json

    from flows.services.accounts import users

    found = users(cli.services())
    if as_json:
        typer.echo(json.dumps([{"login": a.login, "role": a.role.value, "agb_code": a.agb_code,
                                "gp_group": a.gp_group, "disabled": a.disabled, "created_at": made.isoformat(),
                                "failed_logins": failed} for a, made, failed in found], indent=2))
        return
    table = Table(title="Accounts van de werkplek")
    for column in ("Gebruiker", "Rol", "Praktijk", "Hagro", "Uitgeschakeld", "Mislukt"):
        table.add_column(column)
    for a, _, failed in found:
        table.add_row(a.login, a.role.value, a.agb_code or "", a.gp_group or "", "ja" if a.disabled else "",
                      str(failed or ""))
    out.print(table)


@cli.command("disable", group=user_app)
def disable(login: Annotated[str, typer.Argument(help="Gebruikersnaam.")], now: cli.NowOption = None,
            actor: cli.ActorOption = None) -> None:
    """Schakel een account uit; zijn sessies eindigen."""
    from flows.services.accounts import disable_user

    account = disable_user(cli.services(), login, cli.moment(now), cli.actor(actor))
    out.print(f"gebruiker {account.login} uitgeschakeld", markup=False)


@cli.command("password", group=user_app)
def password(login: Annotated[str, typer.Argument(help="Gebruikersnaam.")], now: cli.NowOption = None,
             actor: cli.ActorOption = None) -> None:
    """Geef een account een nieuw wachtwoord (van standaardinvoer); zijn sessies eindigen."""
    from flows.services.accounts import set_password

    account = set_password(cli.services(), login, _password(), cli.moment(now), cli.actor(actor))
    out.print(f"nieuw wachtwoord voor {account.login}", markup=False)


@cli.command("web")
def web(host: Annotated[str, typer.Option("--host", help="Adres om op te luisteren.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Poort.")] = 8000,
        now: Annotated[str | None, typer.Option("--now", help="Een vast moment in plaats van de klok (bijv. het "
                                                               "einde van de demo).")] = None) -> None:
    """Start de werkplek in de browser op dezelfde database (zet er voor gebruik buiten deze machine een
    TLS-proxy voor: README)."""
    import uvicorn

    from flows.services import bootstrap
    from flows.services import settings as config
    from flows.web.app import create_app

    settings = config.load_settings()
    out.print(f"werkplek op http://{host}:{port}/ (stoppen: Ctrl-C)", markup=False)
    fixed = cli.moment(now) if now else None
    clock = (lambda: fixed) if fixed is not None else None
    uvicorn.run(create_app(bootstrap.open_services(settings), settings, clock), host=host, port=port,
                proxy_headers=True, forwarded_allow_ips="127.0.0.1", log_level="warning")
