"""Engines and schema: SQLite by default, PostgreSQL when the URL says so; Alembic owns the schema.

Invariants: SQLite runs with WAL (synchronous NORMAL, checkpointed every ``WAL_AUTOCHECKPOINT`` pages), foreign
keys on and a busy timeout, so a second process waits instead of failing at once; ``migrate`` brings any database to
the newest schema and is safe to run again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.errors import InputError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 here."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class DatabaseUrlError(InputError):
    """A database address the product cannot use (another kind of database, or unreadable)."""


CONNECT_TIMEOUT = 10  # seconds to reach PostgreSQL: a server that accepts and never answers must not hang a command
STATEMENT_TIMEOUT = 300  # seconds one statement may take on PostgreSQL
WAL_AUTOCHECKPOINT = 10_000  # pages (4 KB each) of SQLite's WAL between checkpoints: see _sqlite_pragmas


def parse_url(url: str) -> sa.URL:
    """A database address the product can use (SQLite or PostgreSQL), or ``DatabaseUrlError`` saying why not."""
    try:
        parsed = sa.make_url(normalise_url(url))
    except sa.exc.ArgumentError:
        raise DatabaseUrlError("database-adres is onleesbaar: gebruik postgresql://gebruiker@server:5432/database "
                               "of sqlite:///pad") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUrlError(f"database {parsed.get_backend_name()!r} wordt niet ondersteund: alleen SQLite "
                               "(sqlite:///pad) en PostgreSQL (postgresql://...)")
    return parsed


def json_text(value: Any) -> str:
    """A JSON column's value as stored: orjson, some ten times as fast as ``json.dumps`` on the outbox's payloads and
    the obligations' lists (issue 16). Keys that are not text are written as ``json.dumps`` writes them (as text);
    the text is UTF-8 rather than ``\\u`` escapes, read back the same."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def create_db_engine(url: str, *, connect_timeout: int = CONNECT_TIMEOUT, statement_timeout: int = STATEMENT_TIMEOUT,
                     **kw: Any) -> Engine:
    """An engine for SQLite or PostgreSQL (refused: any other kind). On PostgreSQL a connection gives up after
    ``connect_timeout`` seconds and a statement after ``statement_timeout`` (unless the address sets them). JSON
    columns are written and read by orjson (``json_text``)."""
    url = normalise_url(url)
    parsed = parse_url(url)
    kw.setdefault("json_serializer", json_text)
    kw.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **kw)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")
            # WAL is a property of the file: set once, by the first connection. Setting it again needs the
            # file to itself and fails at once ("database is locked") while another process reads it.
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # NORMAL, not the default FULL: in WAL mode the file stays consistent through any crash, and only
            # a power cut or an OS crash may undo the last commits (SQLite's documentation, "WAL mode"); a
            # process that dies keeps every commit. FULL made every commit wait for the disk (0.6 ms each,
            # several per conversation recorded: issue 16). A message sent just before such a power cut may be
            # sent again, as it may under FULL when the cut comes between the SMTP server's answer and the commit.
            cursor.execute("PRAGMA synchronous=NORMAL")
            # The WAL is copied into the file (a checkpoint, two syncs) every WAL_AUTOCHECKPOINT pages rather than
            # SQLite's default of 1,000 (4 MB): a sweep that queues thousands of messages waited on a checkpoint
            # every few batches. Inserting the 427,532 messages of 5,000 practices' three years took 25.4-27.2 s
            # at 1,000 pages, 21.5 s at 4,000, 19.4-21.2 s at 10,000 (issue 16, benchmarks/README.md). The WAL
            # grows to some 42 MB between checkpoints (and keeps that size on disk until the last connection closes);
            # checkpoints stay passive, so a reader is never blocked and still sees every commit.
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
            cursor.close()

        return engine
    connect_args: dict[str, Any] = dict(kw.pop("connect_args", {}))
    if "connect_timeout" not in parsed.query:
        connect_args.setdefault("connect_timeout", connect_timeout)
    if "options" not in parsed.query:
        connect_args.setdefault("options", f"-c statement_timeout={statement_timeout * 1000}")
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kw)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # Alembic is loaded only when a schema is to change (a command starts faster)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolates '%': an address with encoded options (statement_timeout%3D...) must escape it
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def ping(engine: Engine) -> None:
    """Reach the database once (``OperationalError`` when it does not answer)."""
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def head_revision() -> str:
    """The newest migration's revision: migrations are named ``NNNN_what.py`` with revision ``NNNN``
    (``tests/integration/test_migrations.py`` holds Alembic's own head to it)."""
    return max(path.name[:4] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def stored_revision(engine: Engine) -> str | None:
    """The revision the database is at, read without loading Alembic; None for a new database."""
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    except sa.exc.ProgrammingError:
        return None  # PostgreSQL: no alembic_version table yet
    except sa.exc.OperationalError as exc:
        if "no such table" in str(exc.orig):
            return None  # SQLite: no alembic_version table yet
        raise


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (default: newest). A database already at the newest is left as it
    is without loading Alembic: every command opens the database this way."""
    if revision == "head" and stored_revision(engine) == head_revision():
        return
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()


def sqlite_file(engine: Engine) -> Path | None:
    """The file of an SQLite engine (None for PostgreSQL or an in-memory database)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(str(engine.url.database))


def copy_rows(source: Engine, target: Engine, table_names: set[str] | None = None, chunk: int = 1000) -> None:
    """Copy every row of the product's tables (or of ``table_names``) from ``source`` into ``target``, a database
    migrated to the same schema: a what-if works on a copy, so that nothing it does is stored."""
    from sqlmodel import SQLModel

    import storage.tables  # noqa: F401  (registers the tables)

    tables = [table for table in SQLModel.metadata.sorted_tables
              if table_names is None or table.name in table_names]
    if target.dialect.name == "sqlite" and (source_file := sqlite_file(source)) is not None:
        # from one SQLite file to another: SQLite copies the rows itself, as they are stored (each row through
        # SQLAlchemy's types cost 17 s for the two copies of a what-if at 500 practices)
        with target.connect() as write:
            # ATTACH and DETACH outside the transaction of the inserts (SQLite refuses them inside one)
            write.exec_driver_sql("ATTACH DATABASE ? AS source", (str(source_file),))
            try:
                for table in tables:
                    columns = ", ".join(f'"{c.name}"' for c in table.columns)
                    write.exec_driver_sql(f'INSERT INTO main."{table.name}" ({columns}) '
                                          f'SELECT {columns} FROM source."{table.name}"')
                write.commit()
            finally:
                write.rollback()
                write.exec_driver_sql("DETACH DATABASE source")
                write.commit()
        return
    with source.connect() as read, target.begin() as write:
        for table in tables:
            rows = [dict(r) for r in read.execute(sa.select(table)).mappings()]
            for start in range(0, len(rows), chunk):
                write.execute(sa.insert(table), rows[start:start + chunk])
