"""The trajectory state machine: every allowed transition, every refused one, the guards,
the board notification on entering the policy, replay, and the diagram in the README."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.clock import AMSTERDAM
from domain.conversations import Goal, ImprovementPlan
from domain.indicators import IndicatorFigures
from domain.policy import Policy
from domain.registry import Programme
from domain.trajectory import TrajectoryState, TrajectoryView, Trigger
from statemachines.trajectory import (
    MACHINE,
    GuardContext,
    GuardRejectedError,
    InvalidTransitionError,
    ReplayMismatchError,
    TrajectoryError,
    fire,
    mermaid,
    replay,
)
from tests.unit.practice_figures import AGB, HBA1C, HBA1C_MEASURED, figures, score

S, T = TrajectoryState, Trigger
KEY = HBA1C
AT = datetime(2025, 6, 2, 9, 0, tzinfo=AMSTERDAM)
ENROLLED = {Programme.DM2: date(2020, 1, 1)}
CATALOGUE = [HBA1C_MEASURED]

# The specification, written out by hand: (state, trigger) -> next state. Everything else is refused.
EXPECTED: dict[tuple[TrajectoryState, Trigger], TrajectoryState] = {
    (S.START, T.HOLD_START_CONVERSATION): S.ANNUAL_CYCLE,
    (S.LEFT, T.HOLD_START_CONVERSATION): S.ANNUAL_CYCLE,
    (S.START, T.LEAVE): S.LEFT,
    (S.ANNUAL_CYCLE, T.HOLD_ANNUAL_CONVERSATION): S.ANNUAL_CYCLE,
    (S.ANNUAL_CYCLE, T.FLAG_DEVIATION): S.EXTRA_CONVERSATION,
    (S.ANNUAL_CYCLE, T.LEAVE): S.LEFT,
    (S.EXTRA_CONVERSATION, T.HOLD_ANNUAL_CONVERSATION): S.EXTRA_CONVERSATION,
    (S.EXTRA_CONVERSATION, T.AGREE_IMPROVEMENT_PLAN): S.IMPROVEMENT_PLAN,
    (S.EXTRA_CONVERSATION, T.RECOVER): S.ANNUAL_CYCLE,
    (S.EXTRA_CONVERSATION, T.LEAVE): S.LEFT,
    (S.IMPROVEMENT_PLAN, T.HOLD_ANNUAL_CONVERSATION): S.IMPROVEMENT_PLAN,
    (S.IMPROVEMENT_PLAN, T.ESCALATE): S.UNDERPERFORMER_POLICY,
    (S.IMPROVEMENT_PLAN, T.RECOVER): S.ANNUAL_CYCLE,
    (S.IMPROVEMENT_PLAN, T.LEAVE): S.LEFT,
    (S.UNDERPERFORMER_POLICY, T.HOLD_ANNUAL_CONVERSATION): S.UNDERPERFORMER_POLICY,
    (S.UNDERPERFORMER_POLICY, T.REPORT_PROGRESS): S.UNDERPERFORMER_POLICY,
    (S.UNDERPERFORMER_POLICY, T.RECOVER): S.ANNUAL_CYCLE,
    (S.UNDERPERFORMER_POLICY, T.LEAVE): S.LEFT,
}
BOARD_EFFECTS = {
    (S.IMPROVEMENT_PLAN, T.ESCALATE): ["board_escalation"],
    (S.UNDERPERFORMER_POLICY, T.REPORT_PROGRESS): ["board_progress"],
    (S.UNDERPERFORMER_POLICY, T.RECOVER): ["board_recovery"],
    (S.UNDERPERFORMER_POLICY, T.LEAVE): ["board_left"],
}


def figures_with(numerator: int, end: date = date(2025, 3, 31), baseline: int | None = 60) -> IndicatorFigures:
    scores = [score("hba1c_measured", end, numerator)]
    if baseline is not None:
        scores.append(score("hba1c_measured", date(2024, 3, 31), baseline))
    return figures(CATALOGUE, *scores, target=90, averages={2025: 90})


def view_in(state: TrajectoryState) -> TrajectoryView:
    return TrajectoryView(agb_code=AGB, state=state, version=3, since=datetime(2024, 1, 1, tzinfo=AMSTERDAM),
                          flagged=(KEY,), plan_agreed_on=date(2024, 4, 15))


def passing_ctx(state: TrajectoryState, trigger: Trigger) -> GuardContext:
    """A context under which the trigger's guard holds."""
    view = view_in(state)
    plan = ImprovementPlan(goals=(Goal(programme=Programme.DM2, indicator="hba1c_measured", target=85,
                                       by=date(2025, 4, 1)),))
    numerator = 95 if trigger is T.RECOVER else 61
    return GuardContext(on=AT.date(), policy=Policy(), figures=figures_with(numerator), enrolments=ENROLLED,
                        plan=plan, view=view)


ALL = [(s, t) for s in TrajectoryState for t in Trigger]


@pytest.mark.parametrize(("state", "trigger"), [pair for pair in ALL if pair in EXPECTED])
def test_every_allowed_transition_lands_where_the_specification_says(state: TrajectoryState, trigger: Trigger) -> None:
    fired = fire(view_in(state), trigger, at=AT, actor="officer:a.jansen", ctx=passing_ctx(state, trigger))
    assert fired.event.from_state is state
    assert fired.event.to_state is EXPECTED[(state, trigger)]
    assert fired.event.seq == 4 and fired.event.actor == "officer:a.jansen" and fired.event.at == AT
    assert [e.kind for e in fired.effects] == BOARD_EFFECTS.get((state, trigger), [])


@pytest.mark.parametrize(("state", "trigger"), [pair for pair in ALL if pair not in EXPECTED])
def test_every_other_trigger_is_refused_with_a_clear_error(state: TrajectoryState, trigger: Trigger) -> None:
    with pytest.raises(InvalidTransitionError, match=f"'{trigger.value}' kan niet in toestand '{state.value}'"):
        fire(view_in(state), trigger, at=AT, actor="engine", ctx=passing_ctx(state, trigger))


def test_machine_allows_exactly_the_specified_transitions() -> None:
    built = {}
    for name, event in MACHINE.events.items():
        for source, transitions in event.transitions.items():
            for t in transitions:
                built[(S(source), T(name))] = S(t.dest or source)
    assert built == EXPECTED


def test_every_state_is_reachable_from_start() -> None:
    seen, queue = {S.START}, deque([S.START])
    while queue:
        state = queue.popleft()
        for (source, _), dest in EXPECTED.items():
            if source is state and dest not in seen:
                seen.add(dest)
                queue.append(dest)
    assert seen == set(TrajectoryState)


def test_flag_deviation_is_refused_when_indicators_are_within_reach_of_target_and_says_why() -> None:
    ctx = GuardContext(on=AT.date(), policy=Policy(), figures=figures_with(80), enrolments=ENROLLED)
    with pytest.raises(GuardRejectedError) as refused:
        fire(view_in(S.ANNUAL_CYCLE), T.FLAG_DEVIATION, at=AT, actor="engine", ctx=ctx)
    assert refused.value.state == "annual_cycle"


def test_flag_deviation_event_carries_the_rule_reasons() -> None:
    ctx = GuardContext(on=AT.date(), policy=Policy(), figures=figures_with(61), enrolments=ENROLLED)
    fired = fire(view_in(S.ANNUAL_CYCLE), T.FLAG_DEVIATION, at=AT, actor="engine", ctx=ctx)
    (reason,) = fired.event.reasons
    assert reason["indicator"] == "hba1c_measured" and reason["score"] == 61.0 and reason["threshold"] == 72.0
    assert fired.event.to_state is S.EXTRA_CONVERSATION


def test_agreeing_a_plan_without_goals_is_refused() -> None:
    with pytest.raises(GuardRejectedError, match="verbeterplan"):
        fire(view_in(S.EXTRA_CONVERSATION), T.AGREE_IMPROVEMENT_PLAN, at=AT, actor="x",
             ctx=GuardContext(on=AT.date(), policy=Policy()))


def test_escalation_is_refused_when_the_practice_improved_enough() -> None:
    ctx = GuardContext(on=AT.date(), policy=Policy(), figures=figures_with(66, baseline=60), enrolments=ENROLLED,
                       view=view_in(S.IMPROVEMENT_PLAN))
    with pytest.raises(GuardRejectedError, match="verbeterde 6,0 punt"):
        fire(view_in(S.IMPROVEMENT_PLAN), T.ESCALATE, at=AT, actor="engine", ctx=ctx)


def test_recovery_is_refused_while_a_flagged_indicator_is_below_target() -> None:
    ctx = GuardContext(on=AT.date(), policy=Policy(), figures=figures_with(89), enrolments=ENROLLED,
                       view=view_in(S.IMPROVEMENT_PLAN))
    with pytest.raises(GuardRejectedError, match="nog onder de streefwaarde"):
        fire(view_in(S.IMPROVEMENT_PLAN), T.RECOVER, at=AT, actor="engine", ctx=ctx)


def test_a_guarded_trigger_without_context_is_an_error_not_a_no_op() -> None:
    with pytest.raises(TypeError):
        fire(view_in(S.ANNUAL_CYCLE), T.FLAG_DEVIATION, at=AT, actor="engine")


def test_time_cannot_run_backwards_for_a_practice() -> None:
    view = replace(view_in(S.ANNUAL_CYCLE), last_event_at=AT)
    with pytest.raises(TrajectoryError, match="ligt voor de laatste gebeurtenis"):
        fire(view, T.HOLD_ANNUAL_CONVERSATION, at=datetime(2025, 1, 1, tzinfo=AMSTERDAM), actor="x")


def test_replay_rebuilds_the_view_and_rejects_a_history_the_machine_forbids() -> None:
    view = TrajectoryView(agb_code=AGB)
    events = []
    steps = [(T.HOLD_START_CONVERSATION, None), (T.FLAG_DEVIATION, passing_ctx(S.ANNUAL_CYCLE, T.FLAG_DEVIATION))]
    for trigger, ctx in steps:
        fired = fire(view, trigger, at=AT, actor="x", ctx=ctx)
        events.append(fired.event)
        view = view.apply(fired.event)
    assert replay(AGB, events) == view
    assert view.flagged == (KEY,)
    forged = replace(events[1], trigger=T.ESCALATE)
    with pytest.raises(ReplayMismatchError, match="staat de toestandsmachine niet toe"):
        replay(AGB, [events[0], forged])


def test_readme_diagram_is_the_machine() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", readme, flags=re.S)
    assert blocks, "README.md has no mermaid diagram"
    assert blocks[0] == mermaid(), "README diagram differs from the machine: paste `qualitycycle diagram` into it"


def test_every_board_effect_of_the_machine_has_a_message_subject() -> None:
    from domain.vocabulary import SUBJECTS_NL

    kinds = {kind for effects in BOARD_EFFECTS.values() for kind in effects}
    assert kinds <= set(SUBJECTS_NL), kinds - set(SUBJECTS_NL)


def test_replay_checks_that_a_step_before_an_earlier_recorded_one_says_it_was_recorded_late() -> None:
    from domain.trajectory import TrajectoryTransitioned

    def step(seq: int, trigger: Trigger, at: datetime, late: bool | None = None) -> TrajectoryTransitioned:
        states = {Trigger.HOLD_START_CONVERSATION: (TrajectoryState.START, TrajectoryState.ANNUAL_CYCLE),
                  Trigger.HOLD_ANNUAL_CONVERSATION: (TrajectoryState.ANNUAL_CYCLE, TrajectoryState.ANNUAL_CYCLE)}
        source, target = states[trigger]
        details = {"held_on": at.date().isoformat(), **({"late": late} if late is not None else {})}
        return TrajectoryTransitioned("01234567", seq, at, trigger, source, target, "officer", details=details)

    start = step(1, Trigger.HOLD_START_CONVERSATION, datetime(2024, 3, 1, 12, tzinfo=AMSTERDAM))
    earlier = datetime(2024, 2, 1, 12, tzinfo=AMSTERDAM)
    assert replay("01234567", [start, step(2, Trigger.HOLD_ANNUAL_CONVERSATION, earlier, late=True)]).version == 2
    with pytest.raises(ReplayMismatchError, match="niet als laat vastgelegd gemarkeerd"):
        replay("01234567", [start, step(2, Trigger.HOLD_ANNUAL_CONVERSATION, earlier)])
    with pytest.raises(ReplayMismatchError, match="als laat vastgelegd gemarkeerd, maar"):
        replay("01234567", [start, step(2, Trigger.HOLD_ANNUAL_CONVERSATION,
                                        datetime(2024, 4, 1, 12, tzinfo=AMSTERDAM), late=True)])


def test_the_engine_tries_per_state_the_rules_that_can_move_it_and_reports_progress_only_when_due() -> None:
    from domain.calendar import WorkingCalendar
    from domain.policy import Policy
    from statemachines.trajectory import triggers_to_try

    policy, calendar, on = Policy(), WorkingCalendar(), date(2025, 8, 11)

    def tried(state: TrajectoryState, **kw: Any) -> list[str]:
        return [t.value for t in triggers_to_try(TrajectoryView(agb_code=AGB, state=state, **kw), on, policy,
                                                 calendar)]

    assert tried(TrajectoryState.START) == [] and tried(TrajectoryState.LEFT) == []
    assert tried(TrajectoryState.ANNUAL_CYCLE) == ["flag_deviation"]
    assert tried(TrajectoryState.EXTRA_CONVERSATION) == ["recover"]
    assert tried(TrajectoryState.IMPROVEMENT_PLAN) == ["recover", "escalate"]
    months_ago = datetime(2025, 8, 11, 7, tzinfo=AMSTERDAM) - timedelta(days=31 * policy.progress_report_every_months)
    assert tried(TrajectoryState.UNDERPERFORMER_POLICY, last_progress_report_at=months_ago) == [
        "recover", "report_progress"]
    last_week = datetime(2025, 8, 4, 7, tzinfo=AMSTERDAM)
    assert tried(TrajectoryState.UNDERPERFORMER_POLICY, last_progress_report_at=last_week) == ["recover"]
