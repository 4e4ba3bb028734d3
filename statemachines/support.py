"""The lifecycle of a support activity: requested, planned (again, when it moves), done, or cancelled.

One module-level ``transitions.Machine`` (as for the trajectory) decides which change may follow which.

Invariants:
- ``fire`` returns the event of a change that may happen, or raises ``InvalidSupportChangeError`` naming what can
  happen instead: never a silent no-op.
- A support activity is done only after it was planned, on or after the day it was planned for, and on or after
  it was requested; done and cancelled are final.
- ``replay`` rebuilds a view from its events and fails on an event the machine does not allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from transitions import Machine, MachineError

from domain.errors import ConflictError
from domain.support import SUPPORT_STATE_NAMES_NL, SupportEvent, SupportState, SupportTrigger, SupportView

S, T = SupportState, SupportTrigger


class InvalidSupportChangeError(ConflictError):
    """A change a support activity cannot take in its state, or on that day."""


class _Subject:
    def __init__(self, state: SupportState) -> None:
        self.state = state.value


MACHINE = Machine(
    model=None, states=[s.value for s in SupportState], initial=S.NEW.value, auto_transitions=False,
    transitions=[
        {"trigger": T.REQUEST.value, "source": S.NEW.value, "dest": S.REQUESTED.value},
        {"trigger": T.PLAN.value, "source": [S.REQUESTED.value, S.PLANNED.value], "dest": S.PLANNED.value},
        {"trigger": T.COMPLETE.value, "source": S.PLANNED.value, "dest": S.DONE.value},
        {"trigger": T.CANCEL.value, "source": [S.REQUESTED.value, S.PLANNED.value], "dest": S.CANCELLED.value},
    ])

_NAMES_NL = {T.REQUEST: "aanvragen", T.PLAN: "plannen", T.COMPLETE: "afronden", T.CANCEL: "laten vervallen"}


def allowed(state: SupportState) -> list[SupportTrigger]:
    return [t for t in SupportTrigger if MACHINE.get_transitions(t.value, state.value)]


def _too_early(view: SupportView, trigger: SupportTrigger, on: date) -> str | None:
    earliest = {T.PLAN: view.requested_on, T.COMPLETE: view.planned_on}.get(trigger)
    if earliest is not None and on < earliest:
        what = "de aanvraag" if trigger is T.PLAN else "de geplande dag"
        return f"{on.isoformat()} ligt voor {what} ({earliest.isoformat()})"
    return None


def fire(view: SupportView, trigger: SupportTrigger, *, on: date, recorded_at: datetime, actor: str,
         details: dict[str, Any] | None = None) -> SupportEvent:
    """The event of ``trigger`` taken by ``view`` on ``on``, or ``InvalidSupportChangeError``."""
    subject = _Subject(view.status)
    try:
        MACHINE.events[trigger.value].trigger(subject)
    except MachineError:
        can = ", ".join(_NAMES_NL[t] for t in allowed(view.status)) or "niets meer"
        raise InvalidSupportChangeError(
            f"ondersteuning {view.id}: {_NAMES_NL[trigger]} kan niet nu die "
            f"{SUPPORT_STATE_NAMES_NL[view.status]} is (wel mogelijk: {can})") from None
    early = _too_early(view, trigger, on)
    if early:
        raise InvalidSupportChangeError(f"ondersteuning {view.id}: {_NAMES_NL[trigger]} op {early}")
    return SupportEvent(support_id=view.id, seq=view.version + 1, trigger=trigger, from_state=view.status,
                        to_state=SupportState(subject.state), on=on, recorded_at=recorded_at, actor=actor,
                        details=dict(details or {}))


def replay(support_id: str, events: Iterable[SupportEvent]) -> SupportView:
    """The view its events build, each checked against the machine."""
    view = SupportView(id=support_id)
    for event in events:
        expected = fire(view, event.trigger, on=event.on, recorded_at=event.recorded_at, actor=event.actor,
                        details=event.details)
        if (expected.seq, expected.to_state) != (event.seq, event.to_state):
            raise InvalidSupportChangeError(f"ondersteuning {support_id}: gebeurtenis {event.seq} past niet")
        view = view.apply(event)
    return view
