"""Planning every practice's open duties (start, annual and extra conversations, instruction kits, mandatory
courses, the checklist of its own quality system and its NHG accreditation) and the care group's meetings, in line
with the facts, the policy and the working calendar.

Invariants:
- New duties are planned, moved ones rescheduled with the reason (and what was queued for the old day
  withdrawn), met ones closed as done, ones no longer owed cancelled with the reason.
- Idempotent per moment: deterministic keys and version-guarded updates; two planners at once do not
  double-plan, the loser does nothing and the next sweep plans its practices again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from domain.clock import as_amsterdam
from domain.obligations import (
    MEETING_KINDS,
    Obligation,
    ObligationKind,
    ObligationStatus,
    PracticeFacts,
    basis_change_reason,
    fulfilled_on,
    meeting_obligations,
    next_notice_on,
    practice_obligations,
)
from domain.registry import Practice
from domain.vocabulary import date_nl, state_nl
from flows.services.context import ENGINE_ACTOR, Services
from flows.services.due_notices import queue_notices
from flows.services.duties import DEFAULT_BATCH, DutyReport, ReviewBasis, day_of, finish_duty, practice_batches
from notifications.compose import CONVERSATION_OF
from storage import courses as course_store
from storage import meetings as meeting_store
from storage import obligations as store
from storage import quality_system as quality_store
from storage import repository as repo
from storage import review
from storage.read_models import StoredObligation

PRACTICE_KINDS = frozenset(ObligationKind) - MEETING_KINDS - {ObligationKind.MIRROR_MEETING,  # a GP group's
                                                              ObligationKind.NETWORK_PLAN_EVALUATION}


def _facts(s: Session, practices: Sequence[Practice], rows: Sequence[StoredObligation], on: date
           ) -> dict[str, PracticeFacts]:
    codes = [p.agb_code for p in practices]
    views = repo.load_views(s, codes)
    starts = store.start_conversations(s, codes, on)
    kits = store.kit_refreshes(s, codes, on)
    courses = store.course_completions(s, codes, on)
    moves = store.conversation_moves(s, codes, on)
    checklists = quality_store.latest_checklists(s, codes, on)
    accreditations = quality_store.accreditations(s, codes, on)
    first: dict[str, dict[str, date]] = {}
    for r in rows:
        first.setdefault(r.agb_code or "", {})[r.key] = day_of(r.created_at)
    out = {}
    for p in practices:
        view = views.get(p.agb_code) or repo.load_view(s, p.agb_code)
        out[p.agb_code] = PracticeFacts(
            agb_code=p.agb_code, view=view, programmes=p.programmes,
            people=tuple((person.name, person.role) for person in p.people),
            start_conversations=starts.get(p.agb_code, {}), kit_refreshes=kits.get(p.agb_code, {}),
            course_completions=courses.get(p.agb_code, {}),
            first_planned=first.get(p.agb_code, {}), moves=moves.get(p.agb_code, {}),
            last_checklist_on=checklists[p.agb_code].filled_on if p.agb_code in checklists else None,
            accreditation=accreditations.get(p.agb_code))
    return out


def _notices_after_reschedule(row: StoredObligation, wanted: Obligation) -> list[str]:
    """Which queued notices still hold once the dates move: a new day needs a new invitation and reminder,
    a new due date a new overdue notice or kit/course notice."""
    keep = set(row.notices_done)
    if wanted.planned_on != row.planned_on:
        keep -= {"invitation", "reminder"}
    if wanted.due_on != row.due_on:
        keep -= {"overdue", "notice"}
    return sorted(keep)


def _withdrawn_prefixes(row: StoredObligation, wanted: Obligation) -> list[str]:
    """Keys of the messages a move makes wrong: invitations and reminders for the old day."""
    if row.planned_on is None or wanted.planned_on == row.planned_on:
        return []
    old = row.planned_on.isoformat()
    if row.kind in {k.value for k in MEETING_KINDS}:
        return [f"meeting_invitation:{row.kind}:{old}:"]
    kind = CONVERSATION_OF[ObligationKind(row.kind)].value
    return [f"conversation_{stage}:{row.agb_code}:{kind}:{old}:" for stage in ("invitation", "reminder")]


def _sync(s: Session, services: Services, rows: Sequence[StoredObligation], desired: dict[str, Obligation],
          facts: dict[str, PracticeFacts], report: DutyReport, now: datetime, actor: str, reason: str | None,
          on: date, create_before: date | None = None, held: Mapping[str, date] | None = None) -> set[str]:
    """Bring stored open obligations in line with the desired ones: close met ones, reschedule moved ones
    (and withdraw what was queued for the old day), cancel ones no longer owed, add new ones.

    Returns the practices (``""`` for the care group's meetings) with an update that another writer beat:
    the row changed under us (a notice queued, another planner), so this planning is not complete for
    them and they must not be recorded as planned; the next sweep plans them again."""
    policy = services.policy
    lost: set[str] = set()
    for row in rows:
        ob = row.obligation
        met = (held or {}).get(row.key) if ob.kind in MEETING_KINDS else fulfilled_on(ob, facts.get(row.agb_code or ""),
                                                                                       on)
        if met is not None:  # checked first: a held meeting is still "desired" by this year's plan
            desired.pop(row.key, None)
            if store.close(s, row, ObligationStatus.DONE, met, now=now, actor=actor,
                           reason=f"voldaan op {met.isoformat()}"):
                report.done += 1
            else:
                lost.add(row.agb_code or "")
            continue
        want = desired.pop(row.key, None)
        if want is not None:
            if (want.due_on, want.planned_on, dict(want.basis)) == (row.due_on, row.planned_on, row.basis):
                continue
            if want.kind in MEETING_KINDS and want.due_on < on:
                continue  # a coming meeting is never moved into the past (a new count per year mid-year)
            why = basis_change_reason(row.basis, want.basis) + (f"; {reason}" if reason else "")
            done = _notices_after_reschedule(row, want)
            notice_on = next_notice_on(want, policy, frozenset(done))
            if (want.due_on, want.planned_on, notice_on) == (row.due_on, row.planned_on, row.next_notice_on):
                if not store.refresh_basis(s, row, want, now):  # the rule's inputs changed, its dates did not
                    lost.add(row.agb_code or "")
                continue
            old_due, withdrawn = row.due_on, _withdrawn_prefixes(row, want)
            if store.reschedule(s, row, want, notices_done=done, next_notice_on=notice_on,
                                now=now, actor=actor, reason=why):
                store.withdraw_messages(s, withdrawn, f"vervangen: verplaatst naar {want.planned_on}")
                report.rescheduled += 1
                report.line(row.agb_code or "zorggroep", f"{want.title_nl} verplaatst",
                            f"{date_nl(old_due)} -> {date_nl(want.due_on)}: {why}")
            else:
                lost.add(row.agb_code or "")
            continue
        view = facts[row.agb_code].view if row.agb_code in facts else None
        why = (f"niet meer verschuldigd: traject staat op {state_nl(view.state.value)}" if view is not None
               else "niet meer verschuldigd volgens beleid en kalender")
        if reason:
            why += f"; {reason}"
        if store.close(s, row, ObligationStatus.CANCELLED, on, now=now, actor=actor, reason=why):
            report.cancelled += 1
            report.line(row.agb_code or "zorggroep", f"{ob.title_nl} vervallen", why)
        else:
            lost.add(row.agb_code or "")
    fresh = [o for o in desired.values() if create_before is None or o.due_on >= create_before]
    next_notice = {o.key: next_notice_on(o, policy, frozenset()) for o in fresh}
    added = set(store.add_obligations(s, fresh, next_notice=next_notice, now=now, actor=actor,
                                      reason=reason or "gepland"))
    report.planned += len(added)
    for o in fresh:
        if o.key in added and len(report.lines) < 2000:
            report.line(o.agb_code or "zorggroep", f"{o.title_nl} gepland",
                        f"uiterlijk {date_nl(o.due_on)}" + (f", op {date_nl(o.planned_on)}" if o.planned_on else ""))
    return lost




@dataclass(frozen=True)
class DutiesRead:
    """What a planner read of a batch of practices: their open duties, their facts and the duties the rules say
    they owe on ``on``; practices whose dates could not be planned are in ``failed`` with why (Dutch)."""

    on: date
    practices: list[Practice]
    rows: list[StoredObligation]
    facts: dict[str, PracticeFacts]
    desired: dict[str, Obligation]
    failed: dict[str, str]


def read_duties(s: Session, services: Services, codes: Sequence[str], on: date) -> DutiesRead:
    """Read what planning the practices ``codes`` on ``on`` starts from (the first half of ``plan_batch``)."""
    practices = repo.practices_of(s, list(codes))
    rows = store.open_obligations(s, kinds=PRACTICE_KINDS, agb_codes=list(codes))
    # a course never completed counts from the day it was first planned, also once closed and replanned
    facts = _facts(s, practices, rows, on)
    courses = course_store.current(s)
    desired: dict[str, Obligation] = {}
    failed: dict[str, str] = {}
    for p in practices:  # one practice's impossible dates must not leave the others unplanned
        try:
            desired.update((o.key, o) for o in practice_obligations(facts[p.agb_code], services.policy,
                                                                     services.calendar, on, courses=courses))
        except (ValueError, OverflowError) as exc:
            failed[p.agb_code] = (f"praktijk {p.agb_code}: taken niet te plannen ({exc}); "
                                  "controleer de data van de praktijk in het register")
    return DutiesRead(on, practices, [r for r in rows if r.agb_code not in failed], facts, desired, failed)


def apply_duties(s: Session, services: Services, read: DutiesRead, report: DutyReport, now: datetime,
                 actor: str, reason: str | None = None) -> set[str]:
    """Bring the stored duties in line with ``read`` in the caller's transaction (the second half of
    ``plan_batch``). Returns the practices not completely planned: their dates failed, or another writer changed
    one of their duties since ``read`` (the next sweep plans them again)."""
    report.failures.extend(read.failed.items())
    return _sync(s, services, read.rows, dict(read.desired), read.facts, report, now, actor, reason, read.on) \
        | set(read.failed)


def plan_batch(services: Services, now: datetime, codes: Sequence[str], *, actor: str = ENGINE_ACTOR,
               reason: str | None = None, basis: ReviewBasis | None = None) -> DutyReport:
    """Plan one batch of practices' duties in one transaction, and record them as planned under ``basis``
    (so a sweep skips them until a fact of theirs, the policy or the calendar changes)."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    report = DutyReport("plan_obligations", now)
    if not codes:
        return report
    basis = basis or ReviewBasis.load(services)
    with services.transaction() as s:
        stamps = review.stamps(s, list(codes))  # before the facts they stamp
        read = read_duties(s, services, codes, now.date())
        report.practices = len(read.practices)
        lost = apply_duties(s, services, read, report, now, actor, reason)
        review.mark_planned(s, {p.agb_code: stamps.get(p.agb_code, (0, 0)) for p in read.practices
                                if p.agb_code not in lost}, basis.planning)
    return report


def plan_obligations(services: Services, now: datetime, *, actor: str = ENGINE_ACTOR, reason: str | None = None,
                     batch_size: int = DEFAULT_BATCH) -> DutyReport:
    """Plan every practice's duties, whether or not anything changed (the operator's ``qualitycycle plan``);
    after a change of calendar or policy, ``reason`` says why."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    report = DutyReport("plan_obligations", now)
    basis = ReviewBasis.load(services)
    for codes in practice_batches(services, batch_size):
        report.merge(plan_batch(services, now, codes, actor=actor, reason=reason, basis=basis))
    return finish_duty(services, report, actor)




def plan_meetings(services: Services, now: datetime, *, actor: str = ENGINE_ACTOR, reason: str | None = None
                  ) -> DutyReport:
    """Plan this year's and next year's POH and practice-manager meetings, close held ones, invite."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    on = now.date()
    report = DutyReport("plan_meetings", now)
    with services.transaction() as s:
        sync_meetings(s, services, report, now, actor, reason)
        due = store.notices_due(s, on, kinds=MEETING_KINDS)
        queue_notices(s, services, due, report, now)
    return finish_duty(services, report, actor)


def sync_meetings(s: Session, services: Services, report: DutyReport, now: datetime, actor: str,
                  reason: str | None = None) -> None:
    """Bring the stored meetings of last, this and next year in line with the policy, the calendar and what
    happened to them (``domain.meetings``: moved, held), in the caller's transaction: a meeting held is done, a
    moved one is rescheduled (its invitation re-sent on the same calendar entry), none is created in the past."""
    on = now.date()
    rows = store.open_obligations(s, kinds=MEETING_KINDS)
    happened = meeting_store.load_many(s, [r.key for r in rows])
    moves = {k: v.moved_to for k, v in happened.items() if v.moved_to is not None}
    held = {k: v.held_on for k, v in happened.items() if v.held_on is not None}
    desired = {o.key: o for year in (on.year - 1, on.year, on.year + 1)
               for o in meeting_obligations(year, services.policy, services.calendar, moves)}
    _sync(s, services, rows, desired, {}, report, now, actor, reason, on, create_before=on, held=held)
