"""Settings from ``QC_``-prefixed environment variables and an optional TOML settings file.

Precedence: environment, then the settings file (``QC_SETTINGS_FILE``, else ``./qualitycycle.toml``
when present), then defaults. The policy comes from ``QC_POLICY_FILE`` (YAML or TOML) when set,
else from a ``[policy]`` table in the settings file, else ``Policy()``'s defaults.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError as PydanticSettingsError

from domain.calendar import WorkingCalendar
from domain.errors import InputError
from domain.inputs import Email, Name
from domain.policy import Policy
from storage.database import CONNECT_TIMEOUT, STATEMENT_TIMEOUT, DatabaseUrlError, parse_url, sqlite_url


class SettingsError(InputError):
    """A setting or a settings file is wrong; the message says which."""


class PrefectServerMissingError(SettingsError):
    """No Prefect server is configured: Prefect would start a temporary one that never schedules a run."""


def _settings_file() -> Path | None:
    named = os.environ.get("QC_SETTINGS_FILE")
    if named:
        path = Path(named)
        if not path.is_file():
            raise SettingsError(f"instellingenbestand {path} (QC_SETTINGS_FILE) bestaat niet")
        return path
    default = Path("qualitycycle.toml")
    return default if default.is_file() else None


class _TomlFile(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = _settings_file()
        self.data: dict[str, Any] = {}
        if path is not None:
            try:
                self.data = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
            except UnicodeDecodeError:
                raise SettingsError(f"instellingenbestand {path}: geen UTF-8; sla het op als UTF-8") from None
            except tomllib.TOMLDecodeError as exc:
                raise SettingsError(f"instellingenbestand {path}: {toml_error_nl(exc)}") from None

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QC_", env_nested_delimiter="__", extra="ignore")

    home: Path = Field(Path("var"), description="Folder for local data: SQLite file, outbox folder, reports.")
    database_url: str | None = Field(None, description="Overrides the database (default: SQLite in QC_HOME).")
    policy_file: Path | None = Field(None, description="YAML or TOML file with the Policy's thresholds.")
    policy: dict[str, Any] = Field(default_factory=dict, description="Policy thresholds (settings file [policy]).")
    closure_days: list[date] = Field(default_factory=list, description="Days the care group is closed.")
    liberation_day_every_year: bool = Field(False, description="Treat 5 May as a holiday every year.")
    actor: Name | None = Field(None, description="Who is recorded as the actor of manual changes.")
    smtp_host: Name | None = Field(None, description="SMTP server; without it messages go to QC_HOME/outbox as .eml.")
    smtp_port: int | None = Field(None, ge=1, le=65535, description="Default 25, 587 for starttls, 465 for tls.")
    smtp_security: Literal["none", "starttls", "tls"] = Field("none", description="none, starttls or tls.")
    smtp_user: Name | None = Field(None, description="SMTP login, when the server asks for one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (environment or settings file; "
                                                              "never committed, never printed).")
    smtp_allow_plain_auth: bool = Field(False, description="Allow an SMTP login without TLS (only for a relay on "
                                        "this machine): otherwise refused, the password would cross the wire in clear.")
    mail_from: Email = Field("kwaliteit@zorggroep.invalid", description="Sender address of every message.")
    db_connect_timeout: int = Field(CONNECT_TIMEOUT, ge=1, le=600, description="Seconds to reach PostgreSQL.")
    db_statement_timeout: int = Field(STATEMENT_TIMEOUT, ge=1, le=86400, description="Seconds a statement may take.")
    web_idle_minutes: int = Field(30, ge=1, le=1440, description="A workspace session ends after this long unused.")
    web_failed_login_delay: float = Field(1.0, ge=0, le=10, description="Seconds each failed login waits before it "
                                          "is answered (doubling with each failure in a row, at most 8 s).")
    workers: int = Field(1, ge=1, le=64, description="Processes a sweep spreads its batches of practices and of "
                         "notices over (flows/services/workers.py; not in a process with other threads): 2 on a "
                         "machine with two cores.")
    prefect_ui_url: str | None = Field(None, description="The Prefect UI (e.g. http://127.0.0.1:4200): the runs page "
                                       "links each run there.")

    @model_validator(mode="after")
    def _no_password_in_the_clear(self) -> Settings:
        if (self.smtp_user or self.smtp_password) and self.smtp_security == "none" and not self.smtp_allow_plain_auth:
            raise ValueError(
                "QC_SMTP_USER/QC_SMTP_PASSWORD zonder TLS: het wachtwoord zou onversleuteld over de lijn gaan; zet "
                "QC_SMTP_SECURITY=starttls of tls (alleen voor een relay op deze machine zelf: "
                "QC_SMTP_ALLOW_PLAIN_AUTH=true)")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _TomlFile(settings_cls)

    def db_url(self) -> str:
        """The database's address; on PostgreSQL with the timeouts of these settings (unless the address sets
        them), so every connection of every command, runner and worker gives up instead of hanging."""
        if self.database_url:
            try:
                url = parse_url(self.database_url)
            except DatabaseUrlError as exc:
                raise SettingsError(f"QC_DATABASE_URL: {exc}") from None
            if url.get_backend_name() == "postgresql":
                query = dict(url.query)
                query.setdefault("connect_timeout", str(self.db_connect_timeout))
                query.setdefault("options", f"-c statement_timeout={self.db_statement_timeout * 1000}")
                url = url.set(query=query)
            return url.render_as_string(hide_password=False)
        self.home.mkdir(parents=True, exist_ok=True)
        return sqlite_url(self.home.resolve() / "qualitycycle.db")

    def load_policy(self) -> Policy:
        data: dict[str, Any] = dict(self.policy)
        if self.policy_file is not None:
            data.update(read_policy_file(self.policy_file))
        try:
            return Policy.model_validate(data)
        except ValidationError as exc:
            source = str(self.policy_file) if self.policy_file is not None else "[policy] van het instellingenbestand"
            raise SettingsError(f"beleid (policy) ongeldig: {_first_error(exc, source)}") from None

    def smtp_port_or_default(self) -> int:
        return self.smtp_port or {"none": 25, "starttls": 587, "tls": 465}[self.smtp_security]

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar.with_closures(self.closure_days, self.liberation_day_every_year)


def read_policy_file(path: Path) -> dict[str, Any]:
    from readers.files import YAML_MAX_BYTES, YamlError, load_yaml_text  # the readers (and YAML): only for a file

    if not path.is_file():
        raise SettingsError(f"beleidsbestand {path} bestaat niet")
    if path.stat().st_size > YAML_MAX_BYTES:
        raise SettingsError(f"beleidsbestand {path} is te groot voor een beleid")
    try:
        text = path.read_bytes().decode("utf-8-sig")
        data = tomllib.loads(text) if path.suffix == ".toml" else load_yaml_text(text)
    except UnicodeDecodeError:
        raise SettingsError(f"beleidsbestand {path}: geen UTF-8; sla het op als UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"beleidsbestand {path}: {toml_error_nl(exc)}") from None
    except YamlError as exc:
        raise SettingsError(f"beleidsbestand {path}: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("policy"), dict):
        data = data["policy"]
    if not isinstance(data, dict):
        raise SettingsError(f"beleidsbestand {path}: verwacht een lijst van instellingen (sleutel: waarde)")
    return data


def toml_error_nl(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's error as a Dutch sentence with the place: its own text is English."""
    place = re.search(r"line (\d+), column (\d+)", str(exc))
    return "geen geldige TOML" + (f" (regel {place.group(1)}, positie {place.group(2)})" if place else "")


def _first_error(exc: ValidationError, policy_source: str | None = None) -> str:
    """The first problem, named as the person set it: a policy's key in its file; a setting's environment
    variable (``QC_CLOSURE_DAYS``) when it is set, else its key in the settings file (``closure_days[0] in
    qualitycycle.toml``)."""
    from domain.inputs import dutch_message, field_path

    err = exc.errors()[0]
    loc = err["loc"]
    if not loc:
        return dutch_message(err)
    key = field_path(loc)
    variable = f"QC_{str(loc[0]).upper()}"
    if policy_source is not None:
        where = f"{key} in {policy_source}"
    elif variable in os.environ or not (path := _settings_file()):
        where = variable
    else:
        where = f"{key} in {path}"
    return f"{where}: {dutch_message(err)}"


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(f"instelling ongeldig: {_first_error(exc)}") from None
    except PydanticSettingsError as exc:  # a value the settings source could not even parse (JSON of a list)
        field = str(exc).split('"')[1] if '"' in str(exc) else "?"
        raise SettingsError(f"instelling ongeldig: QC_{field.upper()}: onleesbaar (een lijst schrijft u als JSON, "
                            'bijvoorbeeld ["2026-12-24", "2026-12-31"])') from None
