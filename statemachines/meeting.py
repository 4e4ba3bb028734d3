"""The lifecycle of a POH or practice-manager meeting: planned (topics added, moved), then held.

One module-level ``transitions.Machine`` (as for the trajectory, support and the mirror meeting) decides which
change may follow which.

Invariants:
- ``fire`` returns the event of a change that may happen, or raises ``InvalidMeetingChangeError`` naming what can
  happen instead: never a silent no-op. A held meeting takes no more topics, moves or holding.
- ``replay`` rebuilds a view from its events and fails on an event the machine does not allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from transitions import Machine, MachineError

from domain.errors import ConflictError
from domain.meetings import MEETING_STATE_NAMES_NL, MeetingEvent, MeetingState, MeetingTrigger, MeetingView

S, T = MeetingState, MeetingTrigger


class InvalidMeetingChangeError(ConflictError):
    """A change a meeting cannot take in its state."""


class _Subject:
    def __init__(self, state: MeetingState) -> None:
        self.state = state.value


MACHINE = Machine(
    model=None, states=[s.value for s in MeetingState], initial=S.PLANNED.value, auto_transitions=False,
    transitions=[
        {"trigger": T.ADD_TOPIC.value, "source": S.PLANNED.value, "dest": S.PLANNED.value},
        {"trigger": T.MOVE.value, "source": S.PLANNED.value, "dest": S.PLANNED.value},
        {"trigger": T.HOLD.value, "source": S.PLANNED.value, "dest": S.HELD.value},
    ])

_NAMES_NL = {T.ADD_TOPIC: "onderwerp toevoegen", T.MOVE: "verplaatsen", T.HOLD: "vastleggen als gehouden"}


def fire(view: MeetingView, trigger: MeetingTrigger, *, on: date, recorded_at: datetime, actor: str,
         details: dict[str, Any] | None = None) -> MeetingEvent:
    """The event of ``trigger`` taken by ``view`` on ``on``, or ``InvalidMeetingChangeError``."""
    subject = _Subject(view.status)
    try:
        MACHINE.events[trigger.value].trigger(subject)
    except MachineError:
        raise InvalidMeetingChangeError(
            f"overleg {view.key}: {_NAMES_NL[trigger]} kan niet nu het {MEETING_STATE_NAMES_NL[view.status]} is"
        ) from None
    return MeetingEvent(meeting_key=view.key, seq=view.version + 1, trigger=trigger, from_state=view.status,
                        to_state=MeetingState(subject.state), on=on, recorded_at=recorded_at, actor=actor,
                        details=dict(details or {}))


def replay(key: str, events: Iterable[MeetingEvent]) -> MeetingView:
    """The view its events build, each checked against the machine."""
    view = MeetingView(key=key)
    for event in events:
        expected = fire(view, event.trigger, on=event.on, recorded_at=event.recorded_at, actor=event.actor,
                        details=event.details)
        if (expected.seq, expected.to_state) != (event.seq, event.to_state):
            raise InvalidMeetingChangeError(f"overleg {key}: gebeurtenis {event.seq} past niet")
        view = view.apply(event)
    return view
