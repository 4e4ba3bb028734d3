"""The support the care group gives a practice as tracked work: requested, planned, done or cancelled, each
change an event (``statemachines.support``), each recording taking the day it happened and the moment it is
recorded.

Invariants:
- A support activity's id is derived from what was asked (practice, kind, day, agreement): the same request
  recorded twice is one activity.
- A change the activity cannot take (done before planned, planned before requested, anything after done or
  cancelled) is refused with what can happen instead, and nothing is stored.
- A day in the future is refused: a fact is recorded once it has happened (a plan's day may lie ahead).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from domain.clock import as_amsterdam, future_fact
from domain.errors import InFutureError, NotFoundError
from domain.inputs import check_date, check_name, check_text, checked
from domain.messages import NAMESPACE
from domain.support import SupportEvent, SupportTrigger, SupportView
from domain.vocabulary import SupportKind
from flows.services.context import Services, UnknownPracticeError
from statemachines.support import fire, replay
from storage import repository as repo
from storage import support as store


class UnknownSupportError(NotFoundError):
    """A support activity (or an agreement it names) that is not known."""


class SupportInFutureError(InFutureError):
    """A support activity requested, done or cancelled on a day that has not come."""


def support_id(agb_code: str, kind: SupportKind, on: date, agreement: str | None) -> str:
    return uuid.uuid5(NAMESPACE, f"support:{agb_code}:{kind.value}:{on.isoformat()}:{agreement or ''}").hex[:12]


def _not_in_future(on: date, now: datetime, what: str) -> None:
    checked(check_date, on, what)
    future = future_fact(f"{what} op", on, as_amsterdam(now).date(), "leg het vast op of na die dag")
    if future:
        raise SupportInFutureError(future)


def request_in(s: Session, agb_code: str, kind: SupportKind, on: date, recorded_at: datetime, actor: str, *,
               agreement: str | None = None, note: str | None = None) -> SupportView:
    """Record a request in the caller's transaction (a report's support needs become requests this way); the same
    request again changes nothing."""
    key = support_id(agb_code, kind, on, agreement)
    known = store.load(s, key)
    if known is not None:
        return known
    view = SupportView(id=key)
    details: dict[str, Any] = {"agb_code": agb_code, "kind": kind.value}
    if agreement:
        details["agreement"] = agreement
    if note:
        details["note"] = note
    event = fire(view, SupportTrigger.REQUEST, on=on, recorded_at=recorded_at, actor=actor, details=details)
    view = view.apply(event)
    store.append(s, event, view)
    return view


def request_support(services: Services, agb_code: str, kind: SupportKind, on: date, now: datetime, actor: str, *,
                    agreement: str | None = None, note: str | None = None) -> SupportView:
    """A practice asks for (or is offered) support of ``kind`` on ``on``; linked to an agreement when it follows
    one up."""
    _not_in_future(on, now, f"aanvraag van {kind.value}")
    note = checked(check_text, note, "--note") if note else None
    with services.transaction() as s:
        if not repo.is_registered(s, agb_code):
            raise UnknownPracticeError(agb_code)
        if agreement is not None and agreement not in {a.id for a in repo.agreements_of(s, agb_code)}:
            raise UnknownSupportError(f"afspraak {agreement} is niet bekend bij praktijk {agb_code}")
        return request_in(s, agb_code, kind, on, as_amsterdam(now), actor, agreement=agreement, note=note)


def _change(services: Services, key: str, trigger: SupportTrigger, on: date, now: datetime, actor: str,
            details: dict[str, Any]) -> SupportView:
    with services.transaction() as s:
        view = store.load(s, key)
        if view is None:
            raise UnknownSupportError(f"ondersteuning {key} is niet bekend (qualitycycle support list)")
        event = fire(view, trigger, on=on, recorded_at=as_amsterdam(now), actor=actor, details=details)
        view = view.apply(event)
        store.append(s, event, view)
        return view


def plan_support(services: Services, key: str, on: date, now: datetime, actor: str, *, by: str | None = None
                 ) -> SupportView:
    """Plan a requested support activity on a day (again, when it moves), by whom."""
    checked(check_date, on, "--on")
    details = {"by": checked(check_name, by, "--by")} if by else {}
    return _change(services, key, SupportTrigger.PLAN, on, now, actor, details)


def complete_support(services: Services, key: str, on: date, now: datetime, actor: str, *,
                     half_days: float | None = None, outcome: str | None = None) -> SupportView:
    """Record that a planned support activity was given: on which day, how many half-days, with what outcome."""
    _not_in_future(on, now, "afronding van ondersteuning")
    details: dict[str, Any] = {}
    if half_days is not None:
        details["half_days"] = half_days
    if outcome:
        details["outcome"] = checked(check_text, outcome, "--outcome")
    return _change(services, key, SupportTrigger.COMPLETE, on, now, actor, details)


def cancel_support(services: Services, key: str, reason: str, now: datetime, actor: str) -> SupportView:
    """A requested or planned support activity no longer given, and why (the day it is recorded)."""
    return _change(services, key, SupportTrigger.CANCEL, as_amsterdam(now).date(), now, actor,
                   {"reason": checked(check_text, reason, "--reason")})


def supports(services: Services, agb_code: str | None = None) -> list[SupportView]:
    """The support activities of a practice (or of all)."""
    with services.session() as s:
        if agb_code is not None and not repo.is_registered(s, agb_code):
            raise UnknownPracticeError(agb_code)
        return store.of_practice(s, agb_code)


@dataclass(frozen=True)
class SupportReplay:
    """A support activity rebuilt from its events, beside its stored projection."""

    stored: SupportView | None
    rebuilt: SupportView
    events: list[SupportEvent]

    @property
    def agrees(self) -> bool:
        return self.stored == self.rebuilt


def replay_support(services: Services, key: str) -> SupportReplay:
    with services.session() as s:
        stored, events = store.load(s, key), store.events(s, key)
    return SupportReplay(stored, replay(key, events), events)
