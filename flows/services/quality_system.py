"""The practice's own quality system (seed 003): recording its yearly checklist, its NHG accreditation and its peer
review group, and reading them back (per practice, and as one line for ``status``).

Invariants:
- A checklist is recorded once it has been filled in (``on`` not after today), for a practice the register knows;
  the same checklist recorded again changes nothing, another one for the same day is refused (the first stands).
- An audit is recorded once it has happened; an accreditation's ``valid_until`` lies ahead or not, as it is.
- A refusal stores nothing; a recording plans the practice's duties again at once (the checklist's or
  accreditation's duty closes, the next one opens).
- Nothing here reads the clock: ``now`` and ``actor`` come from the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from domain.clock import as_amsterdam, future_fact
from domain.errors import ConflictError, InFutureError
from domain.inputs import check_date, checked
from domain.quality_system import (
    Accreditation,
    Checklist,
    FilledChecklist,
    PeerReviewGroup,
    check_accreditation,
    summary_nl,
)
from flows.services.context import Services, UnknownPracticeError
from storage import quality_system as store
from storage import repository as repo


class QualitySystemInFutureError(InFutureError):
    """A checklist filled in, or an audit held, after the moment it is recorded."""


class ChecklistConflictError(ConflictError):
    """Another checklist for a practice and day that already has one: the first stands."""


def _practice_or_raise(s: Session, agb_code: str) -> None:
    if repo.get_practice(s, agb_code) is None:
        raise UnknownPracticeError(agb_code)


def _past(day: date, now: datetime, what: str, option: str) -> None:
    checked(check_date, day, option)
    future = future_fact(f"{option}: {what} op", day, as_amsterdam(now).date(), "leg het vast op of na die dag; "
                         "er is niets vastgelegd")
    if future:
        raise QualitySystemInFutureError(future)


def _replan(services: Services, agb_code: str, now: datetime, actor: str) -> None:
    from flows.services.planning import plan_batch  # the planner and what it loads: only when a fact is written

    plan_batch(services, now, [agb_code], actor=actor)


def record_checklist(services: Services, agb_code: str, on: date, checklist: Checklist, now: datetime,
                     actor: str) -> FilledChecklist:
    """Store a practice's checklist filled in on ``on``; its checklist duty is met and the next one planned."""
    _past(on, now, "checklist ingevuld", "--on")
    now = as_amsterdam(now)
    with services.transaction() as s:
        _practice_or_raise(s, agb_code)
        stored = store.checklist_on(s, agb_code, on)
        if stored is not None:
            if stored.checklist != checklist:
                raise ChecklistConflictError(
                    f"--on {on.isoformat()}: praktijk {agb_code} heeft voor die dag al een andere checklist; de "
                    "eerder vastgelegde blijft staan, er is niets vastgelegd")
            return stored
        store.add_checklist(s, agb_code, on, checklist, now, actor)
    _replan(services, agb_code, now, actor)
    return FilledChecklist(agb_code, on, checklist)


def record_accreditation(services: Services, agb_code: str, accreditation: Accreditation, now: datetime,
                         actor: str) -> Accreditation:
    """Store a practice's NHG accreditation (valid until, last audit); its renewal and audit are planned from it."""
    checked(check_date, accreditation.valid_until, "--valid-until")
    if accreditation.audited_on is not None:
        _past(accreditation.audited_on, now, "NHG-audit", "--audited-on")
    check_accreditation(accreditation)
    now = as_amsterdam(now)
    with services.transaction() as s:
        _practice_or_raise(s, agb_code)
        store.add_accreditation(s, agb_code, accreditation, now, actor)
    _replan(services, agb_code, now, actor)
    return accreditation


def record_peer_review(services: Services, agb_code: str, group: PeerReviewGroup, now: datetime,
                       actor: str) -> PeerReviewGroup:
    """Store the peer review group a practice's GPs take part in, and its EKC if one leads it."""
    with services.transaction() as s:
        _practice_or_raise(s, agb_code)
        store.add_peer_review(s, agb_code, group, as_amsterdam(now), actor)
    return group


@dataclass(frozen=True)
class QualitySystem:
    """A practice's own quality system as it stands: its latest checklist, accreditation and peer review group."""

    agb_code: str
    checklist: FilledChecklist | None
    accreditation: Accreditation | None
    peer_review: PeerReviewGroup | None

    @property
    def line_nl(self) -> str:
        return summary_nl(self.checklist, self.accreditation, self.peer_review)


def quality_systems(services: Services, agb_code: str | None = None) -> list[QualitySystem]:
    """Per practice (or the one), its latest checklist, accreditation and peer review group, by AGB code."""
    with services.session() as s:
        if agb_code is not None:
            _practice_or_raise(s, agb_code)
        codes = [agb_code] if agb_code is not None else [p.agb_code for p in repo.practices(s)]
        checklists = store.latest_checklists(s, codes)
        accreditations = store.accreditations(s, codes)
        groups = store.peer_review_groups(s, codes)
    return [QualitySystem(code, checklists.get(code), accreditations.get(code), groups.get(code))
            for code in sorted(codes)]
