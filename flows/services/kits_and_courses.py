"""Instruction kits and mandatory courses: their two-yearly refresh and notices, and recording a refresh or a
course completed.

Invariants:
- A refresh or completion is recorded once it has happened, for a practice, person and course the register and
  policy know; the practice's duties are planned again from it at once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from domain.clock import as_amsterdam, future_fact
from domain.errors import InFutureError, NotFoundError
from domain.inputs import check_date, checked
from domain.obligations import KitKind, ObligationKind
from domain.registry import Practice
from flows.services.context import ENGINE_ACTOR, Services, UnknownPracticeError
from flows.services.due_notices import queue_due_notices
from flows.services.duties import DEFAULT_BATCH, DutyReport, ReviewBasis, finish_duty, in_batches, practice_batches
from flows.services.planning import plan_batch
from storage import courses as course_store
from storage import obligations as store
from storage import repository as repo
from storage import review


def refresh_kits(services: Services, now: datetime, *, actor: str = ENGINE_ACTOR,
                 batch_size: int = DEFAULT_BATCH, full: bool = False) -> DutyReport:
    """Plan the duties of practices whose facts changed (``full``: of every practice; the kits among them,
    by ``plan_obligations``' rules) and notify the practices whose kits fall due for their two-yearly
    refresh."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    report = DutyReport("refresh_kits", now)
    basis = ReviewBasis.load(services)
    if full:
        batches = practice_batches(services, batch_size)
    else:
        with services.session() as s:
            batches = in_batches(review.due_for_planning(s, basis.planning), batch_size)
    for codes in batches:
        report.merge(plan_batch(services, now, codes, actor=actor, basis=basis))
    queue_due_notices(services, now, [ObligationKind.INSTRUCTION_KIT], report)
    report.duty = "refresh_kits"
    return finish_duty(services, report, actor)


def _practice_or_raise(s: Session, agb_code: str) -> Practice:
    practice = repo.get_practice(s, agb_code)
    if practice is None:
        raise UnknownPracticeError(agb_code)
    return practice


def _not_in_future(on: date, now: datetime, what: str) -> None:
    checked(check_date, on, what)
    future = future_fact(f"{what} op", on, as_amsterdam(now).date(), "leg het vast op of na die dag")
    if future:
        raise RecordedInFutureError(future)


def record_kit_refresh(services: Services, agb_code: str, kit: KitKind, on: date, now: datetime, actor: str) -> bool:
    """Record that a practice's instruction kit was refreshed; its next refresh is planned from it."""
    _not_in_future(on, now, f"actualisatie van de koffer {kit.value}")
    with services.transaction() as s:
        _practice_or_raise(s, agb_code)
        new = store.record_kit_refresh(s, agb_code, kit, on, as_amsterdam(now), actor)
    plan_batch(services, now, [agb_code], actor=actor)
    return new


def record_course_completion(services: Services, agb_code: str, person: str, course: str, on: date, now: datetime,
                             actor: str) -> bool:
    """Record that a person of a practice completed a course of the catalogue (a mandatory one meets its duty)."""
    _not_in_future(on, now, f"scholing {course} van {person}")
    services = services.in_force(on)
    with services.transaction() as s:
        practice = _practice_or_raise(s, agb_code)
        if not any(p.name == person for p in practice.people):
            raise UnknownPersonError(f"{person} staat niet in het register van praktijk {agb_code}")
        catalogue = course_store.current(s)
        if not any(c.code == course for c in catalogue):
            codes = ", ".join(c.code for c in catalogue)
            raise UnknownCourseError(f"scholing {course!r} staat niet in de catalogus; bekend zijn: {codes}")
        new = store.record_course_completion(s, agb_code, person, course, on, as_amsterdam(now), actor)
    plan_batch(services, now, [agb_code], actor=actor)
    return new


class UnknownPersonError(NotFoundError):
    """A person the practice's register does not know."""


class UnknownCourseError(UnknownPersonError):
    """A course the policy's mandatory courses do not know (a subclass: one refusal for the CLI)."""


class RecordedInFutureError(InFutureError):
    """A refresh or completion is recorded once it has happened, not before."""
