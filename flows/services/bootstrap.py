"""Opening the services once, the same way for every entry point (CLI, embedded runner, Prefect flows, later the
web): the configured database (migrated to the current schema), the policy of the settings and the care group's
working calendar, with the shipped indicator catalogue seeded into an empty database."""

from __future__ import annotations

from flows.services.context import Services
from flows.services.imports import ensure_default_catalogue
from flows.services.settings import Settings, load_settings


def open_services(settings: Settings | None = None) -> Services:
    """The services over the database and policy of ``settings`` (read from the environment when not given)."""
    settings = settings or load_settings()
    services = Services.open(settings.db_url(), settings.load_policy(), settings.calendar())
    ensure_default_catalogue(services)
    return services
