"""Scenarios of a care group's staff at the ``qualitycycle`` command line.

Each test is one member of staff with a folder of their own (``QC_HOME`` in ``tmp_path``, the
working directory too, so no ``qualitycycle.toml`` from elsewhere is read and no ``QC_``
variable of the machine leaks in): they load the register and the sample reference data of
``flows/testing/samples/``, deliver files they wrote themselves, record conversations and run the
engine with ``--now``. Commands run in-process through Typer's ``CliRunner``; one test runs
the installed console script in a subprocess to prove the entry point works.

Refusals are checked the way staff meet them: exit status, a message naming file, row and
column, no traceback, and the database exactly as it was before the command.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

import flows
from flows.cli.app import app
from statemachines.trajectory import mermaid

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = Path(flows.__file__).resolve().parent / "testing" / "samples"
LINDE, EIK = "01234567", "07654321"

REGISTRY = f"""\
care_group: {{name: Cohaesie, email: kwaliteit@cohaesie.example}}
officers: [{{name: A. Jansen, email: a.jansen@cohaesie.example}}, {{name: P. de Boer}}]
board: [{{name: B. de Vries, email: bestuur@cohaesie.example}}]
gp_groups: [{{code: HAGRO-WEST, name: Hagro West}}]
practices:
  - agb_code: "{LINDE}"
    name: Huisartsenpraktijk De Linde
    gp_group: HAGRO-WEST
    email: praktijk@delinde.example
    programmes: {{dm2: 2023-01-01}}
    people:
      - {{name: C. Bakker, role: gp_principal, email: c.bakker@delinde.example}}
  - agb_code: "{EIK}"
    name: Praktijk De Eik
    gp_group: HAGRO-WEST
    programmes: {{dm2: 2023-01-01}}
"""
SCORE_HEADER = "agb_code,programme,indicator,period_end,numerator,denominator"
# De Linde checked HbA1c in 60 of 100 patients: far below the 90% target (threshold 72%).
SCORES_Q1 = f"""\
{SCORE_HEADER}
{LINDE},dm2,hba1c_measured,2024-03-31,60,100
{LINDE},dm2,bp_measured,2024-03-31,93,100
{EIK},dm2,hba1c_measured,2024-03-31,95,100
{EIK},dm2,bp_measured,2024-03-31,94,100
"""
PLAN = """\
goals: [{programme: dm2, indicator: hba1c_measured, target: 90, by: 2025-03-15}]
agreements: ["Recall-lijst HbA1c maandelijks nalopen"]
"""
FULL_ATTENDANCE = [
    "--attendee", "gp_principal=C. Bakker", "--attendee", "poh_chronic=D. Mulder",
    "--attendee", "poh_elderly=E. Kok", "--attendee", "officer=A. Jansen", "--attendee", "officer=P. de Boer",
]
STATUS_KEYS = {"agb_code", "name", "state", "since", "reasons", "next_due"}
HISTORY_KEYS = {"at", "trigger", "from_state", "to_state", "reasons", "actor"}


def flat(text: str) -> str:
    """Output with every run of whitespace as one space (the console may wrap long lines)."""
    return " ".join(text.split())


def write(name: str, text: str, encoding: str = "utf-8") -> str:
    """A file staff deliver, in the working directory (``tmp_path``); its name as typed on the command line."""
    Path(name).write_bytes(text.encode(encoding))
    return name


@dataclass
class Staff:
    """A member of the care group's staff at the command line, with their own ``QC_HOME``."""

    home: Path
    runner: CliRunner = field(default_factory=CliRunner)

    def invoke(self, args: tuple[str, ...], env: dict[str, str] | None) -> Result:
        return self.runner.invoke(app, list(args), env={"QC_HOME": str(self.home), **(env or {})})

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """Run a command that must succeed."""
        result = self.invoke(args, env)
        assert result.exit_code == 0, (
            f"qualitycycle {' '.join(args)}: exit {result.exit_code}\n{result.output}\n{result.exception!r}"
        )
        return result

    def refused(self, *args: str, env: dict[str, str] | None = None, code: int = 1) -> str:
        """Run a command that must fail cleanly; its error output, whitespace flattened."""
        result = self.invoke(args, env)
        assert result.exit_code == code, f"qualitycycle {' '.join(args)}: exit {result.exit_code}\n{result.output}"
        # CliRunner swallows an unhandled exception: a clean failure is always an exit, never a crash
        assert isinstance(result.exception, SystemExit), f"unhandled {result.exception!r}\n{result.output}"
        assert "Traceback" not in result.output
        assert result.stderr.strip(), "a refusal says why on stderr"
        return flat(result.stderr)

    def json(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return json.loads(self(*args, "--json", env=env).stdout)

    def status(self) -> dict[str, dict[str, Any]]:
        return {line["agb_code"]: line for line in self.json("status")}

    def state(self, agb: str) -> str:
        return str(self.status()[agb]["state"])

    def history(self, agb: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.json("history", agb)
        return events

    def database(self) -> dict[str, list[str]]:
        """Every row of every table of the SQLite database, to compare before and after a command."""
        with sqlite3.connect(self.home / "qualitycycle.db") as conn:
            tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {t: sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{t}"')) for t in tables}

    def snapshot(self) -> tuple[Any, dict[str, list[str]]]:
        return self.json("status"), self.database()

    # --- the steps of a care group's year ---------------------------------------------------------

    def set_up_care_group(self) -> None:
        self("init")
        self("load-registry", write("registry.yaml", REGISTRY))
        self("import-catalogue", str(SAMPLES / "catalogue.csv"))
        self("import-targets", str(SAMPLES / "targets.csv"))
        self("import-averages", str(SAMPLES / "averages.csv"))

    def start_cycles(self) -> None:
        self("record-conversation", LINDE, "--kind", "start", "--held-on", "2024-01-15",
             "--now", "2024-01-15T14:00", "--actor", "user:a.jansen")
        self("record-conversation", EIK, "--kind", "start", "--held-on", "2024-01-16",
             "--now", "2024-01-16T10:00", "--actor", "user:a.jansen")

    def flag_linde(self) -> Result:
        """First-quarter figures arrive; the Monday run flags De Linde for an extra conversation."""
        self.set_up_care_group()
        self.start_cycles()
        self("import-indicators", write("scores-2024q1.csv", SCORES_Q1), "--now", "2024-04-05")
        return self("run", "--now", "2024-04-08T07:00")


@pytest.fixture
def staff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Staff]:
    for name in list(os.environ):
        if name.startswith("QC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield Staff(home=tmp_path / "var")


# --------------------------------------------------------------------------- 1. the happy path


def test_quality_officer_runs_the_first_quarter_of_the_cycle(staff: Staff) -> None:
    staff("init")
    loaded = staff("load-registry", write("registry.yaml", REGISTRY))
    assert "2 praktijken (2 nieuw)" in loaded.stdout
    assert "16 indicatoren" in staff("import-catalogue", str(SAMPLES / "catalogue.csv")).stdout
    assert "16 ingelezen" in staff("import-targets", str(SAMPLES / "targets.csv")).stdout
    assert "28 ingelezen" in staff("import-averages", str(SAMPLES / "averages.csv")).stdout
    started = staff("record-conversation", LINDE, "--kind", "start", "--held-on", "2024-01-15",
                    "--now", "2024-01-15T14:00", "--actor", "user:a.jansen")
    # a care group that has not run the engine yet brings in history: the step waits for the first run
    assert flat(started.stdout) == ("startgesprek van 01234567 op 2024-01-15 vastgelegd traject: wordt gezet door "
                                    "de eerste run op of na 2024-01-15 12:00")
    staff("record-conversation", EIK, "--kind", "start", "--held-on", "2024-01-16", "--now", "2024-01-16T10:00",
          "--actor", "user:a.jansen")
    imported = staff("import-indicators", write("scores.csv", SCORES_Q1), "--now", "2024-04-05")
    assert "4 nieuw" in imported.stdout

    first = flat(staff("run", "--now", "2024-04-08T07:00").stdout)
    assert "sweep-due (Openstaande taken) 2024-04-08 07:00: 2 praktijken bekeken" in first
    assert "3 stappen in trajecten" in first  # both start conversations, in the order held, then the flag
    assert (f"{LINDE} Huisartsenpraktijk De Linde: start -> jaarcyclus (hold_start_conversation) startgesprek van "
            "2024-01-15 (vastgelegd door user:a.jansen)") in first
    assert f"{EIK} Praktijk De Eik: start -> jaarcyclus (hold_start_conversation)" in first
    assert f"{LINDE} Huisartsenpraktijk De Linde: jaarcyclus -> extra gesprek (flag_deviation)" in first
    assert "dm2/hba1c_measured: 60,0% (60/100)" in first
    assert [(e["trigger"], e["at"]) for e in staff.history(LINDE)] == [
        ("hold_start_conversation", "2024-01-15T12:00:00+01:00"), ("flag_deviation", "2024-04-08T07:00:00+02:00")]
    events = {agb: len(staff.history(agb)) for agb in (LINDE, EIK)}

    second = flat(staff("run", "--now", "2024-04-08T07:00").stdout)
    assert "0 stappen in trajecten" in second and "moment was al eerder verwerkt" in second
    assert {agb: len(staff.history(agb)) for agb in (LINDE, EIK)} == events == {LINDE: 2, EIK: 1}

    lines = staff.json("status")
    assert isinstance(lines, list) and len(lines) == 2
    assert all(isinstance(line, dict) and line.keys() >= STATUS_KEYS for line in lines)
    linde = next(line for line in lines if line["agb_code"] == LINDE)
    assert linde["name"] == "Huisartsenpraktijk De Linde" and linde["state"] == "extra_conversation"
    assert linde["since"].startswith("2024-04-08T07:00")
    assert linde["reasons"][0]["indicator"] == "hba1c_measured" and linde["reasons"][0]["threshold"] == 72.0
    assert linde["next_due"] == "2024-05-17" and linde["next_due_kind"] == "extra_conversation"

    history = staff.history(LINDE)
    assert all(event.keys() >= HISTORY_KEYS for event in history)
    assert [(e["trigger"], e["from_state"], e["to_state"], e["actor"]) for e in history] == [
        ("hold_start_conversation", "start", "annual_cycle", "user:a.jansen"),
        ("flag_deviation", "annual_cycle", "extra_conversation", "engine"),
    ]
    assert history[1]["reasons"][0]["score"] == 60.0

    assert "toestand komt overeen" in staff("replay", LINDE).stdout
    everyone = staff("replay").stdout
    assert f"{LINDE}: 2 gebeurtenissen" in everyone and f"{EIK}: 1 gebeurtenissen" in everyone


def test_installed_console_script_runs_the_cycle_end_to_end(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("qualitycycle")
    if not script.exists():
        script = ROOT / ".venv" / "bin" / "qualitycycle"
    assert script.exists(), "the console script qualitycycle is not installed next to the test's Python"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QC_")}
    env.update(QC_HOME=str(tmp_path / "var"), PYTHONIOENCODING="utf-8")
    (tmp_path / "registry.yaml").write_text(REGISTRY, encoding="utf-8")
    (tmp_path / "scores.csv").write_text(SCORES_Q1, encoding="utf-8")

    def qualitycycle(*args: str) -> str:
        done = subprocess.run([str(script), *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              encoding="utf-8", timeout=120, check=False)
        assert done.returncode == 0, f"qualitycycle {' '.join(args)}: exit {done.returncode}\n{done.stderr}"
        assert "Traceback" not in done.stderr
        return done.stdout

    assert "database klaar" in qualitycycle("init")
    qualitycycle("load-registry", "registry.yaml")
    qualitycycle("import-catalogue", str(SAMPLES / "catalogue.csv"))
    qualitycycle("import-targets", str(SAMPLES / "targets.csv"))
    qualitycycle("import-averages", str(SAMPLES / "averages.csv"))
    qualitycycle("import-indicators", "scores.csv", "--now", "2024-04-05")
    qualitycycle("record-conversation", LINDE, "--kind", "start", "--held-on", "2024-01-15",
                 "--now", "2024-01-15T14:00", "--actor", "user:a.jansen")
    assert "jaarcyclus -> extra gesprek (flag_deviation)" in flat(qualitycycle("run", "--now", "2024-04-08T07:00"))
    states = {line["agb_code"]: line["state"] for line in json.loads(qualitycycle("status", "--json"))}
    assert states == {LINDE: "extra_conversation", EIK: "start"}
    assert (tmp_path / "var" / "qualitycycle.db").is_file()


# --------------------------------------------------------------------------- 2. files refused whole


GOOD_ROW = f"{EIK},dm2,hba1c_measured,2024-03-31,95,100"


@pytest.mark.parametrize(
    ("bad_row", "where", "what"),
    [
        pytest.param(f"{LINDE},dm2,hba1c_measured,2024-03-31,120,100", "rij 3, kolom numerator",
                     "teller 120 is groter dan noemer 100", id="numerator-above-denominator"),
        pytest.param("99999999,dm2,hba1c_measured,2024-03-31,60,100", "rij 3, kolom agb_code",
                     "praktijk met AGB-code 99999999 staat niet in het register", id="unknown-agb-code"),
        pytest.param(f"{LINDE},dm2,hba1c_checked,2024-03-31,60,100", "rij 3, kolom indicator",
                     "indicator dm2/hba1c_checked staat niet in de catalogus", id="unknown-indicator"),
        pytest.param(f"{LINDE},dm2,hba1c_measured,2024-03-31,-4,100", "rij 3, kolom numerator",
                     "aantal '-4' is ongeldig", id="negative-count"),
        pytest.param(f"{LINDE},dm2,hba1c_measured,31/03/2024,60,100", "rij 3, kolom period_end",
                     "datum '31/03/2024' is ongeldig", id="unparsable-date"),
    ],
)
def test_scores_file_with_a_bad_row_is_refused_whole_and_says_where(
    staff: Staff, bad_row: str, where: str, what: str
) -> None:
    staff.set_up_care_group()
    before = staff.snapshot()
    message = staff.refused("import-indicators", write("scores.csv", f"{SCORE_HEADER}\n{GOOD_ROW}\n{bad_row}\n"),
                            "--now", "2024-04-05")
    assert message.startswith("fout: scores.csv, ")
    assert f"scores.csv, {where}: {what}" in message
    assert staff.snapshot() == before  # not even the good row 2 is stored


def test_scores_file_with_a_duplicate_row_is_refused_naming_both_rows_and_the_key_columns(staff: Staff) -> None:
    staff.set_up_care_group()
    before = staff.snapshot()
    row = f"{LINDE},dm2,hba1c_measured,2024-03-31,60,100"
    message = staff.refused("import-indicators", write("dubbel.csv", f"{SCORE_HEADER}\n{row}\n{GOOD_ROW}\n{row}\n"),
                            "--now", "2024-04-05")
    assert "dubbel.csv, rij 4: dubbele rij: rij 4 heeft dezelfde" in message
    key = f"agb_code, programme, indicator en period_end ({LINDE}, dm2, hba1c_measured, 2024-03-31)"
    assert f"{key} als rij 2" in message
    assert staff.snapshot() == before


def test_every_problem_of_a_file_is_listed_at_once(staff: Staff) -> None:
    staff.set_up_care_group()
    text = f"""{SCORE_HEADER}
{LINDE},dm2,hba1c_measured,2024-03-31,120,100
99999999,dm2,hba1c_measured,2024-03-31,60,100
{LINDE},dm2,bp_measured,2024-13-31,60,100
"""
    message = staff.refused("import-indicators", write("scores.csv", text), "--now", "2024-04-05")
    assert all(f"rij {n}, kolom" in message for n in (2, 3, 4))


def test_registry_csv_without_a_name_column_is_refused(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    before = staff.snapshot()
    csv = write("praktijken.csv", f"agb_code,gp_group,email\n{LINDE},HAGRO-WEST,praktijk@delinde.example\n"
                                  "01000009,HAGRO-OOST,nieuw@praktijk.example\n")
    message = staff.refused("load-registry", csv)
    assert "praktijken.csv, rij 1: verplichte kolom ontbreekt: name" in message
    assert staff.snapshot() == before
    assert "01000009" not in staff.status()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param(f"bsn,{SCORE_HEADER}\n,{GOOD_ROW}\n", "rij 1, kolom bsn", id="bsn-header"),
        pytest.param(f"{SCORE_HEADER},opmerking\n{GOOD_ROW},111222333\n", "rij 2, kolom opmerking", id="bsn-value"),
    ],
)
def test_file_holding_a_citizen_service_number_is_refused_and_the_number_not_repeated(
    staff: Staff, text: str, where: str
) -> None:
    staff.set_up_care_group()
    before = staff.snapshot()
    message = staff.refused("import-indicators", write("export.csv", text), "--now", "2024-04-05")
    assert f"export.csv, {where}:" in message and "patiënt" in message and "BSN" in message
    assert "111222333" not in message
    assert staff.snapshot() == before


def test_excel_export_with_semicolons_and_a_bom_is_accepted(staff: Staff) -> None:
    staff.set_up_care_group()
    text = f"{SCORE_HEADER.replace(',', ';')}\r\n{LINDE};dm2;hba1c_measured;31-03-2024;60;100\r\n" \
           f"{EIK};dm2;hba1c_measured;2024-03-31;95;100\r\n"
    imported = staff("import-indicators", write("excel-export.csv", text, encoding="utf-8-sig"), "--now", "2024-04-05")
    assert "2 nieuw" in imported.stdout
    assert len(staff.database()["indicator_score"]) == 2
    staff.start_cycles()
    staff("run", "--now", "2024-04-08T07:00")
    assert staff.state(LINDE) == "extra_conversation" and staff.state(EIK) == "annual_cycle"


# --------------------------------------------------------------------------- 3. conversations


def test_annual_conversation_without_the_required_attendees_is_stored_and_flagged(staff: Staff) -> None:
    staff.set_up_care_group()
    staff.start_cycles()
    recorded = staff("record-conversation", EIK, "--kind", "annual", "--held-on", "2024-11-12",
                     "--attendee", "gp_principal=F. Visser", "--attendee", "officer=A. Jansen",
                     "--now", "2024-11-12T16:00", "--actor", "user:a.jansen")
    gaps = [line.strip() for line in recorded.stdout.splitlines() if "let op" in line]
    assert "vastgelegd" in recorded.stdout and len(gaps) == 3
    assert any("praktijkondersteuner chronische zorg" in gap for gap in gaps)
    assert any("functionaris" in gap and "vereist: 2" in gap for gap in gaps)
    staff("run", "--now", "2024-11-18T06:00", "--only", "sweep-due")  # takes the recorded steps
    last = staff.history(EIK)[-1]
    assert last["trigger"] == "hold_annual_conversation" and len(last["details"]["attendance_gaps"]) == 3
    assert staff.status()[EIK]["next_due"] == "2025-11-12"

    complete = staff("record-conversation", LINDE, "--kind", "annual", "--held-on", "2024-11-13", *FULL_ATTENDANCE,
                     "--now", "2024-11-13T16:00")
    assert "let op" not in complete.stdout


def test_annual_conversation_before_any_start_conversation_is_kept_and_shown_as_waiting(staff: Staff) -> None:
    staff.set_up_care_group()
    recorded = staff("record-conversation", LINDE, "--kind", "annual", "--held-on", "2024-02-01",
                     *FULL_ATTENDANCE, "--now", "2024-02-01T10:00")
    assert "kwaliteitsjaargesprek van 01234567 op 2024-02-01 vastgelegd" in recorded.stdout
    staff("run", "--now", "2024-02-05T06:00", "--only", "sweep-due")

    assert staff.history(LINDE) == []
    assert staff.status()[LINDE]["waiting_steps"] == [
        "kwaliteitsjaargesprek van 2024-02-01: wacht op een startgesprek: het traject staat op 'start'"]
    assert "stap wacht: kwaliteitsjaargesprek van 2024-02-01" in flat(staff("status").stdout)


def test_extra_conversation_with_a_plan_after_the_flag_starts_the_improvement_plan(staff: Staff) -> None:
    staff.flag_linde()
    assert staff.state(LINDE) == "extra_conversation"
    agreed = staff("record-conversation", LINDE, "--kind", "extra", "--held-on", "2024-04-29",
                   "--plan", write("plan.yaml", PLAN), *FULL_ATTENDANCE, "--now", "2024-04-29T15:00",
                   "--actor", "user:p.deboer")
    assert "let op" not in agreed.stdout
    # the engine last ran three weeks ago (runs every working day keep a care group live): the step waits for it
    assert "traject: wordt gezet door de eerste run op of na 2024-04-29 12:00" in flat(agreed.stdout)
    assert "extra gesprek -> verbeterplan" in flat(staff("run", "--now", "2024-04-30T06:00", "--only",
                                                          "sweep-due").stdout)
    line = staff.status()[LINDE]
    assert line["state"] == "improvement_plan" and line["since"].startswith("2024-04-29T00:00")
    last = staff.history(LINDE)[-1]
    assert (last["trigger"], last["actor"]) == ("agree_improvement_plan", "user:p.deboer")
    assert last["details"]["plan"]["goals"][0]["indicator"] == "hba1c_measured"
    assert last["details"]["plan"]["agreements"] == ["Recall-lijst HbA1c maandelijks nalopen"]
    # the next run keeps the plan: 60% is still below target, but a year has not passed
    staff("run", "--now", "2024-05-06T07:00")
    assert staff.state(LINDE) == "improvement_plan"
    assert "toestand komt overeen" in staff("replay", LINDE).stdout


def test_recording_the_same_conversation_twice_says_it_was_already_recorded(staff: Staff) -> None:
    staff.set_up_care_group()
    staff.start_cycles()
    staff("run", "--now", "2024-01-17T06:00", "--only", "sweep-due")
    before = staff.snapshot()
    again = staff("record-conversation", LINDE, "--kind", "start", "--held-on", "2024-01-15",
                  "--now", "2024-01-20T09:00", "--actor", "user:p.deboer")
    assert "was al vastgelegd" in again.stdout and "niets gewijzigd" in again.stdout
    assert staff.snapshot() == before
    assert [e["actor"] for e in staff.history(LINDE)] == ["user:a.jansen"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((LINDE, "--kind", "annual", "--held-on", "2024-11-12", "--attendee", "chef=G. de Kok"),
                     "onbekende rol 'chef' (mogelijk: gp_principal,", id="unknown-role"),
        pytest.param((LINDE, "--kind", "annual", "--held-on", "2024-11-12", "--attendee", "gp_principal"),
                     "gebruik ROL=NAAM", id="attendee-without-name"),
        pytest.param(("12345678", "--kind", "start", "--held-on", "2024-01-15"),
                     "praktijk met AGB-code 12345678 is niet bekend", id="unknown-practice"),
        pytest.param(("1234567", "--kind", "start", "--held-on", "2024-01-15"),
                     "AGB-code '1234567' is ongeldig: verwacht precies 8 cijfers", id="short-agb-code"),
        pytest.param((LINDE, "--kind", "annual", "--held-on", "2024-13-01"),
                     "--held-on '2024-13-01': onleesbare of onbestaande datum", id="bad-date"),
        pytest.param((LINDE, "--kind", "annual", "--held-on", "2024-11-12", "--now", "morgen"),
                     "moment 'morgen' onleesbaar", id="bad-moment"),
        pytest.param((LINDE, "--kind", "extra", "--held-on", "2024-04-29", "--plan", "geen-plan.yaml"),
                     "geen-plan.yaml: bestand bestaat niet", id="missing-plan"),
    ],
)
def test_wrong_conversation_command_fails_cleanly_and_stores_nothing(
    staff: Staff, args: tuple[str, ...], expected: str
) -> None:
    staff.set_up_care_group()
    staff.start_cycles()
    write("plan.yaml", PLAN)
    before = staff.snapshot()
    message = staff.refused("record-conversation", *args)
    assert message.startswith("fout: ") and expected in message
    assert staff.snapshot() == before


def test_unknown_conversation_kind_is_a_command_line_error(staff: Staff) -> None:
    staff.set_up_care_group()
    message = staff.refused("record-conversation", LINDE, "--kind", "jaarlijks", "--held-on", "2024-11-12", code=2)
    assert "--kind" in message


# --------------------------------------------------------------------------- 4. conversations from a spreadsheet


def test_conversations_from_a_spreadsheet_are_recorded_in_date_order_once(staff: Staff) -> None:
    staff.set_up_care_group()
    conversations = write("gesprekken.csv", f"""agb_code,kind,held_on
{LINDE},annual,2024-11-12
{EIK},startgesprek,16-01-2024
{LINDE},start,2024-01-15
""")
    imported = staff("import-conversations", conversations, "--now", "2024-12-02T09:00", "--actor", "import:gesprekken")
    assert "3 vastgelegd, 0 waren al bekend" in imported.stdout
    assert staff.history(LINDE) == []  # history brought in: the steps wait for a run to reach their days
    staff("run", "--now", "2024-12-02T09:00", "--only", "sweep-due")
    linde = staff.history(LINDE)
    assert [(e["trigger"], e["details"]["held_on"]) for e in linde] == [
        ("hold_start_conversation", "2024-01-15"), ("hold_annual_conversation", "2024-11-12")]
    assert {e["actor"] for e in linde} == {"import:gesprekken"}
    status = staff.status()
    assert status[LINDE]["state"] == status[EIK]["state"] == "annual_cycle"
    assert status[LINDE]["next_due"] == "2025-11-12"  # twelve months after the annual conversation held

    before = staff.snapshot()
    again = staff("import-conversations", conversations, "--now", "2024-12-09T09:00")
    assert "0 vastgelegd, 3 waren al bekend" in again.stdout
    assert staff.snapshot() == before


def test_a_spreadsheet_row_the_trajectory_cannot_take_is_kept_and_shown_not_dropped(staff: Staff) -> None:
    staff.set_up_care_group()
    conversations = write("gesprekken.csv", f"agb_code,kind,held_on\n{LINDE},start,2024-01-15\n"
                                            f"{EIK},annual,2024-02-01\n")
    assert "2 vastgelegd" in staff("import-conversations", conversations, "--now", "2024-12-02T09:00").stdout
    staff("run", "--now", "2024-12-02T09:00", "--only", "sweep-due")

    assert staff.state(LINDE) == "annual_cycle" and staff.state(EIK) == "start"
    assert staff.status()[EIK]["waiting_steps"] == [
        "kwaliteitsjaargesprek van 2024-02-01: wacht op een startgesprek: het traject staat op 'start'"]


# --------------------------------------------------------------------------- 5. leaving, and the diagram


def test_practice_that_stops_leaves_the_cycle(staff: Staff) -> None:
    staff.set_up_care_group()
    staff.start_cycles()
    staff("run", "--now", "2024-06-28T06:00", "--only", "sweep-due")  # the care group runs: it is live
    left = staff("leave", EIK, "--on", "2024-06-30", "--reason", "praktijk gestopt", "--now", "2024-06-30T13:00",
                 "--actor", "user:a.jansen")
    assert f"praktijk {EIK}: jaarcyclus -> vertrokken" in left.stdout
    line = staff.status()[EIK]
    assert line["state"] == "left" and line["next_due"] is None
    last = staff.history(EIK)[-1]
    assert (last["trigger"], last["to_state"], last["actor"]) == ("leave", "left", "user:a.jansen")
    assert last["reasons"] == [{"explanation": "praktijk gestopt"}]
    again = staff("leave", EIK, "--on", "2024-07-01", "--reason", "nogmaals", "--now", "2024-07-01T13:00")
    assert "wacht op een startgesprek: het traject staat op 'vertrokken'" in flat(again.stdout)
    # the practice starts again later: the second leave, which happened before that start, is not taken after it
    staff("record-conversation", EIK, "--kind", "start", "--held-on", "2024-09-02", "--now", "2024-09-02T13:00")
    staff("run", "--now", "2024-09-03T06:00", "--only", "sweep-due")
    assert staff.state(EIK) == "annual_cycle"
    (waiting,) = staff.status()[EIK]["waiting_steps"]
    assert waiting.startswith("vertrek uit de cyclus van 2024-07-01: wacht op een startgesprek") and \
        "intussen is een later feit (van 2024-09-02) al verwerkt" in waiting
    staff("replay")


def test_diagram_prints_the_machine_as_mermaid(staff: Staff) -> None:
    shown = staff("diagram").stdout
    assert shown.splitlines()[0] == "stateDiagram-v2"
    assert "[*] --> start" in shown and "extra_conversation --> improvement_plan: agree_improvement_plan" in shown
    assert shown == mermaid()


# --------------------------------------------------------------------------- 6. settings


def test_unreachable_database_gives_a_one_line_error(staff: Staff) -> None:
    result = staff.invoke(("status", "--json"), {"QC_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"})
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("fout: database niet bereikbaar of niet bruikbaar: ")
    assert "127.0.0.1" in line


# --------------------------------------------------------------------------- 7. the policy


def test_stricter_policy_file_flags_a_practice_at_80_percent_of_target(staff: Staff) -> None:
    staff.set_up_care_group()
    staff.start_cycles()
    # 72 of 100 is exactly 80% of the 90% target: not "more than 20% below" under the default policy
    staff("import-indicators", write("scores.csv", f"{SCORE_HEADER}\n{LINDE},dm2,hba1c_measured,2024-03-31,72,100\n"),
          "--now", "2024-04-05")
    default = flat(staff("run", "--now", "2024-04-08T07:00").stdout)
    assert "0 stappen in trajecten" in default and staff.state(LINDE) == "annual_cycle"

    strict = {"QC_POLICY_FILE": write("beleid.yaml", "deviation_share_of_target: 0.05\n")}
    stricter = flat(staff("run", "--now", "2024-04-15T07:00", env=strict).stdout)
    assert "1 stappen in trajecten" in stricter and "jaarcyclus -> extra gesprek (flag_deviation)" in stricter
    reason = staff.status()[LINDE]["reasons"][0]
    assert reason["score"] == 72.0 and reason["threshold"] == 85.5
    assert staff.state(EIK) == "annual_cycle"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("deviation_share_of_target: 5\n", "beleid (policy) ongeldig: deviation_share_of_target",
                     id="out-of-range"),
        pytest.param("policy: {lag_mode: procent}\n", "beleid (policy) ongeldig: lag_mode", id="unknown-mode"),
        pytest.param("deviation_share: 0.1\n", "beleid (policy) ongeldig: deviation_share", id="unknown-field"),
        pytest.param("deviation_share_of_target: [0.1\n", "beleidsbestand beleid.yaml", id="not-yaml"),
    ],
)
def test_invalid_policy_file_gives_a_clean_error(staff: Staff, text: str, expected: str) -> None:
    staff.set_up_care_group()
    before = staff.snapshot()
    message = staff.refused("run", "--now", "2024-04-08T07:00", env={"QC_POLICY_FILE": write("beleid.yaml", text)})
    assert message.startswith(f"fout: {expected}")
    assert staff.snapshot() == before


# --------------------------------------------------------------------------- 8. the demo


def test_demo_simulates_a_small_care_group_and_reports_to_the_board(staff: Staff) -> None:
    shown = staff("demo", "--practices", "6", "--years", "2").stdout
    assert "Gemeld aan het bestuur" in shown and "Berichten verstuurd" in shown
    assert "Verslagen van gesprekken" in shown and "Ondersteuning gegeven" in shown and "Doelen:" in shown
    assert "Spiegelbijeenkomsten: huisartsengroep HAGRO-WEST" in shown and "accreditatie toegekend" in shown
    assert any((staff.home / "demo" / "outbox").glob("mirror_meeting_invitation_*.eml"))
    assert "Overleggen gehouden: 2024: 10, 2025: 10" in shown and "01000002 (POH-overleg 2024)" in shown
    assert (staff.home / "demo" / "qualitycycle.db").is_file()
    assert any((staff.home / "demo" / "outbox").glob("board_escalation_*.eml"))
    assert not (staff.home / "qualitycycle.db").exists()  # the demo keeps to its own database


def test_writing_a_chart_or_preview_to_a_folder_that_does_not_exist_fails_cleanly(staff: Staff) -> None:
    staff.set_up_care_group()
    message = staff.refused("chart", LINDE, "--out", "/nonexistent/folder/linde.svg")
    assert message.startswith("fout: /nonexistent/folder/linde.svg kan niet worden gelezen of geschreven")
    assert staff.refused("preview", "board_escalation", "--out", "/nonexistent/x.eml").startswith("fout:")


# --------------------------------------------------------------------------- the schedule at the command line


def test_officer_runs_a_day_twice_and_the_second_run_sends_nothing(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    staff("record-conversation", LINDE, "--kind", "start", "--held-on", "2024-01-15", "--now", "2024-01-15T14:00")
    first = flat(staff("run", "--now", "2024-12-09T06:00").stdout)
    assert "sweep-due (Openstaande taken)" in first and "uitnodiging voor een gesprek: " in first
    assert "conversation_invitation" not in first  # message kinds by their Dutch names
    mails = sorted(p.name for p in (staff.home / "outbox").glob("*.eml"))
    assert any(name.startswith("conversation_invitation") for name in mails)

    second = flat(staff("run", "--now", "2024-12-09T06:00").stdout)
    assert "moment was al eerder verwerkt" in second and "0 verzonden" in second
    assert "uitnodiging" not in second.split("dispatch-outbox")[0]
    assert sorted(p.name for p in (staff.home / "outbox").glob("*.eml")) == mails

    due = staff.json("obligations", LINDE)
    assert isinstance(due, list)
    annual = next(o for o in due if isinstance(o, dict) and o["kind"] == "annual_conversation")
    assert annual["due_on"] == "2025-01-15" and annual["planned_on"] == "2024-12-31"
    assert annual["notices_done"] == ["invitation"]


def test_a_run_in_which_a_practice_fails_does_the_rest_and_exits_non_zero(staff: Staff) -> None:
    staff.set_up_care_group()
    staff.start_cycles()
    scores = SCORES_Q1.replace(f"{EIK},dm2,hba1c_measured,2024-03-31,95", f"{EIK},dm2,hba1c_measured,2024-03-31,60")
    staff("import-indicators", write("scores.csv", scores), "--now", "2024-04-05")
    staff("run", "--now", "2024-01-17T06:00", "--only", "sweep-due")  # the start conversations' steps
    with sqlite3.connect(staff.home / "qualitycycle.db") as conn:  # De Linde's stored state is off by one step
        conn.execute("UPDATE trajectory SET version = version - 1 WHERE agb_code = ?", (LINDE,))

    result = staff.invoke(("run", "--now", "2024-04-08T07:00"), None)

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = result.stderr.splitlines()
    assert (f"  fout: praktijk {LINDE}: traject is intussen gewijzigd (verwacht versie 1); drie pogingen mislukt: "
            "blijft dit terugkomen, vergelijk dan de opgeslagen stand met de gebeurtenissen "
            f"(qualitycycle replay {LINDE})") in errors
    assert errors[-1].startswith(f"mislukt: 1 fout(en) (Openstaande taken: 1). Eerste: praktijk {LINDE}: ")
    # everything else was done: De Eik flagged, the messages dispatched
    assert staff.state(EIK) == "extra_conversation" and staff.state(LINDE) == "annual_cycle"
    assert "dispatch-outbox (Berichten versturen)" in result.stdout


def test_a_conversation_recorded_in_the_same_minute_as_a_run_never_fails_it(staff: Staff) -> None:
    staff.set_up_care_group()
    staff.start_cycles()
    staff("import-indicators", write("scores.csv", SCORES_Q1), "--now", "2024-04-05")
    staff("run", "--now", "2024-04-05T06:00", "--only", "sweep-due")  # a live care group: it ran on Friday
    # on Monday an officer records De Eik's annual conversation of Friday at 07:00:32; the run of 07:00 starts
    # after it: the step is taken at once, at Friday noon, so the run finds it in its past
    staff("record-conversation", EIK, "--kind", "annual", "--held-on", "2024-04-05", "--now", "2024-04-08T07:00:32",
          *FULL_ATTENDANCE)
    assert staff.history(EIK)[-1]["at"] == "2024-04-05T12:00:00+02:00"

    first = staff("run", "--now", "2024-04-08T07:00")  # exit 0 (Staff asserts it)

    assert "fout" not in first.stderr and "uitgesteld" not in first.stdout
    assert staff.state(LINDE) == "extra_conversation"


def test_a_run_for_a_moment_just_before_a_step_another_run_took_leaves_the_practice_to_the_next(
        staff: Staff) -> None:
    """A run given 07:05 by hand, then the scheduled run of 07:00 that started late: the practice the first
    run moved is left to the next run, not failed."""
    staff.flag_linde()  # De Linde flagged on 8 April
    corrected = SCORES_Q1.replace(f"{LINDE},dm2,hba1c_measured,2024-03-31,60",
                                  f"{LINDE},dm2,hba1c_measured,2024-03-31,95")
    staff("import-indicators", write("correctie.csv", corrected), "--now", "2024-04-12")
    staff("run", "--now", "2024-04-15T07:05")  # De Linde recovers at 07:05
    assert staff.history(LINDE)[-1]["at"] == "2024-04-15T07:05:00+02:00"

    late = staff("run", "--now", "2024-04-15T07:00")

    assert "fout" not in late.stderr
    assert (f"uitgesteld: praktijk {LINDE}: niet beoordeeld: het traject zette op 2024-04-15 07:05:00 een stap, "
            "na het moment van deze run (2024-04-15 07:00:00)") in flat(late.stdout)


def test_a_run_for_a_moment_long_before_a_practices_last_step_fails_it_rather_than_defer_it_for_ever(
        staff: Staff) -> None:
    staff.flag_linde()  # flagged on 8 April 2024 at 07:00

    result = staff.invoke(("run", "--now", "2024-04-01T07:00", "--only", "sweep-due"), None)

    assert result.exit_code == 1, result.output
    assert (f"fout: praktijk {LINDE}: niet beoordeeld: het traject zette op 2024-04-08 07:00:00 een stap, meer dan "
            "een dag na het moment van deze run (2024-04-01 07:00:00)") in flat(result.stderr)
    assert "uitgesteld" not in result.stdout


def test_only_goes_with_now(staff: Staff) -> None:
    staff("init")
    assert "--only werkt alleen samen met --now" in staff.refused("run", "--only", "sweep-due")


def test_runs_on_a_summer_and_a_winter_morning_store_their_steps_at_that_instant(staff: Staff) -> None:
    staff.set_up_care_group()
    staff.start_cycles()
    staff("import-indicators", write("scores.csv", SCORES_Q1), "--now", "2024-04-05")

    staff("run", "--now", "2024-07-01T06:00:15")  # summer time, read as Amsterdam wall time
    staff("run", "--now", "2024-12-09T05:00:00Z")  # winter, given in UTC: 06:00 in Amsterdam

    flagged = next(e for e in staff.history(LINDE) if e["trigger"] == "flag_deviation")
    assert flagged["at"] == "2024-07-01T06:00:15+02:00"
    assert staff.status()[LINDE]["since"] == "2024-07-01T06:00:15+02:00"
    assert {r["moment"] for r in staff.json("runs", "sweep_due")} == {"2024-07-01T06:00:15+02:00",
                                                                      "2024-12-09T06:00:00+01:00"}
    replayed = staff("replay")
    assert replayed.stdout.count("toestand komt overeen") == 2


def test_the_sample_registry_a_newcomer_starts_from_loads(staff: Staff) -> None:
    staff("init")
    loaded = staff("load-registry", str(SAMPLES / "registry.yaml"))
    assert "3 praktijken (3 nieuw), 2 huisartsengroepen" in loaded.stdout
    assert {line["agb_code"] for line in staff.json("status")} == {"01000001", "01000002", "01000003"}


def test_a_plan_with_a_goal_on_an_unknown_indicator_is_refused_naming_it(staff: Staff) -> None:
    staff.flag_linde()
    before = staff.snapshot()
    plan = write("plan.yaml", "goals: [{programme: dm2, indicator: bestaat_niet, target: 90, by: 2025-03-15}]\n")
    message = staff.refused("record-conversation", LINDE, "--kind", "extra", "--held-on", "2024-04-29",
                            "--now", "2024-04-29T16:00", "--plan", plan, *FULL_ATTENDANCE)
    assert message.startswith("fout: plan.yaml, goals[0].indicator: indicator dm2/bestaat_niet staat niet in de "
                              "indicatorcatalogus; er is niets vastgelegd (bekend voor dm2: ")
    assert "hba1c_measured" in message
    assert staff.snapshot() == before and staff.state(LINDE) == "extra_conversation"


# --------------------------------------------------------------------------- history brought in


def test_a_new_care_group_brings_in_two_years_and_runs_them_in_order_as_if_entered_on_time(staff: Staff) -> None:
    """Tried as a new user would: everything typed in today (the clock), with the dates it happened; then
    ``run --now`` at moments of 2024 and 2025, in order. De Linde is flagged, agrees its plan, stays far behind
    and is escalated, with the dates the board will ask about."""
    staff.set_up_care_group()
    staff("record-conversation", LINDE, "--kind", "start", "--held-on", "2024-01-15", "--actor", "user:a.jansen")
    staff("record-conversation", EIK, "--kind", "start", "--held-on", "2024-01-16", "--actor", "user:a.jansen")
    rows = [SCORE_HEADER]
    for quarter, linde in (("2024-03-31", 60), ("2024-06-30", 61), ("2024-09-30", 62), ("2024-12-31", 63),
                           ("2025-03-31", 64)):
        rows += [f"{LINDE},dm2,hba1c_measured,{quarter},{linde},100", f"{EIK},dm2,hba1c_measured,{quarter},95,100"]
    staff("import-indicators", write("cijfers.csv", "\n".join(rows) + "\n"))
    waiting = staff("record-conversation", LINDE, "--kind", "extra", "--held-on", "2024-04-29",
                    "--plan", write("plan.yaml", PLAN), *FULL_ATTENDANCE, "--actor", "user:p.deboer")
    assert "wordt gezet door de eerste run op of na 2024-04-29 12:00" in flat(waiting.stdout)
    staff("record-conversation", LINDE, "--kind", "annual", "--held-on", "2024-11-12", *FULL_ATTENDANCE)
    staff("record-conversation", EIK, "--kind", "annual", "--held-on", "2024-11-13", *FULL_ATTENDANCE)

    for moment in ("2024-04-08T07:00", "2024-05-06T07:00", "2024-12-02T07:00", "2025-05-05T07:00"):
        staff("run", "--now", moment)  # each exits 0

    linde = [(e["trigger"], e["at"], bool(e["details"].get("late"))) for e in staff.history(LINDE)]
    assert linde == [
        ("hold_start_conversation", "2024-01-15T12:00:00+01:00", False),
        ("flag_deviation", "2024-04-08T07:00:00+02:00", False),
        ("agree_improvement_plan", "2024-04-29T12:00:00+02:00", False),
        ("hold_annual_conversation", "2024-11-12T12:00:00+01:00", False),
        ("escalate", "2025-05-05T07:00:00+02:00", False),
    ]
    # two times: the facts were entered today; each event was written by the run that reached it
    entered = {e["trigger"]: e["details"].get("fact_recorded_at", "") for e in staff.history(LINDE)}
    assert entered["hold_start_conversation"][:4] == entered["agree_improvement_plan"][:4] == str(date.today().year)
    assert [e["recorded_at"][:10] for e in staff.history(LINDE)] == [
        "2024-04-08", "2024-04-08", "2024-05-06", "2024-12-02", "2025-05-05"]
    status = staff.status()
    assert status[LINDE]["state"] == "underperformer_policy" and status[LINDE]["waiting_steps"] == []
    assert status[EIK]["state"] == "annual_cycle" and status[EIK]["next_due"] == "2025-11-13"
    told = [m for m in staff.json("outbox") if m["kind"] == "board_escalation"]
    assert told and {m["agb_code"] for m in told} == {LINDE} and {m["status"] for m in told} == {"sent"}
    assert "toestand komt overeen" in staff("replay", LINDE).stdout


def test_onboarding_registry_figures_conversations_backfill_then_the_runner(staff: Staff) -> None:
    """The README's onboarding path: bring in 2024 and the first half of 2025, backfill it, then run as usual.
    Nobody gets 2024's invitations: what the backfill queued is historic; the next run sends only what is new."""
    staff.set_up_care_group()
    rows = [SCORE_HEADER] + [f"{agb},dm2,hba1c_measured,{q},{v},100" for q, linde in (
        ("2024-03-31", 60), ("2024-06-30", 61), ("2024-09-30", 62), ("2024-12-31", 63), ("2025-03-31", 64))
        for agb, v in ((LINDE, linde), (EIK, 95))]
    staff("import-indicators", write("cijfers.csv", "\n".join(rows) + "\n"))
    write("gesprekken.csv", f"agb_code,kind,held_on\n{LINDE},start,2024-01-15\n{EIK},start,2024-01-16\n"
                            f"{LINDE},annual,2024-11-12\n{EIK},annual,2024-11-13\n")
    staff("import-conversations", "gesprekken.csv")
    staff("record-conversation", LINDE, "--kind", "extra", "--held-on", "2024-04-29", "--plan",
          write("plan.yaml", PLAN), *FULL_ATTENDANCE)

    walked = flat(staff("backfill", "--from", "2024-01-01", "--until", "2025-06-30T05:00").stdout)

    assert "niet doorlopen: dispatch-outbox" in walked and "bewaard als historisch (niet verstuurd)" in walked
    assert staff.state(LINDE) == "underperformer_policy" and staff.state(EIK) == "annual_cycle"
    assert [e["trigger"] for e in staff.history(LINDE)][:3] == [
        "hold_start_conversation", "flag_deviation", "agree_improvement_plan"]
    historic = staff.json("outbox", "--status", "historic")
    assert historic and not [m for m in staff.json("outbox") if m["status"] not in ("historic",)]
    assert {m["kind"] for m in historic} >= {"board_escalation", "conversation_invitation"}
    assert staff.status()[LINDE]["waiting_steps"] == []
    again = flat(staff("backfill", "--from", "2024-01-01", "--until", "2025-06-30T05:00").stdout)
    assert "had deze periode al beoordeeld; niets te doen" in again  # done once

    staff("run", "--now", "2025-10-13T06:00")  # an ordinary run after the backfill
    sent = [m for m in staff.json("outbox") if m["status"] == "sent"]
    assert {m["kind"] for m in sent} >= {"board_progress", "conversation_invitation"}
    assert all(m["created_at"] >= "2025-10-13" for m in sent)  # only what lies ahead of the backfill
    assert len(list((staff.home / "outbox").glob("*.eml"))) == len(sent)
    assert "toestand komt overeen" in staff("replay").stdout


def test_a_conversation_entered_a_week_late_is_kept_late_and_the_past_can_be_shown(staff: Staff) -> None:
    flagged = staff.flag_linde()  # De Linde flagged on Monday 8 April at 07:00
    assert "jaarcyclus -> extra gesprek" in flat(flagged.stdout)
    # on Wednesday 10 April an officer enters the annual conversation held on Tuesday 2 April
    entered = staff("record-conversation", LINDE, "--kind", "annual", "--held-on", "2024-04-02", *FULL_ATTENDANCE,
                    "--now", "2024-04-10T09:00")
    assert "vastgelegd" in entered.stdout and "wordt gezet" not in entered.stdout  # taken at once: live

    last = staff.history(LINDE)[-1]
    assert (last["trigger"], last["at"], last["recorded_at"], last["details"]["late"]) == (
        "hold_annual_conversation", "2024-04-02T12:00:00+02:00", "2024-04-10T09:00:00+02:00", True)
    assert staff.state(LINDE) == "extra_conversation"  # the steps already taken are not rewritten
    before = {line["agb_code"]: line for line in staff.json("status", "--as-of", "2024-04-05")}
    assert before[LINDE]["state"] == "annual_cycle" and before[LINDE]["next_due"] == "2025-04-02"
    assert [e["trigger"] for e in staff.json("history", LINDE, "--as-of", "2024-04-05")] == [
        "hold_start_conversation", "hold_annual_conversation"]
    assert [e["trigger"] for e in staff.json("history", LINDE, "--as-of", "2024-04-08T07:00")] == [
        "hold_start_conversation", "flag_deviation", "hold_annual_conversation"]  # in the order they were taken
    now = {line["agb_code"]: line for line in staff.json("status")}
    then = {line["agb_code"]: line for line in staff.json("status", "--as-of", "2024-04-10T09:00")}
    present = ("waiting_steps", "held_messages")  # of now only: what waits is not kept for the past
    for line in (now[LINDE], then[LINDE]):  # nor are the mandatory courses' duties (the line of now only)
        line["around_the_cycle"].pop("training")
    assert {k: v for k, v in now[LINDE].items() if k not in present} == {
        k: v for k, v in then[LINDE].items() if k not in present}
    assert "(laat)" in flat(staff("history", LINDE).stdout)
    assert "toestand komt overeen" in staff("replay", LINDE).stdout


# --------------------------------------------------------------------------- policy versions


def test_a_policy_version_applies_from_its_day_and_every_decision_names_it(staff: Staff) -> None:
    staff.set_up_care_group()
    staff.start_cycles()
    # 75 of 100 HbA1c checks: above the default threshold (72%), below a stricter one (76.5%)
    staff("import-indicators", write("scores.csv", f"{SCORE_HEADER}\n{LINDE},dm2,hba1c_measured,2024-03-31,75,100\n"),
          "--now", "2024-04-05")
    staff("run", "--now", "2024-04-08T07:00", "--only", "sweep-due")
    assert staff.state(LINDE) == "annual_cycle"

    set_ = staff("policy", "set", write("strenger.yaml", "deviation_share_of_target: 0.15\n"), "--from", "2024-04-15",
                 "--reason", "bestuursbesluit 10 april: strenger", "--now", "2024-04-10T12:00")
    assert "beleid 1 vastgelegd, geldt vanaf 2024-04-15" in set_.stdout
    staff("run", "--now", "2024-04-12T07:00", "--only", "sweep-due")  # still the old policy
    assert staff.state(LINDE) == "annual_cycle"
    staff("run", "--now", "2024-04-15T07:00", "--only", "sweep-due")

    flag = staff.history(LINDE)[-1]
    assert (flag["trigger"], flag["details"]["policy_version"]) == ("flag_deviation", "beleid 1 (vanaf 2024-04-15)")
    assert staff.history(LINDE)[0]["details"]["policy_version"] == "beleid 0 (instellingen)"
    shown = staff.json("policy", "show", "--now", "2024-04-16T00:00")
    assert isinstance(shown, dict) and shown["in_force"] == "beleid 1 (vanaf 2024-04-15)"
    assert shown["policy"]["deviation_share_of_target"] == 0.15
    assert [(v["number"], v["reason"]) for v in shown["versions"]] == [(1, "bestuursbesluit 10 april: strenger")]
    refused = staff.refused("policy", "set", write("fout.yaml", "deviation_share_of_target: 2\n"), "--from",
                            "2024-05-01", "--reason", "typefout")
    assert refused.startswith("fout: fout.yaml, deviation_share_of_target:")


def test_what_if_a_stricter_threshold_on_the_demo_lists_the_practices_flagged_earlier_and_stores_nothing(
        staff: Staff) -> None:
    from flows.testing.demo import run_demo

    run_demo(staff.home / "demo", years=2, practices=12)
    database = staff.home / "demo" / "qualitycycle.db"
    env = {"QC_DATABASE_URL": f"sqlite:///{database}"}

    def rows() -> dict[str, list[str]]:  # read by a connection of its own: a write in the WAL would show
        with sqlite3.connect(database) as conn:
            tables = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {t: sorted(repr(r) for r in conn.execute(f'SELECT * FROM "{t}"')) for t in tables}

    before = rows()

    shown = staff("policy", "what-if", write("strenger.yaml", "deviation_share_of_target: 0.15\n"), "--from",
                  "2024-01-01", "--months", "24", env=env)

    lines = flat(shown.stdout)
    assert "wat als deviation_share_of_target: 0.2 -> 0.15" in lines and "trajecten herbouwd" in lines
    for agb in ("01000004", "01000010"):  # the practices whose figures slide a few points a quarter
        assert (f"{agb} Huisartsenpraktijk") in lines
    assert lines.count("markering sterke afwijking (extra gesprek): onder het voorstel eerder") == 2
    assert "alleen onder het huidige beleid" not in lines
    assert rows() == before  # nothing stored
    assert not list((staff.home / "outbox").glob("*.eml"))  # nothing sent


# --------------------------------------------------------------------------- a conversation's report and agreements


REPORT = """\
summary: "Besproken: indicatoren dm2, het project valpreventie."
support_needs: [coaching]
agreements:
  - {text: "POH plant voetonderzoek bij alle dm2-patiënten", owner: practice, due: 2024-06-30}
  - {text: "Coaching POH op consultvoering", owner: care_group, due: 2024-03-31, support: coaching}
"""


def test_an_officer_records_a_report_and_the_next_annual_conversation_evaluates_its_agreements(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    staff("record-conversation", LINDE, "--kind", "start", "--held-on", "2024-01-15", "--now", "2024-01-15T14:00")
    made = staff("record-conversation", LINDE, "--kind", "annual", "--held-on", "2024-02-12", *FULL_ATTENDANCE,
                 "--report", write("verslag-2024.yaml", REPORT), "--now", "2024-02-12T16:00")
    (foot, coaching) = [a["id"] for a in staff.json("agreements", LINDE, "--open")]
    assert f"afspraken vastgelegd: {foot}, {coaching}" in flat(made.stdout)
    before = staff.database()
    refused = staff.refused("record-conversation", LINDE, "--kind", "annual", "--held-on", "2025-02-10",
                            "--report", write("fout.yaml", "evaluations: [{agreement: zzz, outcome: met}]\n"),
                            "--now", "2025-02-10T16:00")
    assert "fout.yaml, evaluations[0].agreement: afspraak zzz is niet bekend" in refused
    assert staff.database() == before
    evaluated = staff("record-conversation", LINDE, "--kind", "annual", "--held-on", "2025-02-10", *FULL_ATTENDANCE,
                      "--report", write("verslag-2025.yaml",
                                        f"evaluations: [{{agreement: {foot}, outcome: met, note: alles gedaan}}]\n"),
                      "--now", "2025-02-10T16:00")
    assert f"let op (afspraken): afspraak {coaching} van 2024-02-12 niet geëvalueerd" in flat(evaluated.stdout)
    listed = {a["id"]: a for a in staff.json("agreements", LINDE)}
    assert set(listed[foot]) == {"id", "agb_code", "text", "owner", "due", "made_on", "status", "evaluated_on", "note",
                                 "proposed_outcome"}  # the keys, and the outcome support given proposes
    assert (listed[foot]["status"], listed[foot]["evaluated_on"], listed[foot]["note"]) == (
        "met", "2025-02-10", "alles gedaan")
    assert listed[coaching]["status"] == "open"
    assert "gehaald (2025-02-10): alles gedaan" in flat(staff("agreements", LINDE).stdout)


def test_an_officer_tracks_support_from_request_to_done_at_the_command_line(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    asked = staff("support", "request", LINDE, "--kind", "lung_function", "--on", "2024-03-01",
                  "--note", "spirometrie loopt achter", "--now", "2024-03-01T10:00", "--actor", "user:a.jansen")
    key = asked.stdout.split()[-1]
    refused = staff.refused("support", "done", key, "--on", "2024-03-05", "--now", "2024-03-05T10:00")
    assert f"ondersteuning {key}: afronden kan niet" in refused and "wel mogelijk: plannen" in refused
    staff("support", "plan", key, "--on", "2024-03-12", "--by", "L. Visser", "--now", "2024-03-04T10:00")
    staff("support", "done", key, "--on", "2024-03-12", "--half-days", "2", "--outcome", "op orde",
          "--now", "2024-03-13T10:00")
    (listed,) = staff.json("support", "list", LINDE)
    assert set(listed) == {"id", "agb_code", "kind", "status", "requested_on", "planned_on", "done_on", "half_days",
                           "by", "agreement", "outcome"}
    assert (listed["id"], listed["status"], listed["done_on"], listed["half_days"], listed["by"]) == (
        key, "done", "2024-03-12", 2, "L. Visser")
    assert "usage" not in staff.refused("support", "request", LINDE, "--kind", "massage", "--on", "2024-03-01",
                                        code=2).lower()


BAD_REPORTS = [
    ("agreements: [{text: '', owner: practice}]\n", "agreements[0].text"),
    ("agreements: [{owner: practice}]\n", "agreements[0].text"),
    ("agreements: [{text: Recall, owner: buurman}]\n", "agreements[0].owner"),
    ("support_needs: [massage]\n", "support_needs[0]"),
    ("goals: [{programme: dm2, indicator: bestaat_niet, target: 90, by: 2025-12-31}]\n", "goals[0].indicator"),
    ("summary: 'Besproken met patiënt 111222333'\n", "summary"),
    ("agreements: [{text: 'Bel 111.222.333 terug', owner: practice}]\n", "agreements[0].text"),
    ("evaluations: [{agreement: abc, outcome: met, note: 'zie 111 222 333'}]\n", "evaluations[0].note"),
    ("evaluations: [{agreement: abc, outcome: misschien}]\n", "evaluations[0].outcome"),
]


@pytest.mark.parametrize(("text", "field"), BAD_REPORTS, ids=[f for _, f in BAD_REPORTS])
def test_a_report_that_says_what_it_may_not_is_refused_whole_naming_the_file_and_field_and_stores_nothing(
        staff: Staff, text: str, field: str) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    staff("record-conversation", LINDE, "--kind", "start", "--held-on", "2024-01-15", "--now", "2024-01-15T14:00")
    before = staff.database()
    report = write("verslag.yaml", text)
    refused = staff.refused("record-conversation", LINDE, "--kind", "annual", "--held-on", "2024-02-12",
                            *FULL_ATTENDANCE, "--report", report, "--now", "2024-02-12T16:00")
    assert str(report) in refused and field in refused, refused
    assert "111" not in refused  # a patient's number is not repeated in the error either
    assert staff.database() == before


def test_support_refuses_a_patients_number_in_its_notes_and_reasons_and_stores_nothing(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    key = staff("support", "request", LINDE, "--kind", "coaching", "--on", "2024-03-01",
                "--now", "2024-03-01T10:00").stdout.split()[-1]
    staff("support", "plan", key, "--on", "2024-03-12", "--now", "2024-03-04T10:00")
    before = staff.database()
    for args in (("support", "request", LINDE, "--kind", "coaching", "--on", "2024-03-02", "--note", "pt 111222333"),
                 ("support", "done", key, "--on", "2024-03-12", "--outcome", "dossier 111222333 nagelopen"),
                 ("support", "cancel", key, "--reason", "patiënt 111222333 verhuisd")):
        refused = staff.refused(*args, "--now", "2024-03-13T10:00")
        assert "BSN" in refused and "111222333" not in refused
    assert staff.database() == before


def test_goals_are_listed_with_their_state_and_figure(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    staff("record-conversation", LINDE, "--kind", "start", "--held-on", "2024-01-15", "--now", "2024-01-15T14:00")
    staff("record-conversation", LINDE, "--kind", "annual", "--held-on", "2024-02-12", *FULL_ATTENDANCE,
          "--report", write("verslag.yaml", "goals: [{programme: dm2, indicator: hba1c_measured, target: 90, "
                                            "by: 2024-12-31}]\n"), "--now", "2024-02-12T16:00")
    (goal,) = staff.json("goals", LINDE)
    assert (goal["indicator"], goal["target"], goal["by"], goal["status"]) == ("hba1c_measured", 90, "2024-12-31",
                                                                               "open")
    assert "loopt" in flat(staff("goals").stdout)
def test_an_officer_moves_the_annual_conversation_and_its_history_says_why(staff: Staff) -> None:
    staff.set_up_care_group()
    staff.start_cycles()
    staff("run", "--now", "2024-02-05T07:00")
    (annual,) = [o for o in staff.json("obligations", LINDE) if o["kind"] == "annual_conversation"]
    before = staff.database()
    refused = staff.refused("reschedule", LINDE, "--kind", "annual", "--to", "2025-01-11", "--reason", "vakantie",
                            "--now", "2024-06-03T10:00")
    assert refused == "fout: --to 2025-01-11: zaterdag 11 januari 2025 is geen werkdag (weekend); kies een werkdag; " \
                      "er is niets vastgelegd"
    assert "geen open extra gesprek" in staff.refused("reschedule", LINDE, "--kind", "extra", "--to", "2025-01-08",
                                                      "--reason", "vakantie", "--now", "2024-06-03T10:00")
    assert staff.database() == before
    moved = staff("reschedule", LINDE, "--kind", "annual", "--to", "2025-01-08",
                  "--reason", "praktijkhouder op vakantie", "--now", "2024-06-03T10:00", "--actor", "user:a.jansen")
    assert flat(moved.stdout) == (f"kwaliteitsjaargesprek van {LINDE} verplaatst: {annual['planned_on']} -> "
                                  "2025-01-08 uitnodiging en herinnering volgen voor de nieuwe dag")
    (after,) = [o for o in staff.json("obligations", LINDE) if o["kind"] == "annual_conversation"]
    assert (after["key"], after["planned_on"], after["due_on"]) == (annual["key"], "2025-01-08", annual["due_on"])
    logged = flat(staff("obligations", "--changes", annual["key"]).stdout)
    assert ("2024-06-03 10:00 rescheduled: verplaatst naar woensdag 8 januari 2025; praktijkhouder op vakantie "
            "(user:a.jansen)") in logged
    again = staff("reschedule", LINDE, "--kind", "annual", "--to", "2025-01-08", "--reason", "nogmaals",
                  "--now", "2024-06-04T10:00")
    assert flat(again.stdout) == f"kwaliteitsjaargesprek van {LINDE} staat al op 2025-01-08; niets gewijzigd"


def test_a_small_practices_figure_is_shown_as_too_few_patients_to_judge_not_as_a_bare_percentage(
        staff: Staff) -> None:
    staff.set_up_care_group()
    staff("import-indicators", write("scores.csv", f"{SCORE_HEADER}\n{LINDE},dm2,hba1c_measured,2024-03-31,60,100\n"
                                                   f"{EIK},dm2,hba1c_measured,2024-03-31,5,6\n"), "--now", "2024-04-05")
    small = "te weinig patiënten om te beoordelen: minder dan 10"
    (eik,) = staff.json("indicators", EIK)["indicators"]
    assert (eik["numerator"], eik["denominator"], eik["small_numbers"], eik["judged"], eik["min_denominator"]) == (
        5, 6, True, False, 10)
    (linde,) = staff.json("indicators", LINDE)["indicators"]
    assert (linde["small_numbers"], linde["judged"]) == (False, True)
    shown = flat(staff("indicators", EIK).stdout)
    assert "5/6 †" in shown and f"† dm2/hba1c_measured: 83,3% (5/6, {small})" in shown
    assert small not in flat(staff("indicators", LINDE).stdout)
    staff("chart", EIK, "--out", "eik.svg")
    assert small in Path("eik.svg").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- a GP group's mirror meeting


def test_an_officer_arranges_a_gp_groups_mirror_meeting_at_the_command_line(staff: Staff) -> None:
    staff("init")
    registry = REGISTRY.replace("gp_groups: [{code: HAGRO-WEST, name: Hagro West}]",
                                "gp_groups: [{code: HAGRO-WEST, name: Hagro West, anonymise_mirror: true, "
                                "ekc: {name: R. Visser, email: ekc@hagrowest.example}}]")
    staff("load-registry", write("registry.yaml", registry))
    staff("import-indicators", write("scores.csv", SCORES_Q1), "--now", "2024-04-05")
    before = staff.database()
    refused = staff.refused("mirror-meeting", "request", "HAGRO-NOORD", "--on", "2024-05-06",
                            "--now", "2024-05-06T10:00")
    assert "huisartsengroep 'HAGRO-NOORD' is niet bekend" in refused and "HAGRO-WEST" in refused
    assert staff.database() == before
    asked = staff("mirror-meeting", "request", "HAGRO-WEST", "--on", "2024-05-06", "--by", "C. Bakker",
                  "--now", "2024-05-06T10:00", "--actor", "user:a.jansen")
    key = asked.stdout.split()[-1]
    assert "gepland op 2024-06-25" in flat(asked.stdout)
    pack = staff.json("mirror-meeting", "pack", "HAGRO-WEST", "--on", "2024-05-06")
    assert isinstance(pack, dict) and pack["anonymised"] is True
    hba1c = next(i for i in pack["indicators"] if i["indicator"] == "hba1c_measured")
    assert [(p["label"], p["score"]) for p in hba1c["practices"]] == [("Praktijk A", 60.0), ("Praktijk B", 95.0)]
    staff("run", "--now", "2024-05-28T06:00", "--only", "sweep-due")  # four weeks before 25 June
    invited = [m for m in staff.json("outbox", "--json") if m["kind"] == "mirror_meeting_invitation"]
    assert sorted(m["recipient_name"] for m in invited) == ["C. Bakker"]  # the group's only GP, POH or manager
    staff("mirror-meeting", "held", key, "--on", "2024-06-25", "--attendee", "gp_principal=C. Bakker",
          "--accreditation", "requested", "--now", "2024-06-26T10:00")
    staff("mirror-meeting", "accreditation", key, "--status", "granted", "--on", "2024-07-02",
          "--now", "2024-07-02T10:00")
    (listed,) = staff.json("mirror-meeting", "HAGRO-WEST", "--json")  # the listing, as the issue writes it
    assert {"id", "gp_group", "status", "requested_on", "planned_on", "held_on", "by", "attendees", "accreditation",
            "ekc"} <= set(listed)
    assert (listed["id"], listed["status"], listed["held_on"], listed["accreditation"], listed["ekc"]) == (
        key, "held", "2024-06-25", "granted", "R. Visser")
    kinds = {m["kind"] for m in staff.json("outbox", "--json")}
    assert {"mirror_meeting_invitation", "mirror_accreditation_request"} <= kinds


# --------------------------------------------------------------------------- meetings that happen


def test_an_officer_keeps_the_poh_meetings_agenda_moves_one_and_records_who_came(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    staff("run", "--now", "2024-01-08T06:15", "--only", "plan-meetings")
    (first, *_) = [m for m in staff.json("meeting", "--year", "2024", "--json") if m["kind"] == "poh_meeting"]
    key = first["key"]
    staff("meeting", "agenda", key, "--topic", "Nieuwe NHG-standaard astma", "--now", "2024-01-09T10:00")
    staff("meeting", "move", key, "--to", "2024-02-20", "--reason", "zaal bezet", "--now", "2024-01-10T10:00")
    before = staff.database()
    refused = staff.refused("meeting", "held", key, "--on", "2024-02-20", "--attended", f"{LINDE}:Z. Onbekend",
                            "--now", "2024-02-21T10:00")
    assert "Z. Onbekend" in refused and staff.database() == before
    minutes = write("verslag-poh.txt", "Besproken: de nieuwe standaard, ervaringen met Kompas.\n")
    staff("meeting", "held", key, "--on", "2024-02-20", "--attended", f"{LINDE}:C. Bakker", "--minutes", minutes,
          "--now", "2024-02-21T10:00")
    shown = {m["key"]: m for m in staff.json("meeting", "--year", "2024", "--json")}
    assert (shown[key]["day"], shown[key]["status"], shown[key]["topics"], shown[key]["attended"]) == (
        "2024-02-20", "done", ["Nieuwe NHG-standaard astma"], 1)
    attendance = {(a["agb_code"], a["kind"]): a for a in staff.json("meeting", "attendance", "--year", "2024",
                                                                     "--json")}
    assert (attendance[(LINDE, "poh_meeting")]["held"], attendance[(LINDE, "poh_meeting")]["attended"]) == (1, 1)


def test_an_officer_sees_who_is_current_due_and_overdue_on_mandatory_training(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    staff("run", "--now", "2024-01-17T06:00", "--only", "sweep-due")  # plans the courses of the people it knows
    (bakker,) = [t for t in staff.json("training", LINDE, "--json", "--on", "2024-01-20")
                 if t["person"] == "C. Bakker"]
    assert (bakker["course"], bakker["role"], bakker["status"], bakker["due_on"]) == (
        "langerhans", "gp_principal", "current", "2024-07-17")
    assert staff.json("training", "--json", "--on", "2024-06-01")[0]["status"] == "due"
    overdue = staff.json("training", "--overdue", "--json", "--on", "2024-08-01")
    assert [(t["agb_code"], t["person"]) for t in overdue] == [(LINDE, "C. Bakker")]
    assert "over tijd" in flat(staff("training", "--on", "2024-08-01").stdout)


def test_a_care_group_imports_its_course_catalogue_and_its_practice_managers_are_followed_too(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    assert staff.json("courses", "--json")["shipped"] is True
    catalogue = write("scholingen.csv", "code,name,kind,roles,every_months\n"
                                        "langerhans,Langerhans,mandatory,gp_principal;practice_manager,24\n"
                                        "start_poh,Startscholing POH,start,poh_chronic,\n")
    assert "2 scholing(en), waarvan 1 verplicht" in flat(staff("import-courses", catalogue,
                                                               "--now", "2024-01-10T09:00").stdout)
    shown = staff.json("courses", "--json")
    assert shown["shipped"] is False and [c["code"] for c in shown["courses"]] == ["langerhans", "start_poh"]
    assert "startscholing" in flat(staff("courses").stdout)
    before = staff.database()
    refused = staff.refused("import-courses", write("fout.csv", "code,name,kind,roles,every_months\n"
                                                                 "caspir,Caspir,mandatory,gp;kapper,0\n"),
                            "--now", "2024-01-10T09:00")
    assert "rij 2, kolom roles" in refused and "rij 2, kolom every_months" in refused
    assert staff.database() == before


def test_status_and_the_practices_view_show_each_part_around_the_cycle_in_one_line(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    staff("publish-cards", "2024.1", "--on", "2024-01-08", "--now", "2024-01-08T10:00")
    staff("cards-current", LINDE, "--version", "2024.1", "--on", "2024-01-10", "--now", "2024-01-10T10:00")
    staff("run", "--now", "2024-01-17T06:00", "--only", "sweep-due")
    (linde,) = [line for line in staff.json("status", "--json") if line["agb_code"] == LINDE]
    around = linde["around_the_cycle"]
    assert set(around) == {"meetings", "training", "cards", "neighbourhood", "quality_system"}
    assert around["cards"] == "actueel (versie 2024.1, sinds 2024-01-10)"
    assert around["training"] is not None and around["quality_system"] is None
    view = staff.json("indicators", LINDE, "--json")
    assert view["around_the_cycle"] == around
    assert "kwaliteitsmap: actueel (versie 2024.1" in flat(staff("indicators", LINDE).stdout)
    assert "Rond de cyclus" in flat(staff("status").stdout)


def test_an_officer_prints_a_practices_pack_the_boards_report_and_an_indicator_table(staff: Staff) -> None:
    from tests.unit.test_documents import pdf_text

    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    staff("run", "--now", "2024-01-17T06:00", "--only", "sweep-due")
    assert "gesprekspakket geschreven" in flat(staff("pack", LINDE, "--out", "linde.pdf",
                                                     "--now", "2024-02-01T10:00").stdout)
    assert "Gesprekspakket" in pdf_text(Path("linde.pdf").read_bytes())
    staff("board-report", "--out", "bestuur.pdf", "--period", "2023K4", "--now", "2024-02-01T10:00")
    assert "periode 1 oktober 2023 tot en met 31 december 2023" in pdf_text(Path("bestuur.pdf").read_bytes())
    staff("indicator-table", "--care-group", "--out", "zorggroep.xlsx", "--now", "2024-02-01T10:00")
    assert Path("zorggroep.xlsx").read_bytes()[:2] == b"PK"
    assert "2024K5" in staff.refused("board-report", "--out", "x.pdf", "--period", "2024K5",
                                     "--now", "2024-02-01T10:00")
    assert "nog niet afgesloten" in staff.refused("board-report", "--out", "x.pdf", "--period", "2024K1",
                                                  "--now", "2024-02-01T10:00")
    assert not Path("x.pdf").exists()
