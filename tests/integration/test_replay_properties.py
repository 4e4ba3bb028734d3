"""Replay equals the stored projection, over randomised histories.

Two levels. Pure: random trigger attempts with random indicator figures drive a trajectory
through the state machine; whatever happened, the events replay (and fold) to the same view,
are numbered without gaps, chain state to state, and tell the board of an escalation exactly
when a practice enters the underperformer policy. Services: random care-group histories
(scores, conversations, engine runs, leaving) on a real database; afterwards every practice's
stored trajectory is what its events replay to, and running the engine again for the last
moment changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, func, select

from domain.clock import AMSTERDAM
from domain.conversations import Goal, ImprovementPlan
from domain.indicators import (
    IndicatorDefinition,
    IndicatorFigures,
    IndicatorKind,
    IndicatorScore,
    NationalAverage,
    Target,
)
from domain.policy import LagMode, Policy
from domain.registry import Programme
from domain.trajectory import TrajectoryState, TrajectoryTransitioned, TrajectoryView, Trigger, fold
from flows.services import evaluation, queries
from flows.services.context import Services
from flows.services.conversations import ConversationConflictError
from flows.testing.scenario import SAMPLES, Scenario
from readers.files import parse_catalogue
from statemachines.trajectory import (
    Fired,
    GuardContext,
    GuardRejectedError,
    InvalidTransitionError,
    TrajectoryError,
    allowed_triggers,
    fire,
    replay,
)
from storage.tables import OutboxRow, TrajectoryEventRow

S, T = TrajectoryState, Trigger
AGB = "01234567"
BEGIN = datetime(2024, 1, 1, 9, 0, tzinfo=AMSTERDAM)

# --- pure level: the state machine and the fold, no database ------------------------------------

MAIN_PROCESS = ("hba1c_measured", "bp_measured", "ldl_measured", "egfr_measured", "foot_exam")
OUTCOME = "hba1c_below_53"  # not a main process indicator: the rules must not read it
YEARS = range(2023, 2028)
# Most attempts take a trigger the practice's state allows, weighted towards the way into the
# policy, so random histories get deep; the rest try any trigger at all, allowed or not.
LIKELY: dict[TrajectoryState, list[Trigger]] = {
    S.START: [T.HOLD_START_CONVERSATION] * 4 + [T.LEAVE],
    S.ANNUAL_CYCLE: [T.FLAG_DEVIATION] * 6 + [T.HOLD_ANNUAL_CONVERSATION, T.LEAVE],
    S.EXTRA_CONVERSATION: [T.AGREE_IMPROVEMENT_PLAN] * 6 + [T.RECOVER, T.HOLD_ANNUAL_CONVERSATION, T.LEAVE],
    S.IMPROVEMENT_PLAN: [T.ESCALATE] * 12 + [T.RECOVER, T.HOLD_ANNUAL_CONVERSATION, T.LEAVE],
    S.UNDERPERFORMER_POLICY: [T.REPORT_PROGRESS] * 3 + [T.RECOVER] * 2 + [T.HOLD_ANNUAL_CONVERSATION, T.LEAVE],
    S.LEFT: [T.HOLD_START_CONVERSATION],
}
# Triggers a person takes on a given day (a conversation, leaving): their events carry "held_on",
# as record_conversation and leave write it; the engine's own triggers carry no details.
HELD_ON_A_DAY = {T.HOLD_START_CONVERSATION, T.HOLD_ANNUAL_CONVERSATION, T.AGREE_IMPROVEMENT_PLAN, T.LEAVE}


@dataclass(frozen=True)
class World:
    """What the guards read besides the trajectory: catalogue, targets, averages, enrolment, policy."""

    catalogue: tuple[IndicatorDefinition, ...]
    targets: tuple[Target, ...]
    averages: tuple[NationalAverage, ...]
    enrolled_on: date
    policy: Policy

    @property
    def indicators(self) -> tuple[str, ...]:
        return tuple(d.indicator for d in self.catalogue)


@dataclass(frozen=True)
class Attempt:
    """One try at a trigger, some time after the previous one, perhaps with a new period's figures.

    The trigger is ``trigger`` itself, or (``likely``) pick number ``pick`` of those the state then allows.
    """

    trigger: Trigger
    likely: bool
    pick: int
    after: timedelta
    scores: tuple[tuple[str, int, int], ...]  # (indicator, numerator, denominator) of the latest quarter
    held_days_before: int  # the conversation behind the trigger was held this many days earlier
    plan: tuple[tuple[str, float], ...] | None  # goals (indicator, target) of an improvement plan


# Mostly the range care groups use, now and then the very edges.
percentages = (st.integers(500, 1000) | st.sampled_from([0, 1000])).map(lambda tenths: tenths / 10)


@st.composite
def fractions(draw: st.DrawFn) -> tuple[int, int]:
    denominator = draw(st.integers(1, 200))
    return draw(st.integers(0, denominator)), denominator


@st.composite
def worlds(draw: st.DrawFn) -> World:
    main = draw(st.lists(st.sampled_from(MAIN_PROCESS), min_size=1, max_size=2, unique=True))
    catalogue = [IndicatorDefinition(programme=Programme.DM2, indicator=i, name=i, kind=IndicatorKind.PROCESS,
                                     main=True) for i in main]
    if draw(st.booleans()):
        catalogue.append(IndicatorDefinition(programme=Programme.DM2, indicator=OUTCOME, name=OUTCOME,
                                             kind=IndicatorKind.OUTCOME, main=False))
    targets = [Target(programme=Programme.DM2, indicator=d.indicator, target=draw(percentages)) for d in catalogue]
    averages = [
        NationalAverage(programme=Programme.DM2, indicator=i, year=year, national_average=draw(percentages))
        for i in main for year in draw(st.lists(st.sampled_from(YEARS), min_size=1, max_size=3, unique=True))
    ]
    return World(
        catalogue=tuple(catalogue), targets=tuple(targets), averages=tuple(averages),
        enrolled_on=draw(st.dates(date(2022, 1, 1), date(2024, 12, 31))),
        policy=Policy(lag_mode=draw(st.sampled_from(LagMode))),
    )


@st.composite
def attempts(draw: st.DrawFn, world: World) -> Attempt:
    with_scores = draw(st.booleans())
    scores = tuple((i, *draw(fractions())) for i in world.indicators if draw(st.booleans())) if with_scores else ()
    plan = draw(st.none() | st.lists(st.tuples(st.sampled_from(world.indicators), percentages), min_size=1,
                                     max_size=2).map(tuple))
    return Attempt(
        trigger=draw(st.sampled_from(Trigger)),
        likely=draw(st.integers(0, 4)) > 0,
        pick=draw(st.integers(0, 100)),
        after=timedelta(days=draw(st.integers(0, 150)), minutes=draw(st.integers(1, 600))),
        scores=scores,
        held_days_before=draw(st.integers(0, 30)),
        plan=plan,
    )


@st.composite
def trajectory_histories(draw: st.DrawFn) -> tuple[World, list[Attempt]]:
    world = draw(worlds())
    length = draw(st.integers(0, 40))  # a plain list draw stays short; histories should get long too
    return world, [draw(attempts(world)) for _ in range(length)]


def quarter_end_on_or_before(day: date) -> date:
    for month, last in ((12, 31), (9, 30), (6, 30), (3, 31)):
        if (month, last) <= (day.month, day.day):
            return date(day.year, month, last)
    return date(day.year - 1, 12, 31)


def plan_of(attempt: Attempt, held_on: date) -> ImprovementPlan | None:
    if attempt.plan is None:
        return None
    return ImprovementPlan(goals=tuple(
        Goal(programme=Programme.DM2, indicator=i, target=target, by=held_on + timedelta(days=365))
        for i, target in attempt.plan
    ))


def drive(world: World, history: list[Attempt]) -> tuple[list[TrajectoryView], list[Fired]]:
    """Try every attempt in turn; return the view after each transition taken and what each fired."""
    view = TrajectoryView(agb_code=AGB)
    views, fired_all = [view], []
    scores: dict[tuple[str, date], IndicatorScore] = {}
    at = BEGIN
    for attempt in history:
        at += attempt.after
        period_end = quarter_end_on_or_before(at.date())
        for indicator, numerator, denominator in attempt.scores:
            scores[(indicator, period_end)] = IndicatorScore(
                agb_code=AGB, programme=Programme.DM2, indicator=indicator, period_end=period_end,
                numerator=numerator, denominator=denominator)
        held_on = at.date() - timedelta(days=attempt.held_days_before)
        ctx = GuardContext(
            on=at.date(), policy=world.policy, view=view, plan=plan_of(attempt, held_on),
            enrolments={Programme.DM2: world.enrolled_on},
            figures=IndicatorFigures.build(world.catalogue, world.targets, world.averages, scores.values()),
        )
        trigger = attempt.trigger
        if attempt.likely:
            trigger = LIKELY[view.state][attempt.pick % len(LIKELY[view.state])]
        allowed = trigger.value in allowed_triggers(view.state)
        try:
            fired = fire(view, trigger, at=at, actor="property", ctx=ctx,
                         details={"held_on": held_on.isoformat()} if trigger in HELD_ON_A_DAY else None,
                         reasons=[{"explanation": "vertrek"}] if trigger is T.LEAVE else ())
        except InvalidTransitionError:
            assert not allowed, f"{trigger} is allowed in {view.state} yet refused as invalid"
            continue
        except GuardRejectedError:
            assert allowed, f"{trigger} is not allowed in {view.state} yet reached its guard"
            continue
        assert allowed, f"{trigger} fired from {view.state}, which does not allow it"
        view = view.apply(fired.event)
        views.append(view)
        fired_all.append(fired)
    return views, fired_all


@settings(max_examples=200, deadline=None)
@given(trajectory_histories())
def test_any_history_of_a_practice_replays_to_its_stored_state(history: tuple[World, list[Attempt]]) -> None:
    world, attempted = history
    views, fired = drive(world, attempted)
    events: list[TrajectoryTransitioned] = [f.event for f in fired]
    view = views[-1]
    event(f"ends in {view.state.value}")
    event(f"reached the policy: {any(e.to_state is S.UNDERPERFORMER_POLICY for e in events)}")

    assert replay(AGB, events) == view
    assert fold(AGB, events) == view
    for n, view_after_n in enumerate(views):  # every prefix too: the projection at each moment
        assert replay(AGB, events[:n]) == view_after_n
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert view.version == len(events)
    previous = S.START
    for e in events:
        assert e.from_state is previous, f"event {e.seq} starts in {e.from_state}, the last ended in {previous}"
        previous = e.to_state


@settings(max_examples=200, deadline=None)
@given(trajectory_histories())
def test_the_board_hears_of_an_escalation_exactly_when_a_practice_enters_the_policy(
    history: tuple[World, list[Attempt]],
) -> None:
    world, attempted = history
    _, fired = drive(world, attempted)
    for f in fired:
        kinds = [effect.kind for effect in f.effects]
        entering = f.event.to_state is S.UNDERPERFORMER_POLICY and f.event.from_state is not S.UNDERPERFORMER_POLICY
        assert kinds.count("board_escalation") == (1 if entering else 0), (f.event, kinds)
        assert all(effect.seq == f.event.seq and effect.agb_code == AGB for effect in f.effects)


# --- service level: a care group's history on a real database ------------------------------------

PRACTICES = ("01234567", "07654321", "00112233")
HBA1C = "dm2/hba1c_measured"
OTHER_DM2_MAIN = tuple(
    str(d.key) for d in parse_catalogue(SAMPLES / "catalogue.csv")
    if d.programme is Programme.DM2 and d.main and d.kind is IndicatorKind.PROCESS and str(d.key) != HBA1C
)
BOARD = ("B. de Vries <bestuur@cohaesie.example>", "C. Smit <c.smit@cohaesie.example>")


@dataclass(frozen=True)
class Scores:
    after_days: int
    values: dict[str, dict[str, float]]  # per practice, per indicator key: a percentage


@dataclass(frozen=True)
class Conversation:
    after_days: int
    agb: str
    kind: str  # start | annual | extra
    plan: float | None  # an extra conversation's goal for HbA1c, or none
    programme: str | None


@dataclass(frozen=True)
class Run:
    weeks_later: int  # the next Monday, and this many weeks on


@dataclass(frozen=True)
class Leave:
    after_days: int
    agb: str


Step = Scores | Conversation | Run | Leave
scores_pct = st.integers(40, 100)  # the deviation threshold of HbA1c is 72, its target 90


@st.composite
def care_group_histories(draw: st.DrawFn) -> tuple[tuple[str, ...], list[Step]]:
    codes = PRACTICES[: draw(st.integers(1, 3))]
    practice = st.sampled_from(codes)
    days = st.integers(0, 90)
    per_practice = st.builds(
        lambda hba1c, others: {HBA1C: hba1c, **others},
        scores_pct, st.dictionaries(st.sampled_from(OTHER_DM2_MAIN), scores_pct, max_size=2),
    )
    steps: dict[str, st.SearchStrategy[Step]] = {
        "scores": st.builds(Scores, days, st.fixed_dictionaries({c: per_practice for c in codes})),
        "conversation": st.builds(Conversation, days, practice, st.sampled_from(["start", "annual", "extra"]),
                                  st.none() | st.sampled_from([85.0, 90.0]), st.sampled_from([None, None, "dm2"])),
        "run": st.builds(Run, st.integers(0, 12)),
        "leave": st.builds(Leave, days, practice),
    }
    # Leaving ends a trajectory; it turns up, but less often than the care group's other business.
    step = st.sampled_from(["scores"] * 4 + ["conversation"] * 4 + ["run"] * 4 + ["leave"]).flatmap(steps.__getitem__)
    # Most histories begin as the care group's do, every practice holding its start conversation.
    # In some the first practice then falls far behind and agrees an improvement plan, and in some
    # it is still far behind a year on, so the random steps after it start in (or near) the
    # underperformer policy and meet its progress reports, recovery and leaving.
    opening: list[Step] = []
    how = draw(st.sampled_from(["nothing", "started", "started", "planned", "a year on", "a year on"]))
    if how != "nothing":
        opening += [Conversation(0, c, "start", None, None) for c in codes]
    if how in ("planned", "a year on"):
        low = draw(st.fixed_dictionaries({c: per_practice for c in codes}))
        low[codes[0]] = {HBA1C: draw(st.integers(40, 71))}
        opening += [Scores(draw(days), low), Run(0), Conversation(draw(days), codes[0], "extra", 85.0, None)]
    if how == "a year on":
        later = draw(st.fixed_dictionaries({c: per_practice for c in codes}))
        later[codes[0]] = {HBA1C: draw(st.integers(40, 75))}
        opening += [Scores(draw(st.integers(330, 400)), later), Run(draw(st.integers(0, 4)))]
    length = draw(st.integers(0, 16))
    return codes, opening + [draw(step) for _ in range(length)]


def empty_database(services: Services) -> None:
    with services.db.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


def description(codes: tuple[str, ...]) -> str:
    lines = ["care_group: Cohaesie", f"board: [{', '.join(BOARD)}]", "practices:"]
    lines += [f'  "{c}": {{name: Praktijk {c}, programmes: {{dm2: 2023-01-01}}}}' for c in codes]
    return "\n".join(lines)


def next_monday_after(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


def count(services: Services, table: type[SQLModel]) -> int:
    with Session(services.db) as s:
        return s.exec(select(func.count()).select_from(table)).one()


def live_through(sc: Scenario, steps: list[Step],
                 after_run: Callable[[datetime], None] | None = None) -> datetime:
    """Take every step, moving time forward only; return the moment of the final engine run. ``after_run`` is
    told the moment of every run once it is done."""
    day = sc.clock.now().date()
    for step in steps:
        if isinstance(step, Run):
            day = next_monday_after(day) + timedelta(weeks=step.weeks_later)
            sc.run(day)
            if after_run is not None:
                after_run(sc.clock.now())
            continue
        day += timedelta(days=step.after_days)
        if isinstance(step, Scores):
            sc.scores(quarter_end_on_or_before(day), step.values)
        elif isinstance(step, Conversation):
            plan = {HBA1C: step.plan} if step.plan is not None else None
            try:
                if sc.conversation(step.agb, step.kind, day, plan=plan, programme=step.programme).waiting:
                    event("conversation waits")
            except (TrajectoryError, ConversationConflictError) as refused:  # also: the same day's conversation
                event(f"refused: {type(refused).__name__}")  # recorded again with another plan
        else:
            if sc.state(step.agb) is S.UNDERPERFORMER_POLICY:
                event("left under the policy")
            if sc.leave(step.agb, day).waiting:
                event("leave waits")
    last = next_monday_after(day)
    sc.run(last)
    return datetime.combine(last, time(7, 0), tzinfo=AMSTERDAM)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=care_group_histories())
def test_any_care_group_history_replays_to_the_stored_trajectories_and_a_rerun_changes_nothing(
    services: Services, history: tuple[tuple[str, ...], list[Step]],
) -> None:
    codes, steps = history
    empty_database(services)  # the fixture's database is shared by every example of this test
    sc = Scenario.build(services, description(codes), start="2024-01-01")
    last = live_through(sc, steps)
    for code in codes:
        event(f"ends in {sc.state(code).value}")
        for trigger in set(sc.triggers(code)):
            event(f"took {trigger}")

    for code in codes:
        result = queries.replay_practice(services, code)
        assert result.agrees, (code, result.error, result.differences)
    events, outbox = count(services, TrajectoryEventRow), count(services, OutboxRow)

    again = evaluation.run_due(services, last)
    assert again.already_ran and again.transitions == [] and again.messages == 0, again
    assert (count(services, TrajectoryEventRow), count(services, OutboxRow)) == (events, outbox)
    assert all(queries.replay_practice(services, code).agrees for code in codes)


def test_a_practice_leaving_under_the_underperformer_policy_leaves_and_the_board_hears_of_it(
    sqlite_services: Services,
) -> None:
    agb = PRACTICES[0]
    sc = Scenario.build(sqlite_services, description((agb,)), start="2024-01-01")
    sc.conversation(agb, "start", "2024-01-15")
    sc.scores("2024-03-31", {agb: {HBA1C: 60}})
    sc.run("2024-04-08")
    sc.conversation(agb, "extra", "2024-04-29", plan={HBA1C: 85})
    sc.scores("2025-03-31", {agb: {HBA1C: 61}})
    sc.run("2025-05-05")
    assert sc.state(agb) is S.UNDERPERFORMER_POLICY

    sc.leave(agb, "2025-05-12")
    assert sc.state(agb) is S.LEFT
    assert queries.replay_practice(sqlite_services, agb).agrees
    told = [m for m in queries.outbox_messages(sqlite_services) if m.kind == "board_left"]
    assert len(told) == len(BOARD)



def _seen(line: queries.StatusLine) -> tuple[Any, ...]:
    return (line.agb_code, line.state, line.since, line.reasons, line.next_due)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=care_group_histories())
def test_status_as_of_any_past_run_is_what_status_said_then(
    services: Services, history: tuple[tuple[str, ...], list[Step]],
) -> None:
    """Rebuilt from the events (nothing of the past stored twice), where every practice stood at each weekly
    run is exactly what ``status`` said right after that run."""
    codes, steps = history
    empty_database(services)
    sc = Scenario.build(services, description(codes), start="2024-01-01")
    said: dict[datetime, list[tuple[Any, ...]]] = {}
    flagged = {S.IMPROVEMENT_PLAN, S.UNDERPERFORMER_POLICY}  # a page of some states (the board's) reads those only

    def after_run(moment: datetime) -> None:
        said[moment] = [_seen(line) for line in queries.status(services)]
        assert [_seen(x) for x in queries.status(services, states=flagged)] == [
            x for x in said[moment] if x[1] in flagged]

    live_through(sc, steps, after_run=after_run)
    event(f"{len(said)} runs")
    for moment, lines in said.items():
        assert [_seen(line) for line in queries.status(services, as_of=moment)] == lines, moment
        assert [_seen(x) for x in queries.status(services, as_of=moment, states=flagged)] == [
            x for x in lines if x[1] in flagged]
        # one practice's line as of then (its page's question): that practice's alone
        one = [lines[-1][0]] if lines else []
        assert [_seen(x) for x in queries.status(services, as_of=moment, agb_codes=one)] == [
            x for x in lines if x[0] in one]
