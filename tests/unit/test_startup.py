"""Start-up (README, "Start-up"): what a command loads before it does its work.

``qualitycycle --help`` loads no model and no database layer; ``status`` loads the services, the tables and the
working calendar, but nothing only other commands use. Each check runs in a fresh interpreter, so that what other
tests imported does not count.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import holidays

from domain.calendar import WorkingCalendar

ROOT = Path(__file__).resolve().parents[2]


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    done = subprocess.run([sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
                          capture_output=True, text=True, check=True, cwd=ROOT, timeout=120)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_command_line_alone_loads_no_model_and_no_database() -> None:
    loaded = loaded_after("import flows.cli.app")
    assert not {"sqlalchemy", "sqlmodel", "pydantic", "flows.services.context", "storage.tables"} & loaded


def test_what_status_loads_leaves_out_what_only_other_commands_use() -> None:
    loaded = loaded_after(
        "import flows.cli.app, flows.services.bootstrap, flows.services.queries\n"
        "from datetime import date\n"
        "from domain.calendar import WorkingCalendar\n"
        "WorkingCalendar().is_working_day(date(2026, 4, 27))")
    assert {"flows.services.queries", "storage.tables", "holidays.countries.netherlands"} <= loaded
    unneeded = {"alembic", "polars", "prefect", "jinja2", "yaml", "readers.files", "notifications.rendering",
                "storage.obligations", "sqlalchemy.dialects.postgresql", "holidays.countries"}
    assert unneeded & loaded == set()


def test_the_working_calendar_has_the_dutch_holidays_of_the_library() -> None:
    """Loading only the Netherlands' module of ``holidays`` gives the same days and names as the library itself."""
    years = range(2000, 2061)
    for every_year in (False, True):
        categories = ("public", "optional") if every_year else ("public",)
        expected = holidays.country_holidays("NL", categories=categories, language="nl", years=years)
        calendar = WorkingCalendar(liberation_day_every_year=every_year)
        for day, name in expected.items():
            assert calendar.holiday_name(day) == name
            assert not calendar.is_working_day(day)
        assert sum(1 for day in (date(y, 1, 1) for y in years) if calendar.holiday_name(day)) == len(years)
        assert {d for d in calendar._holidays if d.year in years} == set(expected)
