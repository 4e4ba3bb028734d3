"""The steps recorded facts ask of a practice's trajectory, taken in the order the facts happened.

A conversation or a departure is stored as a step (``trajectory_step``) with the day it happened; the step is
taken when the engine has reached that day (at once in a live care group, else by the first run at or after
it), and a step the trajectory's state cannot take waits with the reason officers read.

Invariants:
- A step taken appends its event, moves the projection and queues its messages in the caller's transaction.
- Steps are taken in the order their facts happened, whatever the order they were recorded in; a step that
  waited is not taken after a later fact was (the officers decide, ``attention``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from domain.clock import as_amsterdam
from domain.conversations import ImprovementPlan
from domain.indicators import IndicatorFigures
from domain.policy import Policy
from domain.registry import Person, Practice, Role
from domain.trajectory import TrajectoryState, TrajectoryTransitioned, TrajectoryView, Trigger
from domain.vocabulary import STATE_NAMES_NL
from flows.services.agreements import goal_lines
from flows.services.context import Services
from notifications.compose import board_messages
from notifications.payloads import GoalLine, Visit
from statemachines.trajectory import Fired, GuardContext, GuardRejectedError, InvalidTransitionError, fire
from storage import goals as goal_store
from storage import repository as repo
from storage import support as support_store
from storage.read_models import TrajectoryStep


def commit_fired(s: Session, fired: Fired, view: TrajectoryView, practice: Practice | None,
                 board: tuple[Person, ...], now: datetime, policy: Policy,
                 figures: IndicatorFigures | None = None) -> tuple[TrajectoryView, int]:
    """Append the event, move the projection and queue its messages, in the caller's transaction
    (``practice`` may be left out only when the transition tells no one; ``figures``: the practice's, as the caller
    judged it by, else read for its goals)."""
    new_view = view.apply(fired.event)
    repo.append_transition(s, fired.event, new_view)
    if not fired.effects:
        return new_view, 0
    if practice is None:
        raise ValueError("a transition that notifies the board needs its practice")
    on = as_amsterdam(fired.event.at).date()
    messages = board_messages(fired.effects, fired.event, practice, board, view.plan_agreed_on,
                              progress_every_months=policy.progress_report_every_months,
                              visits=visits_since(s, practice.agb_code, view.plan_agreed_on, on),
                              goals=_plan_goals(s, practice.agb_code, view.plan_agreed_on, on, policy, figures))
    queued = repo.add_messages(s, messages, created_at=now)
    return new_view, queued


def _plan_goals(s: Session, agb_code: str, plan_agreed_on: date | None, on: date, policy: Policy,
                figures: IndicatorFigures | None = None) -> list[GoalLine]:
    """Every goal set since the plan was agreed, where it stands on ``on`` (by ``figures``, else the figures read,
    only when there are goals)."""
    if plan_agreed_on is None:
        return []
    if figures is None:
        if not goal_store.goals_of(s, agb_code, set_since=plan_agreed_on):
            return []
        figures = repo.reference_figures(s, policy.figures_count_after_days).with_scores(
            repo.load_scores(s, [agb_code]).get(agb_code, []))
    return goal_lines(s, agb_code, plan_agreed_on, figures, on)


def visits_since(s: Session, agb_code: str, plan_agreed_on: date | None, until: date) -> list[Visit]:
    """The conversations held with a practice and the support given to it from the day its plan was agreed up to
    ``until``, in the order of their days (none without a plan)."""
    if plan_agreed_on is None:
        return []
    visits = [Visit(what="conversation", kind=c.kind, on=c.held_on) for c in repo.conversations_of(s, agb_code)
              if plan_agreed_on <= c.held_on <= until]
    visits += [Visit(what="support", kind=v.kind.value if v.kind else "", on=v.done_on, half_days=v.half_days)
               for v in support_store.of_practice(s, agb_code)
               if v.done_on is not None and plan_agreed_on <= v.done_on <= until]
    return sorted(visits, key=lambda v: (v.on, v.what))


# How recently the engine must have run for the care group to count as live: a fact recorded then is taken at
# once (the runs still to come lie after it); in a care group bringing in history (no run yet, or the last one
# long ago) a fact waits until a run reaches the moment it happened, so runs for earlier moments still can come.
LIVE_WITHIN = timedelta(days=7)


def engine_reached(s: Session, now: datetime, live: bool | None = None) -> datetime | None:
    """Up to which moment a fact recorded now is taken at once: the engine's horizon, or now when the care
    group is live (the engine ran in the last week; ``live`` says so outright, as a scenario with the clock
    in hand does)."""
    horizon = repo.engine_horizon(s)
    if live:
        return now if horizon is None or now.timestamp() > horizon.timestamp() else horizon
    if live is None and horizon is not None and horizon.timestamp() >= (now - LIVE_WITHIN).timestamp():
        return now if now.timestamp() > horizon.timestamp() else horizon
    return horizon


class _StepWaits(Exception):
    """A step its practice's state cannot take now; the reason is what the officers read."""


class _StepNeedsNoTransition(Exception):
    """A fact whose step is done without a transition (a start conversation for one more programme while the
    cycle runs: its enrolment was stored with the conversation)."""


STEP_NAMES_NL = {
    Trigger.HOLD_START_CONVERSATION: "startgesprek", Trigger.HOLD_ANNUAL_CONVERSATION: "kwaliteitsjaargesprek",
    Trigger.AGREE_IMPROVEMENT_PLAN: "extra gesprek met verbeterplan", Trigger.LEAVE: "vertrek uit de cyclus",
}


def step_text(step: TrajectoryStep) -> str:
    """``extra gesprek met verbeterplan van 29 april 2024``."""
    name = STEP_NAMES_NL.get(Trigger(step.trigger), step.trigger)
    return f"{name} van {step.details.get('held_on') or as_amsterdam(step.happened_at).date().isoformat()}"


def step_waiting(step: TrajectoryStep) -> str:
    """Why a step is not taken: what its state lacks, or the run it waits for."""
    return step.waiting or f"wordt gezet door de eerste run op of na {as_amsterdam(step.happened_at):%Y-%m-%d %H:%M}"


def _step_fires(services: Services, view: TrajectoryView, step: TrajectoryStep, recorded_at: datetime) -> Fired:
    """The transition a step asks, judged by ``services`` in force on the step's own day."""
    trigger = Trigger(step.trigger)
    held_on = date.fromisoformat(step.details["held_on"])
    plan = ImprovementPlan.model_validate(step.details["plan"]) if step.details.get("plan") else None
    if trigger is Trigger.AGREE_IMPROVEMENT_PLAN and view.flagged_on is not None and held_on < view.flagged_on:
        raise _StepWaits(f"ligt voor de markering van de afwijking op {view.flagged_on.isoformat()}: een verbeterplan "
                         "volgt op de afwijking; corrigeer de datum of leg het gesprek opnieuw vast")
    if trigger is Trigger.HOLD_START_CONVERSATION and step.details.get("programme") and \
            view.state not in (TrajectoryState.START, TrajectoryState.LEFT):
        raise _StepNeedsNoTransition
    ctx = GuardContext(on=held_on, policy=services.policy, plan=plan, view=view)
    try:
        # the event is written now; when the officer entered the fact stays with it
        details = {**step.details, "fact_recorded_at": as_amsterdam(step.recorded_at).isoformat(),
                   "policy_version": services.policy_label}
        return fire(view, trigger, at=as_amsterdam(step.happened_at), actor=step.actor, ctx=ctx,
                    details=details, reasons=step.reasons, recorded_at=recorded_at, late_ok=True)
    except (InvalidTransitionError, GuardRejectedError) as exc:
        state = STATE_NAMES_NL[view.state]
        if view.state in (TrajectoryState.START, TrajectoryState.LEFT):
            raise _StepWaits(f"wacht op een startgesprek: het traject staat op '{state}'") from exc
        if trigger is Trigger.AGREE_IMPROVEMENT_PLAN and view.state is TrajectoryState.ANNUAL_CYCLE:
            raise _StepWaits(f"wacht: het traject staat op '{state}'; een verbeterplan volgt op de markering van "
                             "een afwijking") from exc
        why = f": {exc.why}" if isinstance(exc, GuardRejectedError) else ""
        raise _StepWaits(f"wacht: kan niet vanuit '{state}'{why}") from exc


def take_steps(s: Session, services: Services, view: TrajectoryView, agb_code: str, upto: datetime,
               recorded_at: datetime, marked: dict[str, TrajectoryStep] | None = None,
               due: list[TrajectoryStep] | None = None
               ) -> tuple[TrajectoryView, list[tuple[Fired, TrajectoryView]], int]:
    """Take every step of the practice whose fact happened by ``upto``, in the order they happened, in the
    caller's transaction; a step that cannot be taken yet keeps waiting (with why). Returns the new view, the
    steps taken (with the view before each) and the messages queued; ``marked`` is given every step looked at, as
    it was left. ``due``: those steps as the caller knows them in this transaction (else read)."""
    marked = {} if marked is None else marked
    taken: list[tuple[Fired, TrajectoryView]] = []
    queued = 0
    practice: Practice | None = None
    board: tuple[Person, ...] = ()
    moved = waited = True
    while moved and waited:  # a step taken may let an earlier one that waited go (none waited: none to let go)
        moved = waited = False
        steps = repo.due_steps(s, agb_code, upto) if due is None else due
        due = None  # a later pass reads what is due again: this pass marked and took some
        for step in steps:
            if step.waiting is not None:
                # it waited, and a fact that happened after it was taken since: taking it now would put it after
                # that one (a second leave taken after the practice started again); the officers decide
                later = repo.last_taken_step_at(s, agb_code)
                if later is not None and later.timestamp() > as_amsterdam(step.happened_at).timestamp():
                    marked[step.id] = repo.mark_step(s, step, attention=True, waiting=(
                        f"{step.waiting}; intussen is een later feit (van {later:%Y-%m-%d}) al verwerkt: controleer "
                        "de datum, of leg het opnieuw vast"))
                    continue
            on_its_day = services.in_force(as_amsterdam(step.happened_at))  # judged under the policy of its own day
            try:
                fired = _step_fires(on_its_day, view, step, recorded_at)
            except _StepWaits as exc:
                marked[step.id] = repo.mark_step(s, step, waiting=str(exc))
                waited = True
                continue
            except _StepNeedsNoTransition:
                marked[step.id] = repo.mark_step(s, step, taken_as=0)
                continue
            if fired.effects and practice is None:
                practice, board = repo.get_practice(s, agb_code), repo.contacts(s, Role.BOARD)
            before = view
            view, n = commit_fired(s, fired, view, practice, board, recorded_at, on_its_day.policy)
            marked[step.id] = repo.mark_step(s, step, taken_as=fired.event.seq)
            taken.append((fired, before))
            queued += n
            moved = True
    return view, taken, queued


@dataclass(frozen=True)
class StepOutcome:
    """What became of a fact's step when it was recorded: taken (its event), waiting (why), or neither
    (no step asked, or the engine has not reached the day yet: ``waiting`` says so). ``view``: the practice's
    trajectory after the steps taken (None when none was)."""

    transition: TrajectoryTransitioned | None = None
    waiting: str | None = None
    view: TrajectoryView | None = None


class _Unread:
    """``record_step``'s ``reached`` not given: read it (``engine_reached``)."""


_UNREAD = _Unread()


def record_step(s: Session, services: Services, view: TrajectoryView, agb_code: str, trigger: Trigger | None,
                happened_at: datetime, now: datetime, actor: str, details: dict[str, Any],
                reasons: tuple[dict[str, Any], ...], *, source: str, live: bool | None = None,
                reached: datetime | _Unread | None = _UNREAD, alone: bool = False) -> StepOutcome:
    """Keep the step a fact asks and take it (with every step of the practice due by then) when the engine has
    reached its moment. ``reached``: ``engine_reached`` as the caller read it in this transaction (a batch of
    facts recorded at one moment reads it once: nothing they write moves it). ``alone``: the caller knows, in this
    transaction, that the practice has no other step not yet taken (a batch of conversations: one query for all)."""
    if trigger is None:
        return StepOutcome()
    step = TrajectoryStep(id=repo.step_id(source), agb_code=agb_code, trigger=trigger.value,
                               happened_at=happened_at, recorded_at=now, actor=actor, details=details,
                               reasons=list(reasons))
    new = repo.add_step(s, step)
    if isinstance(reached, _Unread):
        reached = engine_reached(s, now, live)
    if reached is None or happened_at.timestamp() > reached.timestamp():
        return StepOutcome(waiting=step_waiting(step))
    marked: dict[str, TrajectoryStep] = {}
    # a new step alone is all that is due (a step kept before is another fact's: read what is due)
    after, taken, _ = take_steps(s, services, view, agb_code, reached, now, marked,
                                 due=[step] if new and alone else None)
    moved = after if taken else None
    if new:  # what became of it (a step kept before is another fact's: this one's stays as it was asked)
        step = marked.get(step.id) or repo.get_step(s, step.id) or step
    mine = [fired.event for fired, _ in taken if step.status == "taken" and fired.event.seq == step.event_seq]
    if mine:
        return StepOutcome(transition=mine[0], view=moved)
    if step.status == "taken":  # taken without a transition (one more programme's start while the cycle runs)
        return StepOutcome(view=moved)
    return StepOutcome(waiting=step.waiting or "wacht", view=moved)
