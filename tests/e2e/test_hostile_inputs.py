"""The catalogue of hostile and careless input (``tests/e2e/hostile/cases.yaml``), tried at every door.

A care group is set up once per database (register, reference data, a quarter of figures, a start conversation
and a run), then each case runs one command against it, as staff would, through the CLI. For every case: a
non-zero exit, exactly one line on stderr that starts ``fout:`` and names where the problem is, no traceback,
no English from a library, nothing stored (every row of every table, and every file under ``QC_HOME``, exactly
as before), and the patient number a case carries repeated nowhere: not on screen, not in the database, not in
a file.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from sqlmodel import SQLModel
from typer.testing import CliRunner

import flows
import storage.tables  # noqa: F401  (registers the tables)
from flows.cli.app import app

HOSTILE = Path(__file__).resolve().parent / "hostile"
SAMPLES = Path(flows.__file__).resolve().parent / "testing" / "samples"
CASES: list[dict[str, Any]] = yaml.safe_load((HOSTILE / "cases.yaml").read_text(encoding="utf-8"))
POSTGRES_URL = os.environ.get("QC_POSTGRES_URL")
PATIENT_NUMBERS = ("111222333", "1112.22.333", "111-222-333")
# words of a library's own (English) error that must never reach staff
ENGLISH = re.compile(r"\b(Error|error|Invalid|invalid|Exception|must be|should be|Input should|not a valid|"
                     r"No such|Missing|Usage)\b")
FIRST_QUARTER = """\
agb_code,programme,indicator,period_end,numerator,denominator
01000001,dm2,hba1c_measured,2024-03-31,60,100
01000001,dm2,bp_measured,2024-03-31,93,100
01000002,dm2,hba1c_measured,2024-03-31,95,100
"""


def test_the_catalogue_holds_at_least_sixty_cases_at_every_door() -> None:
    doors = {case["id"].split("-")[0] for case in CASES}
    assert len(CASES) >= 60 and len({case["id"] for case in CASES}) == len(CASES)
    assert doors >= {"indicators", "extract", "registry", "plan", "conversations", "policy", "settings", "option"}
    for case in CASES:
        for arg in case["args"]:
            if arg.startswith("files/") and "does-not-exist" not in arg:
                assert (HOSTILE / arg).is_file(), f"{case['id']}: {arg} missing (run tests/e2e/hostile/make_files.py)"


@dataclass
class CareGroup:
    """A care group at the command line, on one database, in a folder of its own (``QC_HOME``, the working
    directory holding a copy of ``tests/e2e/hostile/files``)."""

    folder: Path
    database_url: str
    runner: CliRunner

    @property
    def home(self) -> Path:
        return self.folder / "var"

    def invoke(self, args: list[str], env: dict[str, str] | None = None) -> Any:
        base = {"QC_HOME": str(self.home), "QC_DATABASE_URL": self.database_url}
        return self.runner.invoke(app, args, env={**base, **(env or {})})

    def __call__(self, *args: str) -> None:
        result = self.invoke(list(args))
        assert result.exit_code == 0, f"{args}: {result.output}\n{result.exception!r}"

    def rows(self) -> dict[str, list[str]]:
        """Every row of every table, to compare before and after a command."""
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return {table.name: sorted(repr(tuple(row)) for row in conn.execute(sa.select(table)))
                        for table in SQLModel.metadata.sorted_tables}
        finally:
            engine.dispose()

    def files(self) -> dict[str, bytes]:
        """Every file under ``QC_HOME`` but the SQLite database itself (compared as rows)."""
        return {str(p.relative_to(self.home)): p.read_bytes() for p in sorted(self.home.rglob("*"))
                if p.is_file() and not p.name.startswith("qualitycycle.db")}


def _set_up(folder: Path, database_url: str) -> CareGroup:
    shutil.copytree(HOSTILE / "files", folder / "files")
    (folder / "scores-2024q1.csv").write_text(FIRST_QUARTER, encoding="utf-8")
    group = CareGroup(folder, database_url, CliRunner())
    group.home.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        _no_machine_settings(patch)
        patch.chdir(folder)
        group("init")
        group("load-registry", str(SAMPLES / "registry.yaml"))
        group("import-catalogue", str(SAMPLES / "catalogue.csv"))
        group("import-targets", str(SAMPLES / "targets.csv"))
        group("import-averages", str(SAMPLES / "averages.csv"))
        group("record-conversation", "01000001", "--kind", "start", "--held-on", "2024-01-15",
              "--now", "2024-01-15T14:00", "--actor", "user:a.jansen")
        group("import-indicators", "scores-2024q1.csv", "--now", "2024-04-05")
        group("run", "--now", "2024-04-08T07:00")
    return group


def _no_machine_settings(patch: pytest.MonkeyPatch) -> None:
    """No ``QC_`` setting of the machine leaks in: each case sets its own."""
    for name in [n for n in os.environ if n.startswith("QC_")]:
        patch.delenv(name)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def care_group(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               worker_id: str) -> Iterator[CareGroup]:
    folder = tmp_path_factory.mktemp(f"hostile-{request.param}")
    if request.param == "sqlite":
        yield _set_up(folder, f"sqlite:///{folder / 'var' / 'qualitycycle.db'}")
        return
    if not POSTGRES_URL:
        pytest.skip("QC_POSTGRES_URL is not set: PostgreSQL tests skipped")
    # a database of its own: the other tests of this worker empty theirs between tests
    server = sa.make_url(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
                         if POSTGRES_URL.startswith("postgresql://") else POSTGRES_URL)
    name = f"qc_hostile_{worker_id}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield _set_up(folder, server.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_hostile_input_is_refused_in_one_dutch_line_and_nothing_is_stored(
    case: dict[str, Any], care_group: CareGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_machine_settings(monkeypatch)
    monkeypatch.chdir(care_group.folder)
    rows, files = care_group.rows(), care_group.files()

    result = care_group.invoke(case["args"], case.get("env"))

    output = result.output  # stdout and stderr together: nothing may leak on either
    assert result.exit_code == case.get("exit", 1), f"exit {result.exit_code}\n{output}\n{result.exception!r}"
    assert isinstance(result.exception, SystemExit), f"not a clean exit: {result.exception!r}\n{output}"
    assert "Traceback" not in output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"one line expected:\n{result.stderr}"
    (line,) = lines
    assert line.startswith("fout: "), line
    assert case["where"] in line, f"{case['where']!r} not in: {line}"
    assert not ENGLISH.search(line), f"a library's English reached staff: {line}"
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", output), f"a control character was echoed: {output!r}"
    assert care_group.rows() == rows, "something was stored"
    assert care_group.files() == files, "a file was written under QC_HOME"
    secrets = [case["never_shown"]] if "never_shown" in case else []
    for number in [*PATIENT_NUMBERS, *secrets]:
        if any(number in arg for arg in case["args"]) or any(number in v for v in (case.get("env") or {}).values()) \
                or _file_holds(case, number):
            assert number not in output, f"the patient number was repeated: {line}"
            assert not any(number in row for table in care_group.rows().values() for row in table)


def _file_holds(case: dict[str, Any], text: str) -> bool:
    return any((HOSTILE / arg).is_file() and text.encode() in (HOSTILE / arg).read_bytes()
               for arg in case["args"] if arg.startswith("files/"))
