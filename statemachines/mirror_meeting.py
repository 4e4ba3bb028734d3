"""The lifecycle of a GP group's mirror meeting: requested (planned with it), held, or cancelled; its accreditation
may change once held (requested of the EKC, then granted or refused).

One module-level ``transitions.Machine`` (as for the trajectory and support) decides which change may follow which.

Invariants:
- ``fire`` returns the event of a change that may happen, or raises ``InvalidMirrorMeetingChangeError`` naming what
  can happen instead: never a silent no-op.
- A mirror meeting is held on or after the day it was requested; held and cancelled end its planning, and only a
  held meeting's accreditation changes: from none or requested, to requested, granted or refused (a decision of the
  EKC stands).
- ``replay`` rebuilds a view from its events and fails on an event the machine does not allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from transitions import Machine, MachineError

from domain.errors import ConflictError
from domain.mirror_meetings import (
    ACCREDITATION_NAMES_NL,
    MIRROR_STATE_NAMES_NL,
    Accreditation,
    MirrorEvent,
    MirrorMeetingView,
    MirrorState,
    MirrorTrigger,
)

S, T = MirrorState, MirrorTrigger


class InvalidMirrorMeetingChangeError(ConflictError):
    """A change a mirror meeting cannot take in its state, or on that day."""


class _Subject:
    def __init__(self, state: MirrorState) -> None:
        self.state = state.value


MACHINE = Machine(
    model=None, states=[s.value for s in MirrorState], initial=S.NEW.value, auto_transitions=False,
    transitions=[
        {"trigger": T.REQUEST.value, "source": S.NEW.value, "dest": S.REQUESTED.value},
        {"trigger": T.HOLD.value, "source": S.REQUESTED.value, "dest": S.HELD.value},
        {"trigger": T.ACCREDIT.value, "source": S.HELD.value, "dest": S.HELD.value},
        {"trigger": T.CANCEL.value, "source": S.REQUESTED.value, "dest": S.CANCELLED.value},
    ])

_NAMES_NL = {T.REQUEST: "aanvragen", T.HOLD: "vastleggen als gehouden", T.ACCREDIT: "accreditatie vastleggen",
             T.CANCEL: "laten vervallen"}
_DECIDED = frozenset({Accreditation.GRANTED, Accreditation.REFUSED})


def allowed(state: MirrorState) -> list[MirrorTrigger]:
    return [t for t in MirrorTrigger if MACHINE.get_transitions(t.value, state.value)]


def _refusal(view: MirrorMeetingView, trigger: MirrorTrigger, on: date, details: dict[str, Any]) -> str | None:
    if trigger is T.HOLD and view.requested_on is not None and on < view.requested_on:
        return f"{on.isoformat()} ligt voor de aanvraag ({view.requested_on.isoformat()})"
    if trigger is T.ACCREDIT:
        if view.accreditation in _DECIDED:
            return (f"de accreditatie is al {ACCREDITATION_NAMES_NL[view.accreditation]} "
                    f"({view.accreditation_on.isoformat() if view.accreditation_on else '?'})")
        if view.held_on is not None and on < view.held_on:
            return f"{on.isoformat()} ligt voor de bijeenkomst ({view.held_on.isoformat()})"
        if details.get("accreditation") == Accreditation.NONE.value:
            return "een accreditatie intrekken kan niet; leg vast dat zij is afgewezen"
    return None


def fire(view: MirrorMeetingView, trigger: MirrorTrigger, *, on: date, recorded_at: datetime, actor: str,
         details: dict[str, Any] | None = None) -> MirrorEvent:
    """The event of ``trigger`` taken by ``view`` on ``on``, or ``InvalidMirrorMeetingChangeError``."""
    details = dict(details or {})
    subject = _Subject(view.status)
    try:
        MACHINE.events[trigger.value].trigger(subject)
    except MachineError:
        can = ", ".join(_NAMES_NL[t] for t in allowed(view.status)) or "niets meer"
        raise InvalidMirrorMeetingChangeError(
            f"spiegelbijeenkomst {view.id}: {_NAMES_NL[trigger]} kan niet nu zij "
            f"{MIRROR_STATE_NAMES_NL[view.status]} is (wel mogelijk: {can})") from None
    refused = _refusal(view, trigger, on, details)
    if refused:
        raise InvalidMirrorMeetingChangeError(f"spiegelbijeenkomst {view.id}: {_NAMES_NL[trigger]}: {refused}")
    return MirrorEvent(meeting_id=view.id, seq=view.version + 1, trigger=trigger, from_state=view.status,
                       to_state=MirrorState(subject.state), on=on, recorded_at=recorded_at, actor=actor,
                       details=details)


def replay(meeting_id: str, events: Iterable[MirrorEvent]) -> MirrorMeetingView:
    """The view its events build, each checked against the machine."""
    view = MirrorMeetingView(id=meeting_id)
    for event in events:
        expected = fire(view, event.trigger, on=event.on, recorded_at=event.recorded_at, actor=event.actor,
                        details=event.details)
        if (expected.seq, expected.to_state) != (event.seq, event.to_state):
            raise InvalidMirrorMeetingChangeError(f"spiegelbijeenkomst {meeting_id}: gebeurtenis {event.seq} past niet")
        view = view.apply(event)
    return view
