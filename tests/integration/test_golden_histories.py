"""Golden histories: a care group's trajectories, kept as files, replayed through today's machine.

If the machine changes so that a stored history no longer replays, or a scenario's history changes,
these fail: a changed rule must be a conscious decision (regenerate with ``QC_UPDATE_GOLDEN=1``, review
the diff), not an accident. Like Temporal's replay tests of workflow histories.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from domain.commands import LeaveProgramme
from domain.messages import OutboxMessage
from domain.trajectory import TrajectoryState, TrajectoryTransitioned, Trigger
from flows.services import conversations, queries
from flows.services.context import Services
from flows.testing.scenario import Scenario
from statemachines.trajectory import replay

GOLDEN = Path(__file__).parent / "golden"
LINDE, EIK, ANKER = "01234567", "07654321", "01112223"
DESCRIPTION = f"""
care_group: Cohaesie
board: [B. de Vries <bestuur@cohaesie.example>]
practices:
  "{LINDE}": {{name: De Linde, programmes: {{dm2: 2023-01-01}}}}
  "{EIK}": {{name: De Eik, programmes: {{dm2: 2023-01-01}}}}
  "{ANKER}": {{name: Het Anker, programmes: {{dm2: 2023-01-01, copd: 2023-01-01}}}}
"""
GOOD = {"dm2/hba1c_measured": 95, "dm2/bp_measured": 95, "dm2/foot_exam": 85}


def three_years(services: Services) -> Scenario:
    """De Linde escalates and later recovers; De Eik dips and recovers quickly; Het Anker leaves."""
    sc = Scenario.build(services, DESCRIPTION)
    for agb, day in ((LINDE, "2024-01-15"), (EIK, "2024-01-16"), (ANKER, "2024-01-17")):
        sc.conversation(agb, "start", day)
    linde = [60, 61, 62, 63, 64, 66, 80, 91, 92]
    eik = [70, 91, 93, 94, 95, 95, 95, 95, 95]
    quarters = ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31", "2025-03-31", "2025-06-30",
                "2025-09-30", "2025-12-31", "2026-03-31"]
    for i, quarter in enumerate(quarters):
        sc.scores(quarter, {LINDE: {**GOOD, "dm2/hba1c_measured": linde[i]},
                            EIK: {**GOOD, "dm2/hba1c_measured": eik[i]}, ANKER: GOOD})
    sc.run_weekly("2024-04-22")
    sc.conversation(LINDE, "extra", "2024-04-29", plan={"dm2/hba1c_measured": 85})
    sc.run_weekly("2024-11-04")
    sc.conversation(LINDE, "annual", "2024-11-12")
    sc.conversation(ANKER, "annual", "2024-11-13")
    sc.run_weekly("2025-03-31")
    conversations.leave(services, LeaveProgramme(agb_code=ANKER, on=sc.clock.now().date(),
                                                 reason="praktijk gestopt"),
                 sc.clock.now(), "officer:a.jansen")
    sc.run_weekly("2026-06-29")
    return sc


def _portable(event: TrajectoryTransitioned) -> dict[str, Any]:
    data = queries.event_as_json(event)
    data["details"] = {k: v for k, v in data["details"].items() if k != "conversation_id"}
    return data


def _from_portable(agb: str, data: dict[str, Any]) -> TrajectoryTransitioned:
    return TrajectoryTransitioned(
        agb_code=agb, seq=data["seq"], at=datetime.fromisoformat(data["at"]), trigger=Trigger(data["trigger"]),
        from_state=TrajectoryState(data["from_state"]), to_state=TrajectoryState(data["to_state"]),
        actor=data["actor"], reasons=tuple(data["reasons"]), details=data["details"],
    )


def test_three_years_of_a_care_group_produce_the_golden_histories(sqlite_services: Services) -> None:
    sc = three_years(sqlite_services)
    produced = {agb: [_portable(e) for e in sc.history(agb)] for agb in (LINDE, EIK, ANKER)}
    path = GOLDEN / "three_years.json"
    if os.environ.get("QC_UPDATE_GOLDEN") or not path.exists():
        path.write_text(json.dumps(produced, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        if not os.environ.get("QC_UPDATE_GOLDEN"):
            pytest.fail(f"{path} was missing and has been written; review and commit it")
    golden = json.loads(path.read_text(encoding="utf-8"))
    for agb in golden:
        assert produced[agb] == golden[agb], f"history of {agb} differs from {path}"
    assert [e["trigger"] for e in golden[LINDE]].count("escalate") == 1
    assert golden[LINDE][-1]["trigger"] == "recover"
    assert golden[ANKER][-1]["to_state"] == "left"


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.glob("*.json")))
def test_every_golden_history_replays_through_todays_machine(name: str) -> None:
    histories = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    for agb, events in histories.items():
        view = replay(agb, [_from_portable(agb, e) for e in events])
        assert view.state.value == events[-1]["to_state"]
        assert view.version == len(events)


def test_the_board_reads_each_indicator_by_name_against_target_and_national_average(
        sqlite_services: Services) -> None:
    """The mails built from the real escalation and progress events of three years: every indicator by its
    Dutch name; progress against the target *and* the national average (with its year, after the average, not
    after the target), and the change since the plan."""
    from notifications.rendering import render
    from storage import repository as repo

    three_years(sqlite_services)
    with sqlite_services.session() as s:
        messages = {m.kind: m for m in repo.outbox(s) if m.agb_code == LINDE}

    def text(kind: str) -> str:
        row = messages[kind]
        rendered = render(OutboxMessage(
            key=row.key, kind=row.kind, agb_code=row.agb_code, recipient_name=row.recipient_name,
            recipient_email=row.recipient_email, recipient_role=row.recipient_role, subject=row.subject,
            payload=dict(row.payload)), mail_from="kwaliteit@cohaesie.example", now=row.created_at)
        part = rendered.get_body(preferencelist=("plain",))
        assert part is not None
        return " ".join(str(part.get_content()).split())

    escalation, progress = text("board_escalation"), text("board_progress")
    name = "HbA1c bepaald in afgelopen 12 maanden (dm2/hba1c_measured)"
    assert f"- {name}: " in escalation
    line = progress[progress.index(f"- {name}: "):]
    assert "; streefwaarde 90,0%; landelijk gemiddelde 92,0% (2024)" in line  # not "streefwaarde 90,0% (2024)"
    assert "; sinds het verbeterplan +" in line and " procentpunt (was 60,0%)" in line
