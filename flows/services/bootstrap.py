"""Opening the services once, the same way for every entry point (CLI, embedded runner, Prefect flows, later the
web): the configured database (migrated to the current schema), the policy of the settings and the care group's
working calendar, with the shipped indicator catalogue seeded into an empty database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.services.context import Services
from flows.services.imports import ensure_default_catalogue
from flows.services.settings import Settings, load_settings
from storage.database import create_db_engine, ping

if TYPE_CHECKING:
    import sqlalchemy as sa


def open_services(settings: Settings | None = None) -> Services:
    """The services over the database and policy of ``settings`` (read from the environment when not given)."""
    settings = settings or load_settings()
    services = Services.open(settings.db_url(), settings.load_policy(), settings.calendar())
    ensure_default_catalogue(services)
    return services


def scheduler_database(settings: Settings) -> sa.Engine:
    """An engine on the configured database for the embedded scheduler's own job table (not migrated: the
    scheduler creates its table itself)."""
    return create_db_engine(settings.db_url())


def database_reachable(services: Services) -> None:
    """Raise the database's own error when it cannot be reached (a cheap ``SELECT 1``)."""
    ping(services.db)
