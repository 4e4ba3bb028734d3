"""The support the care group gives a practice (seed section 2: coaching on the job, the lung-function analyst,
record review, setting up the recall system, consulting a kaderhuisarts or diabetes nurse), as tracked work.

Each support activity has its own lifecycle (``statemachines.support``): requested, planned, done, or cancelled;
every change is an event, and its view is the fold of its events, as with the trajectory.

Invariants:
- A view is exactly the fold of its events (``SupportView.apply``): replaying them rebuilds it.
- The days in an event are the days things happened (requested on, planned on, done on); when it was recorded is
  kept beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from domain.vocabulary import SupportKind


class SupportState(StrEnum):
    NEW = "new"  # before its request: the state a support activity's first event starts from
    REQUESTED = "requested"
    PLANNED = "planned"
    DONE = "done"
    CANCELLED = "cancelled"


class SupportTrigger(StrEnum):
    REQUEST = "request"
    PLAN = "plan"
    COMPLETE = "complete"
    CANCEL = "cancel"


SUPPORT_STATE_NAMES_NL = {SupportState.NEW: "nieuw", SupportState.REQUESTED: "gevraagd",
                          SupportState.PLANNED: "gepland", SupportState.DONE: "gegeven",
                          SupportState.CANCELLED: "vervallen"}


@dataclass(frozen=True)
class SupportEvent:
    """One change of a support activity: the day it happened (``on``), when it was recorded and by whom."""

    support_id: str
    seq: int
    trigger: SupportTrigger
    from_state: SupportState
    to_state: SupportState
    on: date
    recorded_at: datetime
    actor: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SupportView:
    """Where a support activity stands: the fold of its events."""

    id: str
    agb_code: str = ""
    kind: SupportKind | None = None
    status: SupportState = SupportState.NEW
    version: int = 0
    requested_on: date | None = None  # the day the practice asked (or a report named the need)
    planned_on: date | None = None  # the day it is planned for (the latest plan)
    done_on: date | None = None  # the day it was given
    half_days: float | None = None  # how much was given, in half-days (dagdelen)
    by: str | None = None  # who gives it: a coach, the lung-function analyst, a kaderhuisarts
    agreement: str | None = None  # the agreement it follows up, when it does
    outcome: str | None = None  # what it brought, as the officer recorded it
    note: str | None = None  # why it was asked
    cancel_reason: str | None = None  # why it is no longer given

    def apply(self, event: SupportEvent) -> SupportView:
        d = event.details
        view = replace(self, status=event.to_state, version=event.seq)
        if event.trigger is SupportTrigger.REQUEST:
            return replace(view, agb_code=d["agb_code"], kind=SupportKind(d["kind"]), requested_on=event.on,
                           agreement=d.get("agreement"), note=d.get("note"))
        if event.trigger is SupportTrigger.PLAN:
            return replace(view, planned_on=event.on, by=d.get("by") or self.by)
        if event.trigger is SupportTrigger.COMPLETE:
            return replace(view, done_on=event.on, half_days=d.get("half_days"), outcome=d.get("outcome"))
        return replace(view, cancel_reason=d.get("reason"))
