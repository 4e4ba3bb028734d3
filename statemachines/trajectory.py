"""The trajectory state machine of a practice, built once and driving any number of practices.

One module-level ``transitions.Machine`` (``model=None``, ``auto_transitions=False``) moves
light subjects through ``MACHINE.events[trigger].trigger(subject, ...)``: the library notes
measured this at ~100k triggers/s, where one machine per practice does not scale.

Invariants:
- ``fire`` either returns the event of a transition that happened or raises: an invalid
  trigger raises ``InvalidTransitionError``, a guard that says no raises
  ``GuardRejectedError`` with the rule's reasons. Never a silent no-op.
- Guards call the domain rules (``domain.rules.escalation``); the decision's reasons go into the event.
- ``recover`` needs every flagged indicator back at target *and* no other strong deviation.
- Entering ``underperformer_policy`` yields a board notification effect; so do a progress
  report, a recovery from the policy and leaving while under it (seed, section 1: the board
  is told of underperforming practices and the progress of their trajectory).
- ``replay`` rebuilds a view from stored events and fails on any event the machine does not
  allow from the state it starts in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from transitions import EventData, Machine, MachineError

from domain.calendar import WorkingCalendar
from domain.conversations import ImprovementPlan
from domain.errors import ConflictError
from domain.indicators import IndicatorFigures
from domain.policy import Policy
from domain.registry import Programme
from domain.rules.escalation import Decision, assess_deviation, assess_recovery, assess_underperformance
from domain.rules.timing import progress_report_due_on
from domain.trajectory import (
    BoardNotificationRequested,
    TrajectoryState,
    TrajectoryTransitioned,
    TrajectoryView,
    Trigger,
)

S = TrajectoryState
T = Trigger


class TrajectoryError(ConflictError):
    """Base of the state machine's errors."""


class InvalidTransitionError(TrajectoryError):
    def __init__(self, agb_code: str, trigger: str, state: str) -> None:
        allowed = ", ".join(sorted(allowed_triggers(TrajectoryState(state)))) or "geen"
        super().__init__(
            f"praktijk {agb_code}: '{trigger}' kan niet in toestand '{state}' (wel mogelijk: {allowed})"
        )
        self.trigger = trigger
        self.state = state


class GuardRejectedError(TrajectoryError):
    def __init__(self, agb_code: str, trigger: str, state: str, why: str) -> None:
        super().__init__(f"praktijk {agb_code}: '{trigger}' geweigerd in toestand '{state}': {why}")
        self.trigger = trigger
        self.state = state
        self.why = why


class EventBeforeLastError(TrajectoryError):
    """A step at a moment before the practice's last step: the log is ordered, so it is refused. For a run
    this means someone recorded a fact after the run's moment: the run leaves the practice to the next."""

    def __init__(self, agb_code: str, at: datetime, last: datetime) -> None:
        super().__init__(f"praktijk {agb_code}: moment {at.isoformat()} ligt voor de laatste gebeurtenis "
                         f"({last.isoformat()})")
        self.at = at
        self.last = last


class ReplayMismatchError(TrajectoryError):
    """A stored event that the machine does not allow: the history and the machine disagree."""


@dataclass(frozen=True)
class GuardContext:
    """What guards need to call the domain rules; all loaded beforehand, nothing fetched here."""

    on: date
    policy: Policy
    figures: IndicatorFigures | None = None
    enrolments: Mapping[Programme, date] = field(default_factory=dict)
    plan: ImprovementPlan | None = None
    view: TrajectoryView | None = None


class _Subject:
    """What the machine moves: a state, plus what the guards and callbacks found."""

    def __init__(self, state: TrajectoryState) -> None:
        self.state = state.value
        self.decision: Decision | None = None
        self.refusal: str | None = None
        self.effects: list[str] = []


def _subject(event: EventData) -> _Subject:
    model = event.model
    if not isinstance(model, _Subject):
        raise TypeError("the trajectory machine moves _Subject objects only")
    return model


def _ctx(event: EventData) -> GuardContext:
    ctx = event.kwargs.get("ctx")
    if not isinstance(ctx, GuardContext):
        raise TypeError("a guarded trigger needs ctx=GuardContext(...)")
    return ctx


def _deviation_confirmed(event: EventData) -> bool:
    ctx = _ctx(event)
    if ctx.figures is None:
        _subject(event).refusal = "geen indicatorcijfers meegegeven"
        return False
    decision = assess_deviation(ctx.figures, ctx.policy, ctx.enrolments, ctx.on)
    _subject(event).decision = decision
    return decision.applies


def _plan_has_goals(event: EventData) -> bool:
    ctx = _ctx(event)
    if ctx.plan is None or not ctx.plan.goals:
        _subject(event).refusal = "geen verbeterplan met doelen vastgelegd"
        return False
    return True


def _underperformance_confirmed(event: EventData) -> bool:
    ctx = _ctx(event)
    if ctx.figures is None or ctx.view is None or ctx.view.plan_agreed_on is None:
        _subject(event).refusal = "geen verbeterplan of indicatorcijfers bekend"
        return False
    decision = assess_underperformance(ctx.figures, ctx.policy, ctx.enrolments, ctx.view.plan_agreed_on, ctx.on)
    _subject(event).decision = decision
    return decision.applies


def _recovery_confirmed(event: EventData) -> bool:
    ctx = _ctx(event)
    if ctx.figures is None or ctx.view is None:
        _subject(event).refusal = "geen indicatorcijfers meegegeven"
        return False
    decision = assess_recovery(ctx.figures, ctx.view.flagged, ctx.on)
    _subject(event).decision = decision
    if not decision.applies:
        return False
    # Not recovered while another main process indicator deviates strongly: recovering would wipe the
    # plan and its one-year clock (and tell the board all is well) only to flag the practice again.
    deviation = assess_deviation(ctx.figures, ctx.policy, ctx.enrolments, ctx.on)
    if deviation.applies:
        _subject(event).refusal = "de gemarkeerde indicatoren halen hun streefwaarde, maar " + deviation.summary()
        return False
    return True


def _effect(kind: str) -> Any:
    def add(event: EventData) -> None:
        _subject(event).effects.append(kind)

    add.__name__ = f"notify_{kind}"
    return add


ACTIVE = [S.ANNUAL_CYCLE, S.EXTRA_CONVERSATION, S.IMPROVEMENT_PLAN, S.UNDERPERFORMER_POLICY]

STATES: list[dict[str, Any]] = [
    {"name": s.value} for s in TrajectoryState if s is not S.UNDERPERFORMER_POLICY
] + [{"name": S.UNDERPERFORMER_POLICY.value, "on_enter": [_effect("board_escalation")]}]

TRANSITIONS: list[dict[str, Any]] = [
    # A start conversation opens the annual cycle; after leaving, a practice may restart (seed: "(door)starten").
    {"trigger": T.HOLD_START_CONVERSATION, "source": [S.START, S.LEFT], "dest": S.ANNUAL_CYCLE},
    # The annual conversation is mandatory in every active state; it records, it does not move.
    {"trigger": T.HOLD_ANNUAL_CONVERSATION, "source": ACTIVE, "dest": None},
    {"trigger": T.FLAG_DEVIATION, "source": S.ANNUAL_CYCLE, "dest": S.EXTRA_CONVERSATION,
     "conditions": [_deviation_confirmed]},
    {"trigger": T.AGREE_IMPROVEMENT_PLAN, "source": S.EXTRA_CONVERSATION, "dest": S.IMPROVEMENT_PLAN,
     "conditions": [_plan_has_goals]},
    {"trigger": T.ESCALATE, "source": S.IMPROVEMENT_PLAN, "dest": S.UNDERPERFORMER_POLICY,
     "conditions": [_underperformance_confirmed]},
    {"trigger": T.REPORT_PROGRESS, "source": S.UNDERPERFORMER_POLICY, "dest": None,
     "after": [_effect("board_progress")]},
    {"trigger": T.RECOVER, "source": [S.EXTRA_CONVERSATION, S.IMPROVEMENT_PLAN], "dest": S.ANNUAL_CYCLE,
     "conditions": [_recovery_confirmed]},
    {"trigger": T.RECOVER, "source": S.UNDERPERFORMER_POLICY, "dest": S.ANNUAL_CYCLE,
     "conditions": [_recovery_confirmed], "after": [_effect("board_recovery")]},
    {"trigger": T.LEAVE, "source": [S.START, S.ANNUAL_CYCLE, S.EXTRA_CONVERSATION, S.IMPROVEMENT_PLAN],
     "dest": S.LEFT},
    {"trigger": T.LEAVE, "source": S.UNDERPERFORMER_POLICY, "dest": S.LEFT, "after": [_effect("board_left")]},
]


def _plain(transitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The library wants plain strings for names; our enums are ``StrEnum``, made explicit here."""
    plain = []
    for t in transitions:
        source = t["source"]
        item = dict(t)
        item["trigger"] = str(t["trigger"].value)
        item["source"] = [s.value for s in source] if isinstance(source, list) else source.value
        item["dest"] = t["dest"].value if t["dest"] is not None else None
        plain.append(item)
    return plain


MACHINE = Machine(
    model=None,
    states=STATES,
    transitions=_plain(TRANSITIONS),
    initial=S.START.value,
    auto_transitions=False,
    send_event=True,
    ignore_invalid_triggers=False,
)


def allowed_triggers(state: TrajectoryState) -> set[str]:
    return {t for t in MACHINE.get_triggers(state.value)}


# The triggers the engine tries for a practice in each state, in this order (the first that fires is taken): the
# rules of seed section 1 that can move a trajectory on their own, without a conversation or a departure.
_TRIED_IN: dict[TrajectoryState, tuple[Trigger, ...]] = {
    TrajectoryState.ANNUAL_CYCLE: (Trigger.FLAG_DEVIATION,),
    TrajectoryState.EXTRA_CONVERSATION: (Trigger.RECOVER,),
    TrajectoryState.IMPROVEMENT_PLAN: (Trigger.RECOVER, Trigger.ESCALATE),
    TrajectoryState.UNDERPERFORMER_POLICY: (Trigger.RECOVER, Trigger.REPORT_PROGRESS),
}


def triggers_to_try(view: TrajectoryView, on: date, policy: Policy, calendar: WorkingCalendar) -> list[Trigger]:
    """What the engine tries for a trajectory on day ``on``, in order; the board's progress report only once it is
    due (``progress_report_every_months`` after the last, on a working day)."""
    tried = list(_TRIED_IN.get(view.state, ()))
    if Trigger.REPORT_PROGRESS in tried:
        due = progress_report_due_on(view, policy, calendar)
        if due is None or due > on:
            tried.remove(Trigger.REPORT_PROGRESS)
    return tried


@dataclass(frozen=True)
class Fired:
    event: TrajectoryTransitioned
    effects: tuple[BoardNotificationRequested, ...]
    decision: Decision | None


def fire(
    view: TrajectoryView,
    trigger: Trigger,
    *,
    at: datetime,
    actor: str,
    ctx: GuardContext | None = None,
    details: Mapping[str, Any] | None = None,
    reasons: Iterable[Mapping[str, Any]] = (),
    recorded_at: datetime | None = None,
    late_ok: bool = False,
) -> Fired:
    """Take ``trigger`` from the view's state, or raise. Returns the event to append.

    ``at`` is when the step happened, ``recorded_at`` (default: ``at``) when it is written. A step before the
    practice's latest one is refused (``EventBeforeLastError``: the engine never decides in the past), unless
    ``late_ok``: a fact recorded late (a conversation typed in after the engine moved on) is taken from the
    state the practice is in now, keeps its own moment and says so (``details["late"]``)."""
    if at.tzinfo is None:
        raise ValueError("a transition's moment must be timezone-aware")
    # compared as instants: within one zone Python compares wall times, and in the repeated autumn hour
    # 02:15 (second) would count as before 02:45 (first)
    late = view.last_event_at is not None and at.timestamp() < view.last_event_at.timestamp()
    if late and not late_ok:
        assert view.last_event_at is not None
        raise EventBeforeLastError(view.agb_code, at, view.last_event_at)
    subject = _Subject(view.state)
    try:
        moved = MACHINE.events[trigger.value].trigger(subject, ctx=ctx)
    except MachineError as exc:
        raise InvalidTransitionError(view.agb_code, trigger.value, view.state.value) from exc
    except KeyError as exc:  # a trigger name the machine does not know at all
        raise InvalidTransitionError(view.agb_code, trigger.value, view.state.value) from exc
    if not moved:
        why = subject.refusal or (subject.decision.summary() if subject.decision else "voorwaarde niet vervuld")
        raise GuardRejectedError(view.agb_code, trigger.value, view.state.value, why)
    decision = subject.decision
    all_reasons = [dict(r) for r in reasons]
    if decision is not None:
        all_reasons = [r.model_dump(mode="json") for r in decision.reasons] + all_reasons
    event = TrajectoryTransitioned(
        agb_code=view.agb_code,
        seq=view.version + 1,
        at=at,
        trigger=trigger,
        from_state=view.state,
        to_state=TrajectoryState(subject.state),
        actor=actor,
        reasons=tuple(all_reasons),
        details={**(details or {}), **({"late": True} if late else {})},
        recorded_at=recorded_at or at,
    )
    effects = tuple(BoardNotificationRequested(kind, view.agb_code, event.seq) for kind in subject.effects)
    return Fired(event=event, effects=effects, decision=decision)


def replay(agb_code: str, events: Iterable[TrajectoryTransitioned]) -> TrajectoryView:
    """Rebuild a practice's view from its events, checking each against the machine, and its times against
    its place in the log: an event that happened before one recorded earlier says it was recorded late
    (``details["late"]``), one that did not does not. (``recorded_at`` is the moment of the run or command that
    wrote it, a logical moment: a run for 06:00 may write after an officer at 06:00:30, so its order is not
    checked.)"""
    view = TrajectoryView(agb_code=agb_code)
    for event in events:
        late = view.last_event_at is not None and event.at.timestamp() < view.last_event_at.timestamp()
        if late != bool(event.details.get("late")):
            raise ReplayMismatchError(
                f"praktijk {agb_code}, gebeurtenis {event.seq}: gebeurd op {event.at.isoformat()}, "
                + ("voor een eerder vastgelegde gebeurtenis, maar niet als laat vastgelegd gemarkeerd" if late else
                   "als laat vastgelegd gemarkeerd, maar niet voor een eerder vastgelegde gebeurtenis"))
        if event.from_state is not view.state:
            raise ReplayMismatchError(
                f"praktijk {agb_code}, gebeurtenis {event.seq}: begint in '{event.from_state}', "
                f"maar de herbouwde toestand is '{view.state}'"
            )
        candidates = MACHINE.get_transitions(trigger=event.trigger.value, source=view.state.value)
        targets = {t.dest if t.dest is not None else view.state.value for t in candidates}
        if event.to_state.value not in targets:
            raise ReplayMismatchError(
                f"praktijk {agb_code}, gebeurtenis {event.seq}: '{event.trigger}' van '{view.state}' "
                f"naar '{event.to_state}' staat de toestandsmachine niet toe"
            )
        try:
            view = view.apply(event)
        except ValueError as exc:
            raise ReplayMismatchError(f"praktijk {agb_code}: {exc}") from exc
    return view


def mermaid() -> str:
    """The machine as a Mermaid ``stateDiagram-v2``, read from the built machine itself."""
    lines = ["stateDiagram-v2", f"    [*] --> {MACHINE.initial}"]
    for name, event in MACHINE.events.items():
        for source, transitions in event.transitions.items():
            for t in transitions:
                dest = t.dest if t.dest is not None else source
                lines.append(f"    {source} --> {dest}: {name}")
    return "\n".join(lines) + "\n"
