"""The POH meetings and practice-manager meetings as they happen (seed section 4): topics officers add to the
agenda (sent with the invitation, besides the seed's three themes), a meeting moved to another day, a meeting held
with who came and its minutes, and each practice's attendance per year.

Invariants:
- Every change is an event of the meeting's lifecycle (``statemachines.meeting``) stored with its projection, in
  the same transaction as what it does to the meeting's obligation: a move reschedules it (what was queued for the
  old day withdrawn, the invitation re-sent on the same calendar entry with a higher SEQUENCE), holding it closes it
  as done. A meeting is done when it is held, not when its date passes.
- Attendance names practices and people of the registry; minutes and topics never hold patient data; a day in the
  future is refused for what has happened (holding), a day in the past for where a meeting goes (moving). A refusal
  stores nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from domain.clock import as_amsterdam, future_fact
from domain.errors import InFutureError, NotFoundError
from domain.inputs import check_date, check_minutes, check_text, checked
from domain.meetings import Attendance, MeetingTrigger, MeetingView, attendance
from domain.obligations import MEETING_KINDS, ObligationStatus
from domain.registry import Practice
from domain.rules.attendance import MEETING_ROLES
from flows.services.context import Services, UnknownPracticeError
from flows.services.duties import DutyReport
from flows.services.planning import sync_meetings
from statemachines.meeting import fire, replay
from storage import meetings as store
from storage import obligations as obligation_store
from storage import repository as repo
from storage.read_models import StoredObligation


class UnknownMeetingError(NotFoundError):
    """A meeting key that is not one of the care group's planned meetings."""


class UnknownAttendeeError(NotFoundError):
    """Attendance of a person who is not one of the practice's people in the registry."""


class MeetingDayError(InFutureError):
    """A meeting held on a day to come, or moved to a day gone by or not a working day."""


def check_attendees(s: Session, attended: Sequence[tuple[str, str]]) -> None:
    """Every ``(agb_code, name)`` is a person of a practice of the registry (a meeting's, a network meeting's), or
    the refusal names the first that is not."""
    practices = {p.agb_code: p for p in repo.practices_of(s, sorted({agb for agb, _ in attended}))}
    for agb, name in attended:
        practice = practices.get(agb)
        if practice is None:
            raise UnknownPracticeError(agb)
        if name not in {p.name for p in practice.people}:
            known = ", ".join(sorted(p.name for p in practice.people)) or "geen"
            raise UnknownAttendeeError(f"--attended {agb}:{name}: niet bekend bij {practice.name} (bekend: "
                                       f"{known}); er is niets vastgelegd")


def _row(s: Session, key: str) -> StoredObligation:
    """The meeting's duty: planned, or held (then its lifecycle refuses what a held meeting cannot take); a meeting
    no longer owed (the policy has fewer a year) is not known."""
    rows = [r for r in obligation_store.obligations(s, kinds=MEETING_KINDS) if r.key == key]
    if not rows or rows[0].status == "cancelled":
        state = f" (het is {rows[0].status})" if rows else ""
        raise UnknownMeetingError(f"overleg {key} is niet bekend of niet meer gepland{state}; zie qualitycycle "
                                  "meeting")
    return rows[0]


def _change(s: Session, row: StoredObligation, trigger: MeetingTrigger, on: date, now: datetime, actor: str,
            details: dict[str, object]) -> MeetingView:
    view = store.load(s, row.key) or MeetingView(key=row.key, kind=row.kind)
    event = fire(view, trigger, on=on, recorded_at=now, actor=actor, details={"kind": row.kind, **details})
    view = view.apply(event)
    store.append(s, event, view)
    return view


def add_topic(services: Services, key: str, topic: str, now: datetime, actor: str) -> MeetingView:
    """A topic an officer puts on a meeting's agenda (sent with its invitation, besides the seed's three themes)."""
    topic = checked(check_text, topic, "--topic")
    now = as_amsterdam(now)
    with services.transaction() as s:
        return _change(s, _row(s, key), MeetingTrigger.ADD_TOPIC, now.date(), now, actor, {"topic": topic})


def move_meeting(services: Services, key: str, to: date, reason: str, now: datetime, actor: str) -> MeetingView:
    """Move a planned meeting to another working day, with the reason; the invited hear of it (the same calendar
    entry, a higher SEQUENCE)."""
    checked(check_date, to, "--to")
    reason = checked(check_text, reason, "--reason")
    now = as_amsterdam(now)
    services = services.in_force(now)
    if to <= now.date():
        raise MeetingDayError(f"--to: {to.isoformat()} is al voorbij of vandaag; een overleg verplaatst naar een dag "
                              "die nog komt; er is niets vastgelegd")
    if not services.calendar.is_working_day(to):
        why = services.calendar.holiday_name(to) or "geen werkdag"
        raise MeetingDayError(f"--to: {to.isoformat()} is geen werkdag ({why}); er is niets vastgelegd")
    with services.transaction() as s:
        view = _change(s, _row(s, key), MeetingTrigger.MOVE, now.date(), now, actor,
                       {"to": to.isoformat(), "reason": reason})
        sync_meetings(s, services, DutyReport("plan_meetings", now), now, actor, f"verplaatst: {reason}")
        return view


def hold_meeting(services: Services, key: str, on: date, attended: Sequence[tuple[str, str]], now: datetime,
                 actor: str, *, minutes: str | None = None) -> MeetingView:
    """Record that a meeting was held on ``on``, who of which practice came (``(agb_code, name)``) and its
    minutes; the meeting is done."""
    checked(check_date, on, "--on")
    future = future_fact("overleg op", on, as_amsterdam(now).date(), "leg het vast op of na die dag")
    if future:
        raise MeetingDayError(future)
    minutes = checked(check_minutes, minutes, "--minutes") if minutes else None
    now = as_amsterdam(now)
    with services.transaction() as s:
        row = _row(s, key)
        check_attendees(s, attended)
        view = _change(s, row, MeetingTrigger.HOLD, on, now, actor,
                       {"attended": [{"agb_code": agb, "name": name} for agb, name in attended],
                        **({"minutes": minutes} if minutes else {})})
        obligation_store.close(s, row, ObligationStatus.DONE, on, now=now, actor=actor,
                               reason=f"gehouden op {on.isoformat()}")
        return view


@dataclass(frozen=True)
class MeetingLine:
    """A meeting as officers see it: its duty on the calendar and what happened to it."""

    key: str
    kind: str
    day: date
    status: str  # open (planned), done (held), cancelled
    topics: tuple[str, ...]
    held_on: date | None
    attended: int


def meetings(services: Services, year: int) -> list[MeetingLine]:
    """The year's POH and practice-manager meetings, by day."""
    with services.session() as s:
        rows = [r for r in obligation_store.obligations(s, kinds=MEETING_KINDS) if r.due_on.year == year]
        views = store.load_many(s, [r.key for r in rows])
    out = []
    for r in rows:
        v = views.get(r.key)
        out.append(MeetingLine(r.key, r.kind, r.planned_on or r.due_on, r.status, v.topics if v else (),
                               v.held_on if v else None, len(v.attended) if v else 0))
    return sorted(out, key=lambda m: (m.day, m.kind))


def practice_attendance(services: Services, year: int, agb_code: str | None = None, *,
                        until: date | None = None, registry: Sequence[Practice] | None = None) -> list[Attendance]:
    """Each practice's attendance of the meetings held in ``year`` (by ``until``, when given) it was invited to (it
    has people in the meeting's roles). ``registry``: every practice, as the caller read them (else read here)."""
    with services.session() as s:
        practices = list(registry) if registry is not None and agb_code is None else \
            repo.practices_of(s, [agb_code] if agb_code else None)
        if agb_code is not None and not practices:
            raise UnknownPracticeError(agb_code)
        views = store.load_many(s).values()
    invited = {p.agb_code: frozenset(kind.value for kind in MEETING_KINDS
                                     if any(person.role in MEETING_ROLES[kind] for person in p.people))
               for p in practices}
    return attendance(views, invited, year, until)


def replay_meeting(services: Services, key: str) -> tuple[MeetingView | None, MeetingView]:
    """A meeting's stored projection and the one its events rebuild."""
    with services.session() as s:
        return store.load(s, key), replay(key, store.events(s, key))

