"""Fixtures: the same service tests run over SQLite and, when ``QC_POSTGRES_URL`` is set, over a
real PostgreSQL server (a database of its own per xdist worker, emptied between tests)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables)
from flows.services.context import Services
from storage.database import create_db_engine, migrate, normalise_url, sqlite_url

POSTGRES_URL = os.environ.get("QC_POSTGRES_URL")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(sqlite_url(path))
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database(worker_id: str) -> Iterator[str]:
    """A fresh, migrated database on the PostgreSQL server for this test worker."""
    if not POSTGRES_URL:
        pytest.skip("QC_POSTGRES_URL is not set: PostgreSQL tests skipped")
    server = sa.make_url(normalise_url(POSTGRES_URL))
    name = f"qc_test_{worker_id}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = create_db_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        return _template_copy(sqlite_template, tmp_path / "qualitycycle.db")
    url: str = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    return url


@pytest.fixture
def services(db_url: str) -> Iterator[Services]:
    services = Services.open(db_url, upgrade=False)
    yield services
    services.db.dispose()


def _template_copy(template: Path, path: Path) -> str:
    """The URL of a new SQLite database at ``path``: a copy of the migrated template (faster than migrating)."""
    shutil.copy(template, path)
    return sqlite_url(path)


@pytest.fixture
def sqlite_copy(tmp_path: Path, sqlite_template: Path) -> Iterator[Callable[[str], Services]]:
    """Opens services on a new SQLite database ``tmp_path / name`` (a copy of the template) for each name it is
    given; every one is disposed of after the test."""
    opened: list[Services] = []

    def open_copy(name: str) -> Services:
        opened.append(Services.open(_template_copy(sqlite_template, tmp_path / name), upgrade=False))
        return opened[-1]

    yield open_copy
    for services in opened:
        services.db.dispose()


@pytest.fixture
def sqlite_services(sqlite_copy: Callable[[str], Services]) -> Services:
    return sqlite_copy("qualitycycle.db")


@pytest.fixture
def two_workers(postgres_database: str) -> Iterator[tuple[Services, Services]]:
    """Two independent engines (own connection pools) on one emptied PostgreSQL database, like two workers."""
    _empty_postgres(postgres_database)
    first, second = Services.open(postgres_database, upgrade=False), Services.open(postgres_database, upgrade=False)
    yield first, second
    first.db.dispose()
    second.db.dispose()
