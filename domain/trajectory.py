"""A practice's quality trajectory: its states, triggers, the event each transition leaves,
and the projection of those events into where the practice stands now.

Invariants: events are append-only and numbered 1, 2, 3... per practice; the projection is a
pure fold over them (``TrajectoryView.apply``), so the stored state can always be rebuilt.
Which transitions are allowed is the state machine's business (``statemachines``); this
module only names things and folds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from domain.clock import start_of_day
from domain.indicators import IndicatorKey
from domain.registry import Programme


class TrajectoryState(StrEnum):
    START = "start"
    ANNUAL_CYCLE = "annual_cycle"
    EXTRA_CONVERSATION = "extra_conversation"
    IMPROVEMENT_PLAN = "improvement_plan"
    UNDERPERFORMER_POLICY = "underperformer_policy"
    LEFT = "left"


class Trigger(StrEnum):
    HOLD_START_CONVERSATION = "hold_start_conversation"
    HOLD_ANNUAL_CONVERSATION = "hold_annual_conversation"
    FLAG_DEVIATION = "flag_deviation"
    AGREE_IMPROVEMENT_PLAN = "agree_improvement_plan"
    RECOVER = "recover"
    ESCALATE = "escalate"
    REPORT_PROGRESS = "report_progress"
    LEAVE = "leave"


@dataclass(frozen=True)
class TrajectoryTransitioned:
    """Event: a practice's trajectory took a transition (possibly staying in its state).

    Two times: ``at`` is when it happened (the moment the engine decided, or the day a conversation was held
    at noon: ``domain.clock.fact_moment``), ``recorded_at`` when it was written. The engine orders and judges by
    ``at``; an event recorded after a later one (``details["late"]``) keeps its own ``at`` and its place in the
    log: steps already taken are never rewritten."""

    agb_code: str
    seq: int
    at: datetime
    trigger: Trigger
    from_state: TrajectoryState
    to_state: TrajectoryState
    actor: str
    reasons: tuple[dict[str, Any], ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    recorded_at: datetime | None = None  # None: as ``at`` (events stored before both times were kept)

    @property
    def recorded(self) -> datetime:
        return self.recorded_at or self.at


@dataclass(frozen=True)
class BoardNotificationRequested:
    """Effect of a transition: the board must hear of it (escalation, progress or recovery)."""

    kind: str  # "board_escalation" | "board_progress" | "board_recovery"
    agb_code: str
    seq: int


@dataclass(frozen=True)
class TrajectoryView:
    """Where a practice stands, folded from its events."""

    agb_code: str
    state: TrajectoryState = TrajectoryState.START
    since: datetime | None = None
    last_event_at: datetime | None = None
    version: int = 0
    reasons: tuple[dict[str, Any], ...] = ()
    flagged: tuple[IndicatorKey, ...] = ()
    flagged_on: date | None = None
    plan_agreed_on: date | None = None
    cycle_started_on: date | None = None
    last_annual_conversation_on: date | None = None
    entered_policy_at: datetime | None = None
    last_progress_report_at: datetime | None = None

    def apply(self, event: TrajectoryTransitioned, *, in_sequence: bool = True) -> TrajectoryView:
        """The view after ``event``. ``in_sequence=False`` folds a selection of events (those that happened by a
        moment, ``as_of``): ``version`` then counts the events folded."""
        if event.agb_code != self.agb_code:
            raise ValueError(f"event of {event.agb_code} applied to trajectory of {self.agb_code}")
        if in_sequence and event.seq != self.version + 1:
            raise ValueError(f"event {event.seq} follows version {self.version} of {self.agb_code}")
        held_on = _held_on(event)
        # the latest moment anything happened: a step recorded late does not move it back
        last = self.last_event_at
        latest = event.at if last is None or event.at.timestamp() > last.timestamp() else last
        changes: dict[str, Any] = {"version": event.seq if in_sequence else self.version + 1, "last_event_at": latest}
        if event.from_state != event.to_state:
            # "since" is when it happened: the day a conversation was held, else the moment the engine decided
            since = start_of_day(held_on) if "held_on" in event.details else event.at
            changes.update(state=event.to_state, since=since, reasons=event.reasons)
        trigger = event.trigger
        if trigger is Trigger.HOLD_START_CONVERSATION:
            changes.update(cycle_started_on=held_on, flagged=(), flagged_on=None, plan_agreed_on=None,
                           entered_policy_at=None, last_progress_report_at=None)
        elif trigger is Trigger.HOLD_ANNUAL_CONVERSATION:  # a late entry of an older one moves nothing back
            held_before = self.last_annual_conversation_on
            changes.update(last_annual_conversation_on=held_on if held_before is None else max(held_before, held_on))
        elif trigger is Trigger.FLAG_DEVIATION:
            changes.update(flagged=_keys(event.reasons), flagged_on=event.at.date())
        elif trigger is Trigger.AGREE_IMPROVEMENT_PLAN:
            changes.update(plan_agreed_on=held_on)
        elif trigger is Trigger.ESCALATE:
            changes.update(entered_policy_at=event.at, last_progress_report_at=event.at)
        elif trigger is Trigger.REPORT_PROGRESS:
            changes.update(last_progress_report_at=event.at)
        elif trigger in (Trigger.RECOVER, Trigger.LEAVE):
            changes.update(flagged=(), flagged_on=None, plan_agreed_on=None, entered_policy_at=None,
                           last_progress_report_at=None)
        return replace(self, **changes)


def _held_on(event: TrajectoryTransitioned) -> date:
    held = event.details.get("held_on")
    return date.fromisoformat(held) if isinstance(held, str) else event.at.date()


def _keys(reasons: tuple[dict[str, Any], ...]) -> tuple[IndicatorKey, ...]:
    keys = {IndicatorKey(Programme(r["programme"]), str(r["indicator"])) for r in reasons}
    return tuple(sorted(keys))


def fold(agb_code: str, events: list[TrajectoryTransitioned]) -> TrajectoryView:
    view = TrajectoryView(agb_code=agb_code)
    for event in events:
        view = view.apply(event)
    return view


def happened_by(events: Iterable[TrajectoryTransitioned], moment: datetime) -> list[TrajectoryTransitioned]:
    """The events that happened by ``moment``, in the order they were taken (``seq``): a step recorded late was
    decided from the state the practice was in when it was taken, so it is folded in that place."""
    return sorted((e for e in events if e.at.timestamp() <= moment.timestamp()), key=lambda e: e.seq)


def as_of(agb_code: str, events: Iterable[TrajectoryTransitioned], moment: datetime) -> TrajectoryView:
    """Where a practice stood at ``moment``: the fold of what happened by then, rebuilt from the events (nothing
    of the past is stored twice). Of a history without late steps this is what ``status`` said at that moment;
    with them, it is what is known now to have happened by then."""
    view = TrajectoryView(agb_code=agb_code)
    for event in happened_by(events, moment):
        view = view.apply(event, in_sequence=False)
    return view
