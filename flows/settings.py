"""Settings from ``QC_``-prefixed environment variables and an optional TOML settings file.

Precedence: environment, then the settings file (``QC_SETTINGS_FILE``, else ``./qualitycycle.toml``
when present), then defaults. The policy comes from ``QC_POLICY_FILE`` (YAML or TOML) when set,
else from a ``[policy]`` table in the settings file, else ``Policy()``'s defaults.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from domain.calendar import WorkingCalendar
from domain.policy import Policy
from storage.database import sqlite_url
from storage.files import dutch_message


class SettingsError(Exception):
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
                self.data = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise SettingsError(f"instellingenbestand {path}: {exc}") from exc

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
    actor: str | None = Field(None, description="Who is recorded as the actor of manual changes.")
    smtp_host: str | None = Field(None, description="SMTP server; without it messages go to QC_HOME/outbox as .eml.")
    smtp_port: int | None = Field(None, ge=1, le=65535, description="Default 25, 587 for starttls, 465 for tls.")
    smtp_security: Literal["none", "starttls", "tls"] = Field("none", description="none, starttls or tls.")
    smtp_user: str | None = Field(None, description="SMTP login, when the server asks for one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (environment or settings file; "
                                                              "never committed, never printed).")
    mail_from: str = Field("kwaliteit@zorggroep.invalid", description="Sender address of every message.")

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
        if self.database_url:
            return self.database_url
        self.home.mkdir(parents=True, exist_ok=True)
        return sqlite_url(self.home.resolve() / "qualitycycle.db")

    def load_policy(self) -> Policy:
        data: dict[str, Any] = dict(self.policy)
        if self.policy_file is not None:
            data.update(read_policy_file(self.policy_file))
        try:
            return Policy.model_validate(data)
        except ValidationError as exc:
            raise SettingsError(f"beleid (policy) ongeldig: {_first_error(exc)}") from exc

    def smtp_port_or_default(self) -> int:
        return self.smtp_port or {"none": 25, "starttls": 587, "tls": 465}[self.smtp_security]

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar.with_closures(self.closure_days, self.liberation_day_every_year)


def read_policy_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SettingsError(f"beleidsbestand {path} bestaat niet")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"beleidsbestand {path}: geen geldige TOML ({exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", regel {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "onleesbaar"
        raise SettingsError(f"beleidsbestand {path}{where}: geen geldige YAML ({problem})") from exc
    if isinstance(data, dict) and isinstance(data.get("policy"), dict):
        data = data["policy"]
    if not isinstance(data, dict):
        raise SettingsError(f"beleidsbestand {path}: verwacht een lijst van instellingen (sleutel: waarde)")
    return data


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {dutch_message(err)}"


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(f"instelling ongeldig: {_first_error(exc)}") from exc
