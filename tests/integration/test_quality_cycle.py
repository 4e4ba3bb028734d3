"""The quality cycle of a care group, through the service functions, over SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from domain.clock import AMSTERDAM
from domain.commands import LeaveProgramme
from domain.conversations import Attendee
from domain.registry import Person, Programme, Role
from domain.trajectory import TrajectoryState
from flows.services import conversations, imports, queries
from flows.services.context import Services
from flows.testing.scenario import Scenario
from storage import repository as repo
from storage.tables import OutboxRow, TrajectoryRow

LINDE, EIK = "01234567", "07654321"
DESCRIPTION = f"""
care_group: Cohaesie
board: [B. de Vries <bestuur@cohaesie.example>, C. Smit <c.smit@cohaesie.example>]
officers: [A. Jansen <a.jansen@cohaesie.example>]
practices:
  "{LINDE}": {{name: Huisartsenpraktijk De Linde, gp_group: HAGRO-WEST, programmes: {{dm2: 2023-01-01}}}}
  "{EIK}": {{name: Praktijk De Eik, gp_group: HAGRO-WEST, programmes: {{dm2: 2023-01-01}}}}
"""
GOOD = {"dm2/hba1c_measured": 95, "dm2/bp_measured": 95, "dm2/ldl_measured": 90, "dm2/egfr_measured": 90,
        "dm2/foot_exam": 85}
QUARTERS = ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31", "2025-03-31", "2025-06-30",
            "2025-09-30", "2025-12-31"]


def with_hba1c(value: float) -> dict[str, float]:
    return {**GOOD, "dm2/hba1c_measured": value}


def started(services: Services) -> Scenario:
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sc.conversation(LINDE, "start", "2024-01-15")
    sc.conversation(EIK, "start", "2024-01-16")
    return sc


def flagged_and_planned(services: Services, hba1c: list[float]) -> Scenario:
    """De Linde's HbA1c checks fall to 60%; an extra conversation agrees a plan on 2024-04-29."""
    sc = started(services)
    sc.scores("2024-03-31", {LINDE: with_hba1c(60), EIK: GOOD})
    sc.run("2024-04-08")
    sc.conversation(LINDE, "extra", "2024-04-29", plan={"dm2/hba1c_measured": 85})
    for quarter, value in zip(QUARTERS[1:], hba1c, strict=False):
        sc.scores(quarter, {LINDE: with_hba1c(value), EIK: GOOD})
    return sc


def messages(services: Services, **where: object) -> list[OutboxRow]:
    return [m for m in queries.outbox_messages(services) if all(getattr(m, k) == v for k, v in where.items())]


def test_practice_far_below_target_is_flagged_for_an_extra_conversation_with_reasons(services: Services) -> None:
    sc = started(services)
    sc.scores("2024-03-31", {LINDE: with_hba1c(60), EIK: with_hba1c(73)})
    report = sc.run("2024-04-08")
    assert sc.state(LINDE) is TrajectoryState.EXTRA_CONVERSATION
    assert sc.state(EIK) is TrajectoryState.ANNUAL_CYCLE  # 73% is within 20% of the 90% target
    (taken,) = report.transitions
    assert taken.agb_code == LINDE and "dm2/hba1c_measured: 60,0%" in taken.summary
    (line,) = [s for s in queries.status(services) if s.agb_code == LINDE]
    assert line.reasons[0]["indicator"] == "hba1c_measured" and line.reasons[0]["threshold"] == 72.0
    assert line.next_due is not None and line.next_due.what == "extra_conversation"


def test_practice_still_25_percent_behind_after_a_year_is_escalated_once(services: Services) -> None:
    # national average 92 (sample 2024): behind means below 73.6; De Linde stays around 62-64
    sc = flagged_and_planned(services, [61, 62, 63, 64, 64, 63, 64])
    sc.run_weekly("2025-06-30")
    assert sc.state(LINDE) is TrajectoryState.UNDERPERFORMER_POLICY
    assert sc.triggers(LINDE).count("escalate") == 1
    escalation = next(e for e in sc.history(LINDE) if e.trigger.value == "escalate")
    assert escalation.at.date() >= date(2025, 4, 29)  # one year after the plan, not before
    (reason,) = escalation.reasons
    assert reason["reference"] == "national_average" and reason["reference_value"] == 92.0
    assert reason["baseline_score"] == 60.0 and reason["improvement_points"] == 4.0
    told = messages(services, kind="board_escalation")
    assert sorted(m.recipient_email for m in told) == ["bestuur@cohaesie.example", "c.smit@cohaesie.example"]
    assert all(m.status == "pending" and m.agb_code == LINDE for m in told)
    assert "beleid minder presterende praktijken" in told[0].subject
    assert told[0].payload["reasons"][0]["indicator"] == "hba1c_measured"
    assert sc.state(EIK) is TrajectoryState.ANNUAL_CYCLE


def test_practice_that_improved_five_points_is_not_escalated(services: Services) -> None:
    sc = flagged_and_planned(services, [62, 63, 64, 65, 65, 66, 66])
    sc.run_weekly("2025-09-01")
    assert sc.state(LINDE) is TrajectoryState.IMPROVEMENT_PLAN
    assert messages(services, kind="board_escalation") == []


def test_board_hears_progress_every_quarter_and_of_the_recovery(services: Services) -> None:
    sc = flagged_and_planned(services, [61, 62, 63, 64, 64, 70, 91])
    sc.run_weekly("2026-03-02")
    triggers = sc.triggers(LINDE)
    assert triggers[-1] == "recover" and sc.state(LINDE) is TrajectoryState.ANNUAL_CYCLE
    kinds = [m.kind for m in messages(services, recipient_email="bestuur@cohaesie.example")]
    assert kinds[0] == "board_escalation" and kinds[-1] == "board_recovery"
    assert kinds.count("board_progress") == triggers.count("report_progress") >= 1


def test_running_the_engine_twice_for_the_same_moment_changes_nothing(services: Services) -> None:
    sc = flagged_and_planned(services, [61, 62, 63, 64, 64, 63, 64])
    sc.run_weekly("2025-04-28")
    first = sc.run("2025-05-05")
    assert [t.trigger.value for t in first.transitions] == ["escalate"]
    events, outbox = len(queries.all_events(services)), len(messages(services))
    second = sc.run("2025-05-05")
    assert second.transitions == [] and second.messages == 0 and second.already_ran
    assert (len(queries.all_events(services)), len(messages(services))) == (events, outbox)


def test_conversation_missing_required_attendees_is_stored_and_flagged_not_refused(services: Services) -> None:
    sc = started(services)
    only_gp = (Attendee(role=Role.GP_PRINCIPAL, name="Dr. Bakker"), Attendee(role=Role.OFFICER, name="A. Jansen"))
    recorded = sc.conversation(LINDE, "annual", "2024-11-12", attendees=only_gp)
    assert not recorded.already_recorded
    assert "geen praktijkondersteuner chronische zorg aanwezig" in recorded.attendance_gaps
    assert any("functionaris" in gap for gap in recorded.attendance_gaps)
    assert recorded.transition is not None and recorded.transition.details["attendance_gaps"]
    with Session(services.db) as s:
        (stored,) = [c for c in repo.conversations_of(s, LINDE) if c.kind == "annual"]
    assert stored.attendance_gaps == list(recorded.attendance_gaps)


def test_recording_the_same_conversation_twice_changes_nothing(services: Services) -> None:
    sc = started(services)
    again = sc.conversation(LINDE, "start", "2024-01-15")
    assert again.already_recorded and again.transition is None
    assert sc.triggers(LINDE) == ["hold_start_conversation"]


def test_start_conversation_for_a_later_programme_enrols_it_and_leaves_the_trajectory(services: Services) -> None:
    sc = started(services)
    recorded = sc.conversation(LINDE, "start", "2024-09-02", programme="copd")
    assert recorded.enrolled == "copd" and recorded.transition is None
    assert sc.state(LINDE) is TrajectoryState.ANNUAL_CYCLE
    assert queries.practice(services, LINDE).programmes[Programme.COPD] == date(2024, 9, 2)


def test_annual_conversation_before_any_start_conversation_is_kept_and_waits_for_the_start(
        services: Services) -> None:
    """A fact the trajectory cannot take yet is kept, never dropped, and shown to the officers; once the start
    conversation is in, the engine takes both in the order they happened."""
    sc = Scenario.build(services, DESCRIPTION)
    recorded = sc.conversation(LINDE, "annual", "2024-02-01")
    assert recorded.transition is None and recorded.waiting is not None and "'start'" in recorded.waiting
    assert queries.all_events(services) == []
    (line,) = [s for s in queries.status(services) if s.agb_code == LINDE]
    assert line.waiting_steps == (f"kwaliteitsjaargesprek van 2024-02-01: {recorded.waiting}",)

    sc.conversation(LINDE, "start", "2024-01-15")  # entered after it, held before it
    assert sc.triggers(LINDE) == ["hold_start_conversation", "hold_annual_conversation"]
    assert [e.at for e in sc.history(LINDE)] == [datetime(2024, 1, 15, 12, tzinfo=AMSTERDAM),
                                                  datetime(2024, 2, 1, 12, tzinfo=AMSTERDAM)]
    (line,) = [s for s in queries.status(services) if s.agb_code == LINDE]
    assert line.waiting_steps == ()


def test_annual_conversation_is_due_within_twelve_months_on_a_working_day(services: Services) -> None:
    sc = Scenario.build(services, DESCRIPTION)
    sc.conversation(LINDE, "start", "2024-12-27")
    (line,) = [s for s in queries.status(services) if s.agb_code == LINDE]
    # 2025-12-27 is a Saturday after Christmas: pulled back to Wednesday 24 December
    assert line.next_due is not None and line.next_due.what == "annual_conversation"
    assert line.next_due.on == date(2025, 12, 24)


def test_replay_rebuilds_every_practice_and_catches_a_tampered_projection(services: Services) -> None:
    sc = flagged_and_planned(services, [61, 62, 63, 64, 64, 63, 64])
    sc.run_weekly("2025-09-01")
    for agb in (LINDE, EIK):
        result = queries.replay_practice(services, agb)
        assert result.agrees, result.differences
        assert result.events == len(sc.history(agb))
    with services.db.begin() as conn:
        conn.execute(sa.update(TrajectoryRow).where(TrajectoryRow.agb_code == LINDE)  # type: ignore[arg-type]
                     .values(state="annual_cycle"))
    tampered = queries.replay_practice(services, LINDE)
    assert not tampered.agrees and "_row" in tampered.differences


def test_one_programmes_new_quarter_does_not_hide_anothers_deviation(services: Services) -> None:
    both = DESCRIPTION.replace("{dm2: 2023-01-01}}", "{dm2: 2023-01-01, copd: 2023-01-01}}", 1)
    assert both != DESCRIPTION
    sc = Scenario.build(services, both)
    sc.conversation(LINDE, "start", "2024-01-15")
    sc.scores("2024-03-31", {LINDE: {**GOOD, "copd/smoking_recorded": 30}})
    sc.scores("2024-06-30", {LINDE: GOOD})  # dm2's next quarter arrives, copd's does not yet
    sc.run("2024-08-05")
    assert sc.state(LINDE) is TrajectoryState.EXTRA_CONVERSATION
    (flag,) = [e for e in sc.history(LINDE) if e.trigger.value == "flag_deviation"]
    assert [(r["indicator"], r["period_end"]) for r in flag.reasons] == [("smoking_recorded", "2024-03-31")]


def test_a_practice_is_not_recovered_while_another_indicator_now_deviates(services: Services) -> None:
    sc = flagged_and_planned(services, [61, 62, 63, 64, 64, 63, 64])
    sc.run_weekly("2025-05-05")
    assert sc.state(LINDE) is TrajectoryState.UNDERPERFORMER_POLICY
    sc.scores("2025-06-30", {LINDE: {**GOOD, "dm2/hba1c_measured": 92, "dm2/bp_measured": 30}})
    sc.run("2025-08-04")
    assert sc.state(LINDE) is TrajectoryState.UNDERPERFORMER_POLICY  # hba1c is back, but bp is far below
    assert "recover" not in sc.triggers(LINDE)
    assert messages(services, kind="board_recovery") == []


def test_recording_a_conversation_again_with_a_plan_is_an_error_not_a_silent_drop(services: Services) -> None:
    sc = started(services)
    sc.scores("2024-03-31", {LINDE: with_hba1c(60), EIK: GOOD})
    sc.run("2024-04-08")
    sc.conversation(LINDE, "extra", "2024-04-29")  # held, but the plan is not written down yet
    with pytest.raises(conversations.ConversationConflictError, match="al vastgelegd"):
        sc.conversation(LINDE, "extra", "2024-04-29", plan={"dm2/hba1c_measured": 85})
    assert sc.state(LINDE) is TrajectoryState.EXTRA_CONVERSATION


def test_a_plan_dated_before_the_practice_was_flagged_is_kept_as_needing_attention(services: Services) -> None:
    sc = started(services)
    sc.scores("2024-03-31", {LINDE: with_hba1c(60), EIK: GOOD})
    sc.run("2024-04-08")
    recorded = sc.conversation(LINDE, "extra", "2024-03-20", plan={"dm2/hba1c_measured": 85})

    assert recorded.transition is None and recorded.waiting is not None
    assert "ligt voor de markering van de afwijking op 2024-04-08" in recorded.waiting
    assert sc.state(LINDE) is TrajectoryState.EXTRA_CONVERSATION  # not moved by it
    sc.run("2024-04-15")
    (line,) = [s for s in queries.status(services) if s.agb_code == LINDE]
    assert line.waiting_steps == (f"extra gesprek met verbeterplan van 2024-03-20: {recorded.waiting}",)


def test_a_late_entry_of_an_older_annual_conversation_does_not_move_the_due_date_back(services: Services) -> None:
    sc = started(services)
    sc.conversation(LINDE, "annual", "2024-11-04")
    sc.conversation(LINDE, "annual", "2024-02-01")  # entered late
    (line,) = [s for s in queries.status(services) if s.agb_code == LINDE]
    assert line.next_due is not None and line.next_due.on == date(2025, 11, 4)


def test_leaving_on_a_future_date_is_refused(services: Services) -> None:
    sc = started(services)
    with pytest.raises(conversations.ConversationInFutureError, match="toekomst"):
        conversations.leave(services, LeaveProgramme(agb_code=LINDE, on=date(2026, 1, 1), reason="stopt"),
                            sc.clock.now(), "officer")
    assert sc.state(LINDE) is TrajectoryState.ANNUAL_CYCLE


def test_a_practice_listed_twice_in_a_registry_is_saved_once_as_its_later_entry(services: Services) -> None:
    started(services)
    with Session(services.db) as s:
        registry = repo.load_registry(s)
    linde = next(p for p in registry.practices if p.agb_code == LINDE)
    renamed = linde.model_copy(update={"name": "De Linde (nieuw)", "people": (
        Person(name="C. Bakker", role=Role.GP_PRINCIPAL, email="c.bakker@delinde.example"),)})
    fresh = linde.model_copy(update={"agb_code": "01111111", "name": "De Esdoorn"})
    again = registry.model_copy(update={"practices": (linde, renamed, fresh, fresh)})
    assert imports.load_registry(services, again)["new_practices"] == 1
    with Session(services.db) as s:
        practice = repo.get_practice(s, LINDE)
        assert practice is not None and practice.name == "De Linde (nieuw)"
        assert [p.name for p in practice.people] == ["C. Bakker"]
        assert repo.get_practice(s, "01111111") is not None
