"""Obligations: every recurring duty of the quality cycle as data, with its due date on a working day.

A duty is an ``Obligation``: a start, annual or extra conversation due for a practice (seed section
1), a POH meeting or practice-manager meeting on a date (section 4, 4-6 a year each), the two-yearly
refresh of a practice's instruction kits (section 3), a mandatory course due for a person in a role
(section 4), the yearly checklist of a practice's own quality system before its annual conversation and its NHG
accreditation's renewal and three-yearly audit (seed 003). The domain computes them from facts (the trajectory,
conversations held, kits refreshed, courses completed, checklists filled in) and the working calendar; storage
keeps them as rows; the sweep turns them into messages on their notice dates (``notice_stages``).

Invariants:
- A key names the duty and what it counts from (its *anchor*): the same facts give the same keys, so
  planning twice is a no-op, and a duty whose anchor moves (a conversation held) is a new row.
- Due dates are working days: a duty due *within* a span is pulled back to the last working day on
  or before the span's end. A planned date (conversation, meeting) is a working day as well.
- ``basis`` holds every input of the date rule except the anchor (spans, weekday, the calendar's
  fingerprint, an officer's move). When a recomputation moves a date, the difference of the bases is recorded
  as why.
- A conversation an officer moved (``PracticeFacts.moves``, ``check_move``) is set for the day it was moved to;
  its due date stays the rule's. A move past the due date is allowed, but the duty is then late all the same:
  the overdue notice still goes out the day after the due date (the seed's twelve months do not stretch because a
  day was moved).
- Nothing here reads the clock: the day of planning is an argument.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from dateutil.relativedelta import relativedelta

from domain.calendar import WorkingCalendar
from domain.courses import Course, mandatory
from domain.errors import InputError
from domain.policy import Policy
from domain.quality_system import Accreditation, audit_due, checklist_due
from domain.registry import Programme, Role
from domain.trajectory import TrajectoryState, TrajectoryView
from domain.vocabulary import KIT_SHORT_NAMES_NL, date_nl


class ObligationKind(StrEnum):
    START_CONVERSATION = "start_conversation"
    ANNUAL_CONVERSATION = "annual_conversation"
    EXTRA_CONVERSATION = "extra_conversation"
    POH_MEETING = "poh_meeting"
    PRACTICE_MANAGER_MEETING = "practice_manager_meeting"
    INSTRUCTION_KIT = "instruction_kit"
    MANDATORY_COURSE = "mandatory_course"
    MIRROR_MEETING = "mirror_meeting"  # a GP group's, on its request (seed section 1): opened by the request
    PRACTICE_CHECKLIST = "practice_checklist"  # the practice's own quality system (seed 003), before the annual one
    NHG_ACCREDITATION = "nhg_accreditation"  # its renewal before it lapses, and its three-yearly audit (seed 003)
    NETWORK_PLAN_EVALUATION = "network_plan_evaluation"  # a GP group's plan with partners, yearly (seed 5)


CONVERSATION_KINDS = frozenset({
    ObligationKind.START_CONVERSATION, ObligationKind.ANNUAL_CONVERSATION, ObligationKind.EXTRA_CONVERSATION})
MEETING_KINDS = frozenset({ObligationKind.POH_MEETING, ObligationKind.PRACTICE_MANAGER_MEETING})

OBLIGATION_NAMES_NL = {
    ObligationKind.START_CONVERSATION: "startgesprek",
    ObligationKind.ANNUAL_CONVERSATION: "kwaliteitsjaargesprek",
    ObligationKind.EXTRA_CONVERSATION: "extra gesprek",
    ObligationKind.POH_MEETING: "POH-overleg",
    ObligationKind.PRACTICE_MANAGER_MEETING: "praktijkmanagersoverleg",
    ObligationKind.INSTRUCTION_KIT: "actualisatie instructiekoffer",
    ObligationKind.MANDATORY_COURSE: "verplichte scholing",
    ObligationKind.MIRROR_MEETING: "spiegelbijeenkomst",
    ObligationKind.PRACTICE_CHECKLIST: "checklist kwaliteitssysteem",
    ObligationKind.NHG_ACCREDITATION: "NHG-praktijkaccreditering",
    ObligationKind.NETWORK_PLAN_EVALUATION: "evaluatie netwerkplan",
}


class KitKind(StrEnum):
    """Instruction kits (instructiekoffers, seed section 3)."""

    INHALATION = "inhalation"  # for patients with asthma or COPD
    INSULIN = "insulin"  # for patients who (will) use insulin


KIT_PROGRAMMES: dict[KitKind, frozenset[Programme]] = {
    KitKind.INHALATION: frozenset({Programme.ASTHMA, Programme.COPD}),
    KitKind.INSULIN: frozenset({Programme.DM2}),
}


class ObligationStatus(StrEnum):
    OPEN = "open"
    DONE = "done"  # fulfilled: the conversation was held, the kit refreshed, the course completed, the meeting held
    CANCELLED = "cancelled"  # no longer owed: the practice left, the person is gone, the policy changed


@dataclass(frozen=True)
class Obligation:
    key: str
    kind: ObligationKind
    agb_code: str | None  # None for care-group meetings
    subject: str  # the programme, kit, "person|course" or meeting number it is about
    anchor_on: date  # what the due date counts from: the last occurrence, or the start
    due_on: date
    planned_on: date | None = None  # conversations and meetings: the day they are set for
    basis: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name_nl(self) -> str:
        return OBLIGATION_NAMES_NL[self.kind]

    @property
    def title_nl(self) -> str:
        """The kind and what it is about, as an officer reads it in a run's table."""
        if self.kind is ObligationKind.INSTRUCTION_KIT and self.subject in set(KitKind):
            return f"actualisatie {KIT_SHORT_NAMES_NL[KitKind(self.subject)]}"
        if self.kind is ObligationKind.MANDATORY_COURSE and "course_name" in self.details:
            return f"verplichte scholing {self.details['course_name']} voor {self.details.get('person', '?')}"
        if self.kind is ObligationKind.START_CONVERSATION and self.subject == "cycle":
            return "startgesprek kwaliteitscyclus"
        if self.kind is ObligationKind.START_CONVERSATION and self.subject:
            return f"startgesprek programma {self.subject}"
        if self.kind is ObligationKind.MIRROR_MEETING:
            return f"spiegelbijeenkomst {self.subject}"
        if self.kind is ObligationKind.NHG_ACCREDITATION:
            return "NHG-audit" if self.subject == "audit" else "verlenging NHG-praktijkaccreditering"
        if self.kind is ObligationKind.NETWORK_PLAN_EVALUATION:
            return f"evaluatie netwerkplan {self.subject}"
        return self.name_nl


@dataclass(frozen=True)
class PracticeFacts:
    """What planning reads about one practice, besides the policy and the calendar."""

    agb_code: str
    view: TrajectoryView
    programmes: Mapping[Programme, date]  # enrolments and their start dates
    people: tuple[tuple[str, Role], ...]  # (name, role)
    start_conversations: Mapping[Programme | None, date] = field(default_factory=dict)  # last held per programme
    kit_refreshes: Mapping[KitKind, date] = field(default_factory=dict)  # last refresh per kit
    course_completions: Mapping[tuple[str, str], date] = field(default_factory=dict)  # (person, course) -> last
    first_planned: Mapping[str, date] = field(default_factory=dict)  # stored key -> the day it was first planned
    moves: Mapping[str, date] = field(default_factory=dict)  # conversation key -> the day an officer last moved it to
    last_checklist_on: date | None = None  # the day its latest checklist of seed 003 was filled in
    accreditation: Accreditation | None = None  # its NHG accreditation as last recorded


def calendar_fingerprint(calendar: WorkingCalendar) -> str:
    closures = ",".join(d.isoformat() for d in sorted(calendar.closure_days))
    return f"closures[{closures}];liberation_day_every_year={calendar.liberation_day_every_year}"


@functools.lru_cache(maxsize=1 << 14)
def _span_due(anchor: date, calendar: WorkingCalendar, *, months: int = 0, days: int = 0) -> date:
    """The last working day on or before the end of a span that starts at ``anchor``. Remembered: a pure function
    of hashable values (the calendar is frozen), asked for every duty of every practice planned, some 160,000 times
    in the benchmark's three years at 5,000 practices, mostly for the same few hundred anchors (issue 16)."""
    return calendar.on_or_before(anchor + relativedelta(months=months, days=days))


def conversation_day(due_on: date, first_planned_on: date, policy: Policy, calendar: WorkingCalendar) -> date:
    """The day a conversation is set for: ``conversation_days_before_due`` before its due date, pulled to a
    working day; but never so soon after it was first planned that the practice hears of it less than
    ``reminder_days_before`` ahead (then the first working day after that, even past the due date)."""
    wanted = calendar.on_or_before(due_on - timedelta(days=policy.conversation_days_before_due))
    earliest = calendar.on_or_after(first_planned_on + timedelta(days=policy.reminder_days_before))
    return max(wanted, earliest)


def _conversation(kind: ObligationKind, facts: PracticeFacts, subject: str, anchor: date, due: date,
                  basis: dict[str, Any], on: date, policy: Policy, calendar: WorkingCalendar) -> Obligation:
    key = f"{kind.value}:{facts.agb_code}:{subject}:{anchor.isoformat()}"
    first = facts.first_planned.get(key, on)
    basis = basis | {"conversation_days_before_due": policy.conversation_days_before_due,
                     "invitation_days_before": policy.invitation_days_before,
                     "reminder_days_before": policy.reminder_days_before,
                     "calendar": calendar_fingerprint(calendar)}
    moved = facts.moves.get(key)
    if moved is not None:  # an officer's move sets the day; the due date stays the rule's
        basis["moved_to"] = moved.isoformat()
        return Obligation(key, kind, facts.agb_code, subject, anchor, due, moved, basis)
    return Obligation(key, kind, facts.agb_code, subject, anchor, due,
                      conversation_day(due, first, policy, calendar), basis)


class ConversationMoveError(InputError):
    """A conversation moved to a day it cannot go to (before today, not a working day): nothing is stored."""


def check_move(obligation: Obligation, to: date, on: date, calendar: WorkingCalendar) -> None:
    """Whether an open conversation may be moved to ``to`` on ``on`` (the day of the move): to today or later, on a
    working day. A day past the due date is allowed (the overdue notice then follows the due date)."""
    if obligation.kind not in CONVERSATION_KINDS:
        raise ConversationMoveError(f"{obligation.title_nl}: alleen een gesprek kan worden verplaatst")
    if to < on:
        raise ConversationMoveError(f"--to {to.isoformat()}: ligt voor vandaag ({on.isoformat()}); verplaats een "
                                    "gesprek naar vandaag of later; er is niets vastgelegd")
    if not calendar.is_working_day(to):
        why = calendar.holiday_name(to) or ("weekend" if to.weekday() >= 5 else "sluitingsdag van de zorggroep")
        raise ConversationMoveError(f"--to {to.isoformat()}: {date_nl(to, weekday=True)} is geen werkdag ({why}); "
                                    "kies een werkdag; er is niets vastgelegd")


def _start_held(facts: PracticeFacts, subject: str, started: date, within_days: int) -> date | None:
    """The start conversation that covers a start: for the cycle any, for a programme its own (or one
    without a programme), held at most ``within_days`` before the start."""
    if subject == "cycle":
        candidates = list(facts.start_conversations.values())
    else:
        candidates = [d for p, d in facts.start_conversations.items() if p is None or p.value == subject]
    held = [d for d in candidates if d >= started - timedelta(days=within_days)]
    return max(held) if held else None


def practice_obligations(facts: PracticeFacts, policy: Policy, calendar: WorkingCalendar, on: date, *,
                         courses: Sequence[Course]) -> list[Obligation]:
    """Every duty a practice has open, as the facts stand on ``on``."""
    view = facts.view
    if view.state is TrajectoryState.LEFT:
        return []  # a practice that left owes nothing until it restarts
    fp = calendar_fingerprint(calendar)
    out: list[Obligation] = []
    # Start conversation: when a practice starts a programme (seed 1, "Startgesprek"). Before its cycle
    # runs, one start conversation opens it; after, each programme started later has its own.
    within = policy.start_conversation_within_days
    if view.state is TrajectoryState.START:
        starts = {"cycle": min(facts.programmes.values())} if facts.programmes else {}
    else:
        cycle = view.cycle_started_on or date.min
        starts = {p.value: d for p, d in sorted(facts.programmes.items()) if d > cycle}
    for subject, started in starts.items():
        if _start_held(facts, subject, started, within) is not None:
            continue
        due = _span_due(started, calendar, days=within)
        out.append(_conversation(ObligationKind.START_CONVERSATION, facts, subject, started, due,
                                 {"within_days": within}, on, policy, calendar))
    if view.state is not TrajectoryState.START:
        # Annual conversation: mandatory, within twelve months of the previous one (seed 1).
        last = view.last_annual_conversation_on or view.cycle_started_on
        if last is not None:
            due = _span_due(last, calendar, months=policy.annual_conversation_every_months)
            annual = _conversation(ObligationKind.ANNUAL_CONVERSATION, facts, "cycle", last, due,
                                   {"every_months": policy.annual_conversation_every_months}, on, policy, calendar)
            out.append(annual)
            # owed by a practice whose quality system the care group follows, until this year's is filled in
            if facts.last_checklist_on is not None and facts.last_checklist_on <= last:
                out.append(_checklist(facts, annual, policy, calendar))
        # Extra conversation: when process indicators deviate strongly (seed 1, "Minder presterende praktijken").
        if view.state is TrajectoryState.EXTRA_CONVERSATION and view.flagged_on is not None:
            due = _span_due(view.flagged_on, calendar, days=policy.extra_conversation_within_days)
            out.append(_conversation(ObligationKind.EXTRA_CONVERSATION, facts, "deviation", view.flagged_on, due,
                                     {"within_days": policy.extra_conversation_within_days}, on, policy, calendar))
    # Instruction kits: refreshed once every two years; a kit counts from its programme's start (seed 3).
    for kit, programmes in KIT_PROGRAMMES.items():
        kit_starts = [d for p, d in facts.programmes.items() if p in programmes]
        if not kit_starts:
            continue
        refreshed = facts.kit_refreshes.get(kit)
        anchor = refreshed or min(kit_starts)
        due = _span_due(anchor, calendar, months=policy.kit_refresh_every_months)
        out.append(Obligation(f"instruction_kit:{facts.agb_code}:{kit.value}:{anchor.isoformat()}",
                              ObligationKind.INSTRUCTION_KIT, facts.agb_code, kit.value, anchor, due, None,
                              {"every_months": policy.kit_refresh_every_months,
                               "kit_notice_days_before": policy.kit_notice_days_before, "calendar": fp},
                              {"last_refreshed_on": refreshed.isoformat() if refreshed else None}))
    out += _accreditation(facts, policy, calendar)
    # Mandatory courses per person and role, from the care group's catalogue (seed 4, "Scholing").
    for name, role in facts.people:
        for course in mandatory(courses):
            if role not in course.roles or course.every_months is None:
                continue
            subject = f"{name}|{course.code}"
            last = facts.course_completions.get((name, course.code))
            if last is not None:
                key = f"mandatory_course:{facts.agb_code}:{subject}:{last.isoformat()}"
                due = _span_due(last, calendar, months=course.every_months)
                anchor = last
                basis = {"every_months": course.every_months}
            else:  # nothing on record: due some months after we first knew of the person
                key = f"mandatory_course:{facts.agb_code}:{subject}:none"
                anchor = facts.first_planned.get(key, on)
                due = _span_due(anchor, calendar, months=course.first_within_months)
                basis = {"first_within_months": course.first_within_months}
            out.append(Obligation(key, ObligationKind.MANDATORY_COURSE, facts.agb_code, subject, anchor, due, None,
                                  basis | {"training_notice_days_before": policy.training_notice_days_before,
                                           "calendar": fp},
                                  {"person": name, "role": role.value, "course": course.code,
                                   "course_name": course.name, "course_url": course.url,
                                   "last_completed_on": last.isoformat() if last else None}))
    return out


def _checklist(facts: PracticeFacts, annual: Obligation, policy: Policy, calendar: WorkingCalendar) -> Obligation:
    """The yearly checklist of the practice's own quality system (seed 003): due some days before the annual
    conversation it prepares (counting from the same anchor, so holding the conversation opens the next one). A
    practice owes it from its first checklist on: the care group starts following a practice's quality system by
    recording one."""
    day = annual.planned_on or annual.due_on
    due = checklist_due(day, policy.checklist_days_before_annual, calendar)
    return Obligation(f"practice_checklist:{facts.agb_code}:annual:{annual.anchor_on.isoformat()}",
                      ObligationKind.PRACTICE_CHECKLIST, facts.agb_code, "annual", annual.anchor_on, due, None,
                      {"checklist_days_before_annual": policy.checklist_days_before_annual,
                       "checklist_notice_days_before": policy.checklist_notice_days_before,
                       "conversation_on": day.isoformat(), "calendar": calendar_fingerprint(calendar)},
                      {"conversation_on": day.isoformat(),
                       "last_filled_on": facts.last_checklist_on.isoformat() if facts.last_checklist_on else None})


def _accreditation(facts: PracticeFacts, policy: Policy, calendar: WorkingCalendar) -> list[Obligation]:
    """The NHG accreditation's renewal before it lapses and its three-yearly audit (seed 003), once recorded."""
    accreditation = facts.accreditation
    if accreditation is None:
        return []
    fp = calendar_fingerprint(calendar)
    valid_until = accreditation.valid_until
    details = {"valid_until": valid_until.isoformat(),
               "audited_on": accreditation.audited_on.isoformat() if accreditation.audited_on else None}
    notice = {"accreditation_notice_weeks_before": policy.accreditation_notice_weeks_before, "calendar": fp}
    out = [Obligation(f"nhg_accreditation:{facts.agb_code}:valid_until:{valid_until.isoformat()}",
                      ObligationKind.NHG_ACCREDITATION, facts.agb_code, "valid_until", valid_until,
                      calendar.on_or_before(valid_until), None, notice, details)]
    if accreditation.audited_on is not None:
        audited = accreditation.audited_on
        out.append(Obligation(f"nhg_accreditation:{facts.agb_code}:audit:{audited.isoformat()}",
                              ObligationKind.NHG_ACCREDITATION, facts.agb_code, "audit", audited,
                              audit_due(audited, policy.accreditation_audit_every_months, calendar), None,
                              notice | {"every_months": policy.accreditation_audit_every_months}, details))
    return out


def meeting_dates(year: int, count: int, weekday: int, calendar: WorkingCalendar) -> list[date]:
    """``count`` meeting days spread evenly over ``year``: the meeting weekday on or after the middle of
    each equal slot; when that day is a holiday or closure day, the same weekday a week later (earlier
    at the end of the year), so a meeting is always on its weekday and a working day."""
    first = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - first).days
    out: list[date] = []
    for i in range(count):
        target = first + timedelta(days=int((i + 0.5) * days / count))
        day = target + timedelta(days=(weekday - target.weekday()) % 7)
        step = timedelta(weeks=1)
        while not calendar.is_working_day(day) or day.year != year:
            if day.year != year:
                step, day = -step, day - timedelta(weeks=1)
            day += step
        out.append(day)
    return out


def managers_weekday(policy: Policy) -> int:
    """The practice managers' meeting weekday: the POH's, only when the policy wants both on one evening; else the
    next weekday (the day before, for Friday meetings), so that no evening holds both (issue 14; seed section 4 has
    them as two meetings, and one person is often at both)."""
    if policy.meetings_same_evening:
        return policy.meeting_weekday
    return policy.meeting_weekday + 1 if policy.meeting_weekday < 4 else policy.meeting_weekday - 1


def meeting_obligations(year: int, policy: Policy, calendar: WorkingCalendar,
                        moves: Mapping[str, date] | None = None) -> list[Obligation]:
    """The POH meetings and practice-manager meetings of a year (seed 4: each 4-6 times a year); a meeting an
    officer moved (``moves``: key to day) is on the day it was moved to."""
    moves = moves or {}
    out = []
    basis = {"meetings_per_year": policy.meetings_per_year, "meeting_weekday": policy.meeting_weekday,
             "invitation_days_before": policy.invitation_days_before, "calendar": calendar_fingerprint(calendar)}
    weekdays = {ObligationKind.POH_MEETING: policy.meeting_weekday,
                ObligationKind.PRACTICE_MANAGER_MEETING: managers_weekday(policy)}
    if not policy.meetings_same_evening:
        basis["meetings_same_evening"] = False
    for kind, weekday in weekdays.items():
        days = meeting_dates(year, policy.meetings_per_year, weekday, calendar)
        for n, day in enumerate(days, start=1):
            key = f"{kind.value}:{year}:{n}"
            if key in moves:
                day = moves[key]
                out.append(Obligation(key, kind, None, str(n), date(year, 1, 1), day, day,
                                      basis | {"moved_to": day.isoformat()}))
                continue
            out.append(Obligation(key, kind, None, str(n), date(year, 1, 1), day, day, basis))
    return out


def fulfilled_on(obligation: Obligation, facts: PracticeFacts | None, on: date) -> date | None:
    """The day an obligation was met, if it was; ``None`` while it is still owed.

    The anchor is the last occurrence, so a later occurrence fulfils it; a meeting is met only when it is recorded
    as held, which planning reads from the meeting's own record.
    """
    kind = obligation.kind
    if kind in MEETING_KINDS:
        return None  # done when recorded as held (``domain.meetings``), not when its date passes
    if facts is None:
        return None
    view = facts.view
    held: date | None = None
    if kind is ObligationKind.ANNUAL_CONVERSATION:
        held = view.last_annual_conversation_on
        return held if held is not None and held > obligation.anchor_on else None
    if kind is ObligationKind.EXTRA_CONVERSATION:
        held = view.plan_agreed_on
    elif kind is ObligationKind.START_CONVERSATION:
        return _start_held(facts, obligation.subject, obligation.anchor_on, int(obligation.basis.get("within_days", 0)))
    elif kind is ObligationKind.INSTRUCTION_KIT:
        held = facts.kit_refreshes.get(KitKind(obligation.subject))
        return held if held is not None and held > obligation.anchor_on else None
    elif kind is ObligationKind.PRACTICE_CHECKLIST:
        held = facts.last_checklist_on
        return held if held is not None and held > obligation.anchor_on else None
    elif kind is ObligationKind.NHG_ACCREDITATION:
        now = facts.accreditation
        if now is None:
            return None
        if obligation.subject == "audit":
            return now.audited_on if now.audited_on is not None and now.audited_on > obligation.anchor_on else None
        return on if now.valid_until > obligation.anchor_on else None  # renewed: valid beyond the old day
    elif kind is ObligationKind.MANDATORY_COURSE:
        person, course = obligation.subject.split("|", 1)
        held = facts.course_completions.get((person, course))
        if held is not None and obligation.key.endswith(":none"):
            return held
        return held if held is not None and held > obligation.anchor_on else None
    return held if held is not None and held >= obligation.anchor_on else None


def basis_change_reason(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """Why a recomputation moved a date, in Dutch: which inputs of the rule changed."""
    parts = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) == new.get(name):
            continue
        if name == "calendar":
            parts.append("werkkalender gewijzigd (sluitingsdagen of Bevrijdingsdag)")
        elif name == "conversation_on":
            parts.append(f"kwaliteitsjaargesprek nu op {date_nl(new[name], weekday=True)}" if new.get(name)
                         else "kwaliteitsjaargesprek vervallen")
        elif name == "moved_to":
            parts.append(f"verplaatst naar {date_nl(new[name], weekday=True)}" if new.get(name)
                         else "verplaatsing vervallen")
        else:
            parts.append(f"beleid {name}: {old.get(name, '-')} -> {new.get(name, '-')}")
    return "; ".join(parts) or "herberekend"


NOTICE_STAGE_NAMES_NL = {"invitation": "uitnodiging", "reminder": "herinnering",
                         "overdue": "melding termijn verstreken", "notice": "aankondiging"}


@dataclass(frozen=True)
class NoticeStage:
    """A message an open obligation owes on a day: ``invitation``, ``reminder``, ``overdue`` or ``notice``."""

    name: str
    on: date


def notice_stages(obligation: Obligation, policy: Policy) -> list[NoticeStage]:
    """The messages an obligation owes, in order, each on the day it is due to go out."""
    kind = obligation.kind
    if kind in CONVERSATION_KINDS and obligation.planned_on is not None:
        planned = obligation.planned_on
        return [NoticeStage("invitation", planned - timedelta(days=policy.invitation_days_before)),
                NoticeStage("reminder", planned - timedelta(days=policy.reminder_days_before)),
                NoticeStage("overdue", obligation.due_on + timedelta(days=1))]
    if kind in MEETING_KINDS:
        return [NoticeStage("invitation", obligation.due_on - timedelta(days=policy.invitation_days_before))]
    if kind is ObligationKind.MIRROR_MEETING and obligation.planned_on is not None:
        return [NoticeStage("invitation", obligation.planned_on - timedelta(days=policy.invitation_days_before))]
    if kind is ObligationKind.INSTRUCTION_KIT:
        return [NoticeStage("notice", obligation.due_on - timedelta(days=policy.kit_notice_days_before))]
    if kind is ObligationKind.MANDATORY_COURSE:  # a reminder before it, and one overdue notice after (issue 14)
        return [NoticeStage("notice", obligation.due_on - timedelta(days=policy.training_notice_days_before)),
                NoticeStage("overdue", obligation.due_on + timedelta(days=1))]
    if kind is ObligationKind.PRACTICE_CHECKLIST:
        return [NoticeStage("notice", obligation.due_on - timedelta(days=policy.checklist_notice_days_before))]
    if kind is ObligationKind.NHG_ACCREDITATION:
        return [NoticeStage("notice", obligation.due_on - timedelta(weeks=policy.accreditation_notice_weeks_before))]
    if kind is ObligationKind.NETWORK_PLAN_EVALUATION:
        return [NoticeStage("notice", obligation.due_on - timedelta(days=policy.network_plan_notice_days_before))]
    return []


def stages_to_send(obligation: Obligation, policy: Policy, done: frozenset[str],
                   on: date, early: frozenset[str] = frozenset()) -> tuple[list[str], list[str]]:
    """Which stages to send on ``on`` and which to mark done without sending (their moment passed).

    An invitation and a reminder are only useful before the conversation or meeting: when both are
    due (a late plan), the invitation alone goes out. An overdue notice goes once the due date passed (a course
    already overdue gets that alone, not its reminder).
    ``early`` names stages to send on ``on`` though their day has not come: a conversation moved after its
    invitation went out is announced again at once (its calendar entry updated), not weeks later.
    """
    send: list[str] = []
    skip: list[str] = []
    day = obligation.planned_on
    for stage in notice_stages(obligation, policy):
        if stage.name in done or (stage.on > on and stage.name not in early):
            continue
        if stage.name in ("invitation", "reminder") and day is not None and on >= day:
            skip.append(stage.name)  # too late to invite or remind for a day that has come
        elif stage.name == "reminder" and "invitation" in send:
            skip.append(stage.name)  # the invitation sent today is the reminder
        elif stage.name == "notice" and obligation.kind is ObligationKind.MANDATORY_COURSE and on > obligation.due_on:
            skip.append(stage.name)  # a course already overdue gets the overdue notice, not "falls due soon"
        else:
            send.append(stage.name)
    return send, skip


def course_status(obligation: Obligation, policy: Policy, on: date) -> str:
    """Where a person's mandatory course stands on ``on``: ``overdue`` past its due date, ``due`` within the
    notice window before it, else ``current``."""
    if on > obligation.due_on:
        return "overdue"
    if on >= obligation.due_on - timedelta(days=policy.training_notice_days_before):
        return "due"
    return "current"


def next_notice_on(obligation: Obligation, policy: Policy, done: frozenset[str]) -> date | None:
    """The day the sweep must next look at an obligation (its next unsent stage), or ``None``."""
    days = [s.on for s in notice_stages(obligation, policy) if s.name not in done]
    return min(days) if days else None
