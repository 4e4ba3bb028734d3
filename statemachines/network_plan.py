"""The lifecycle of a GP group's network plan with its partners (seed 5, "Huisartsengroep"): agreed, evaluated
yearly, network meetings and case discussions held, and ended; agreed again with new partners after it ended or
when the plan is renewed.

One module-level ``transitions.Machine`` (as for the trajectory, support and the meetings) decides which change may
follow which.

Invariants:
- ``fire`` returns the event of a change that may happen, or raises ``InvalidNetworkPlanChangeError`` naming what
  can happen instead: never a silent no-op. Only a plan in force is evaluated or ended.
- Network meetings and case discussions may be held before a plan exists (building the network is how a plan
  starts, seed 5) and under one; not after the plan ended.
- ``replay`` rebuilds a view from its events and fails on an event the machine does not allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from transitions import Machine, MachineError

from domain.errors import ConflictError
from domain.neighbourhood import (
    NETWORK_PLAN_STATE_NAMES_NL,
    NetworkPlanEvent,
    NetworkPlanState,
    NetworkPlanTrigger,
    NetworkPlanView,
)

S, T = NetworkPlanState, NetworkPlanTrigger


class InvalidNetworkPlanChangeError(ConflictError):
    """A change a network plan cannot take in its state."""


class _Subject:
    def __init__(self, state: NetworkPlanState) -> None:
        self.state = state.value


MACHINE = Machine(
    model=None, states=[s.value for s in NetworkPlanState], initial=S.NONE.value, auto_transitions=False,
    transitions=[
        {"trigger": T.AGREE.value, "source": [S.NONE.value, S.AGREED.value, S.ENDED.value], "dest": S.AGREED.value},
        {"trigger": T.EVALUATE.value, "source": S.AGREED.value, "dest": S.AGREED.value},
        {"trigger": T.HOLD.value, "source": S.NONE.value, "dest": S.NONE.value},
        {"trigger": T.HOLD.value, "source": S.AGREED.value, "dest": S.AGREED.value},
        {"trigger": T.END.value, "source": S.AGREED.value, "dest": S.ENDED.value},
    ])

_NAMES_NL = {T.AGREE: "afspreken", T.EVALUATE: "evalueren", T.HOLD: "een bijeenkomst vastleggen",
             T.END: "beëindigen"}


def fire(view: NetworkPlanView, trigger: NetworkPlanTrigger, *, on: date, recorded_at: datetime, actor: str,
         details: dict[str, Any] | None = None) -> NetworkPlanEvent:
    """The event of ``trigger`` taken by ``view`` on ``on``, or ``InvalidNetworkPlanChangeError``."""
    subject = _Subject(view.status)
    try:
        MACHINE.events[trigger.value].trigger(subject)
    except MachineError:
        raise InvalidNetworkPlanChangeError(
            f"netwerkplan van {view.gp_group}: {_NAMES_NL[trigger]} kan niet nu het "
            f"{NETWORK_PLAN_STATE_NAMES_NL[view.status]} is; er is niets vastgelegd") from None
    return NetworkPlanEvent(gp_group=view.gp_group, seq=view.version + 1, trigger=trigger, from_state=view.status,
                            to_state=NetworkPlanState(subject.state), on=on, recorded_at=recorded_at, actor=actor,
                            details=dict(details or {}))


def replay(gp_group: str, events: Iterable[NetworkPlanEvent]) -> NetworkPlanView:
    """The view its events build, each checked against the machine."""
    view = NetworkPlanView(gp_group=gp_group)
    for event in events:
        expected = fire(view, event.trigger, on=event.on, recorded_at=event.recorded_at, actor=event.actor,
                        details=event.details)
        if (expected.seq, expected.to_state) != (event.seq, event.to_state):
            raise InvalidNetworkPlanChangeError(f"netwerkplan van {gp_group}: gebeurtenis {event.seq} past niet")
        view = view.apply(event)
    return view
