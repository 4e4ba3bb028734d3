"""Composing every outbox message: one function per message kind, from the facts a service gathered.

The services decide *when* (the sweep's notice stages, a transition's effects, a digest's period, a dispatch that
finds no address) and gather the facts (the obligation, the practice, the care group's people, the indicator
figures); this module decides *what and to whom*: each kind's recipients, key, Dutch subject (``SUBJECTS_NL``
in ``domain.vocabulary``) and typed payload (``notifications.payloads``), as pure functions.

- ``board_messages``: ``board_escalation``, ``board_progress``, ``board_recovery``, ``board_left``;
  ``digest_messages``: ``board_digest``.
- ``conversation_messages``: ``conversation_invitation``, ``conversation_reminder``, ``conversation_overdue``.
- ``goal_judged_messages``: ``goal_judged``; ``agreement_overdue_messages``: ``agreement_overdue``.
- ``mirror_meeting_messages``: ``mirror_meeting_invitation``; ``mirror_accreditation_messages``:
  ``mirror_accreditation_request``.
- ``meeting_messages``: ``meeting_invitation``; ``kit_messages``: ``kit_refresh_due``; ``training_messages``:
  ``training_due``; ``training_overdue_messages``: ``training_overdue``; ``missing_address_messages``:
  ``missing_address`` (also for an address refused for good).
- ``checklist_messages``: ``checklist_due``; ``accreditation_messages``: ``accreditation_due`` (seed 003).
- ``cards_published_messages``: ``cards_published``; ``cards_behind_messages``: ``cards_behind``.
- ``network_plan_messages``: ``network_plan_due`` (seed 5).

Invariants:
- Keys are deterministic (what, for whom, about which obligation, event or date), so a rerun, a retry or a second
  worker lands on the same outbox rows; a rescheduled conversation or meeting gets new keys (the practice must
  hear of the new date).
- A message to a practice goes to that practice's own registered addresses only; a person without an address
  gets a message with no address, which the dispatcher holds and reports to an officer
  (``notifications.addresses.resolve_address`` decides the address at sending).
- Depends on ``domain`` only; no I/O, no clock.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.cards import CardSet, FolderStanding, Leaflet
from domain.clock import AMSTERDAM
from domain.indicator_views import too_few
from domain.indicators import IndicatorFigures
from domain.messages import MessageLike, OutboxMessage
from domain.mirror_meetings import MirrorPack
from domain.obligations import KitKind, Obligation, ObligationKind
from domain.policy import Policy
from domain.quality_system import CONDITION_NAMES_NL, FilledChecklist, conditions_for
from domain.registry import GpGroup, Person, Practice, Registry, Role
from domain.rules.attendance import MEETING_ROLES, MIRROR_MEETING_ROLES, invited_roles
from domain.rules.escalation import Decision
from domain.trajectory import BoardNotificationRequested, TrajectoryTransitioned, TrajectoryView
from domain.vocabulary import (
    GOAL_STATUS_NAMES_NL,
    KIT_SHORT_NAMES_NL,
    MEETING_NAMES_NL,
    MEETING_TOPICS_NL,
    PERIOD_NAMES_NL,
    SUBJECTS_NL,
    AgreementOwner,
    ConversationKind,
    GoalStatus,
    capitalised,
    conversation_nl,
    date_nl,
)
from notifications.payloads import (
    AccreditationDue,
    AgreementLine,
    AgreementOverdue,
    Attendee,
    BoardDigest,
    BoardNotice,
    CardsBehind,
    CardSetPart,
    CardsPublished,
    CareGroupPart,
    ChecklistDue,
    ChecklistPart,
    ConditionLine,
    ConversationInvitation,
    ConversationOverdue,
    ConversationPart,
    ConversationReminder,
    CountLine,
    CoursePart,
    DigestIndicator,
    DigestTrajectory,
    DueConversation,
    FolderBehindPart,
    GoalJudged,
    GoalLine,
    GpGroupPart,
    HeldPart,
    IndicatorLine,
    KitPart,
    KitRefreshDue,
    LeafletPart,
    MeetingInvitation,
    MeetingPart,
    MirrorAccreditationRequest,
    MirrorMeetingInvitation,
    MirrorPackPart,
    MissingAddress,
    NetworkPlanDue,
    PackFigurePart,
    PackIndicatorPart,
    PartnerPart,
    Period,
    PersonInRole,
    PersonPart,
    Preparation,
    ProgressLine,
    SpreadPart,
    TrainingDue,
    TrainingOverdue,
    Visit,
    payload,
    person_part,
    practice_part,
    practice_payload,
)

CONVERSATION_OF = {
    ObligationKind.START_CONVERSATION: ConversationKind.START,
    ObligationKind.ANNUAL_CONVERSATION: ConversationKind.ANNUAL,
    ObligationKind.EXTRA_CONVERSATION: ConversationKind.EXTRA,
}


def _who(email: str | None, name: str) -> str:
    """A recipient in a key: the address, else the name (``-`` marks a name)."""
    return email or f"-{name}"


def meeting_organizer(key: str, officers: Sequence[Person]) -> Person | None:
    """The officer who organises a care-group meeting: one of all the care group's officers, picked by a hash of
    ``key`` (the same officer every time for the same meeting, whatever order the registry lists them in).
    A practice's conversations are not organised this way: their officers are the practice's assigned ones
    (``flows.services.officers``), passed in their order."""
    if not officers:
        return None
    ordered = sorted(officers, key=lambda p: (p.name, p.email or ""))
    return ordered[zlib.crc32(key.encode()) % len(ordered)]


def _first(people: Sequence[Person]) -> Person | None:
    return people[0] if people else None


def _moment(day: date, at: time, minutes: int) -> tuple[datetime, datetime]:
    start = datetime.combine(day, at, tzinfo=AMSTERDAM)
    return start, start + timedelta(minutes=minutes)


# --- the board -----------------------------------------------------------------------------------------------


def _progress_line(reason: Mapping[str, Any]) -> ProgressLine:
    """A progress reason as the line the board reads: the score against target *and* national average, and
    the change since the plan (the reason's own ``reference`` is the target; the average has fields of its own,
    absent from reasons stored before they existed)."""
    keys = ("programme", "indicator", "name", "score", "numerator", "denominator", "period_end",
            "national_average", "national_average_year", "improvement_points", "baseline_score",
            "baseline_period_end")
    return ProgressLine(**{k: reason.get(k) for k in keys}, target=reason.get("reference_value"))


VISITS_FOR = frozenset({"board_escalation", "board_progress"})


def board_messages(effects: Sequence[BoardNotificationRequested], event: TrajectoryTransitioned, practice: Practice,
                   board: Sequence[Person], plan_agreed_on: date | None,
                   progress_every_months: int | None = None, visits: Sequence[Visit] = (),
                   goals: Sequence[GoalLine] = ()) -> list[OutboxMessage]:
    """One message per board member (else to "Bestuur" without an address) for each notice a transition asks; an
    escalation or progress notice lists ``visits``, the conversations held and the support given since the plan,
    and ``goals``, every goal of the plan and where it stands."""
    members = tuple(board) or (Person(name="Bestuur", role=Role.BOARD, email=None),)
    messages: list[OutboxMessage] = []
    for effect in effects:
        notice = BoardNotice(
            practice=practice_part(practice), trigger=event.trigger.value, from_state=event.from_state.value,
            to_state=event.to_state.value, at=event.at, seq=event.seq, plan_agreed_on=plan_agreed_on,
            reasons=list(event.reasons), progress_every_months=progress_every_months,
            indicators=([_progress_line(r) for r in event.reasons if r.get("indicator")]
                        if effect.kind == "board_progress" else None),
            visits=list(visits) if visits and effect.kind in VISITS_FOR else None,
            goals=list(goals) if goals and effect.kind in VISITS_FOR else None)
        subject = SUBJECTS_NL[effect.kind].format(practice=practice.name, agb=practice.agb_code)
        data = payload(notice)
        messages += [OutboxMessage(
            key=f"{effect.kind}:{practice.agb_code}:{event.seq}:{member.email or member.name}", kind=effect.kind,
            agb_code=practice.agb_code, recipient_name=member.name, recipient_email=member.email,
            recipient_role="board", subject=subject, payload=data) for member in members]
    return messages


@dataclass(frozen=True)
class TrajectoryFacts:
    """A trajectory under the policy at a period's end, for the board's digest: the practice, the trajectory as
    it stood, its figures and where its flagged indicators stand (``domain.rules.assess_progress``)."""

    practice: Practice
    view: TrajectoryView
    figures: IndicatorFigures
    progress: Decision


def _digest_trajectory(facts: TrajectoryFacts, min_denominator: int | None) -> DigestTrajectory:
    view, figures = facts.view, facts.figures
    indicators = []
    for r in facts.progress.reasons:
        key = next(k for k in view.flagged if k.programme == r.programme and k.indicator == r.indicator)
        average = figures.national_average(key, r.period_end) if r.period_end else None
        definition = figures.catalogue.get(key)
        small = too_few(r.denominator, min_denominator)
        indicators.append(DigestIndicator(
            programme=key.programme.value, indicator=key.indicator, name=definition.name if definition else None,
            period_end=r.period_end, score=r.score, national_average=average[1] if average else None,
            national_average_year=average[0] if average else None, baseline_score=r.baseline_score,
            improvement_points=r.improvement_points, numerator=r.numerator, denominator=r.denominator,
            small_numbers=small, min_denominator=min_denominator if small else None))
    return DigestTrajectory(practice=practice_part(facts.practice), entered_policy_at=view.entered_policy_at,
                            plan_agreed_on=view.plan_agreed_on, indicators=indicators)


def digest_messages(period_start: date, period_end: date, interval_months: int,
                    trajectories: Sequence[TrajectoryFacts], board: Sequence[Person],
                    care_group: str, min_denominator: int | None = None,
                    around: Sequence[Mapping[str, Any]] | None = None) -> list[OutboxMessage]:
    """The board's periodic digest of every trajectory under the underperformer policy; a figure over fewer than
    ``min_denominator`` patients (the policy's) is marked as too few to judge."""
    members = board or (Person(name="Bestuur", role=Role.BOARD),)
    subject = SUBJECTS_NL["board_digest"].format(period=PERIOD_NAMES_NL.get(interval_months, "Overzicht"),
                                                 start=date_nl(period_start), end=date_nl(period_end))
    data = payload(BoardDigest(care_group=CareGroupPart(name=care_group),
                               period=Period(start=period_start, end=period_end), interval_months=interval_months,
                               trajectories=[_digest_trajectory(t, min_denominator) for t in trajectories],
                               around=[CountLine.model_validate(c) for c in around] if around else None))
    return [OutboxMessage(
        key=f"board_digest:{period_start.isoformat()}:{_who(m.email, m.name)}", kind="board_digest", agb_code=None,
        recipient_name=m.name, recipient_email=m.email, recipient_role="board", subject=subject, payload=data)
        for m in members]


# --- conversations -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparationFacts:
    """What a practice prepares a conversation from: its figures (with its own scores) known on a day, and the
    agreements of its last improvement plan with the day they were made (none when it has no plan)."""

    figures: IndicatorFigures
    on: date
    agreements: tuple[str, ...] | None = None
    agreed_on: date | None = None
    open_agreements: tuple[AgreementLine, ...] = ()  # every agreement still open, with a proposed outcome if any
    goals: tuple[GoalLine, ...] = ()  # the goals of the past year, with their current figures
    meeting_absence: tuple[str, ...] = ()  # the meetings of a year it came to none of
    min_denominator: int | None = None  # the policy's: a figure over fewer patients is marked, not judged
    checklist: FilledChecklist | None = None  # its latest checklist of its own quality system (seed 003)
    leaflets: tuple[Leaflet, ...] = ()  # the patient leaflets of the practice's programmes


def condition_lines(checklist: FilledChecklist) -> list[ConditionLine]:
    """The conditions a checklist left not (fully) met, with their Dutch names, answers and notes."""
    return [ConditionLine(condition=c.value, name=CONDITION_NAMES_NL[c], answer=a.answer.value, note=a.note)
            for c, a in checklist.open_conditions]


def checklist_part(checklist: FilledChecklist | None) -> ChecklistPart | None:
    if checklist is None:
        return None
    return ChecklistPart(filled_on=checklist.filled_on, open_conditions=condition_lines(checklist))


def preparation(facts: PreparationFacts) -> Preparation:
    """What a practice prepares for a conversation: its main indicators against target and national
    average (one over too few patients to judge marked as such), the agreements of its last plan (seed 1:
    agreements are evaluated the next time), and the patient leaflets of its programmes (seed 3)."""
    figures, on = facts.figures, facts.on
    latest = figures.latest_scores(on)
    lines = []
    for key, score in sorted(latest.items(), key=lambda kv: str(kv[0])):
        definition = figures.catalogue.get(key)
        if definition is None or not definition.main:
            continue
        average = figures.national_average(key, score.period_end)
        small = too_few(score.denominator, facts.min_denominator)
        # validated: a line for every main indicator of every invitation and reminder, some 600,000 in the
        # benchmark's three years at 5,000 practices (issue 16), and pydantic-core validates these eleven fields
        # in 2.5 µs where ``model_construct``'s Python loop takes 4.7 µs; ``tests/unit/test_payloads.py`` holds
        # the JSON to the stored one
        lines.append(IndicatorLine(
            programme=key.programme.value, indicator=key.indicator, name=definition.name,
            score=round(score.score, 1), numerator=score.numerator, denominator=score.denominator,
            target=figures.targets.get(key), national_average=average[1] if average else None,
            national_average_year=average[0] if average else None, small_numbers=small,
            min_denominator=facts.min_denominator if small else None))
    return Preparation(period_end=figures.latest_period(on), indicators=lines, agreements=list(facts.agreements or ()),
                       agreements_from=facts.agreed_on if facts.agreements is not None else None,
                       open_agreements=list(facts.open_agreements) or None, goals=list(facts.goals) or None,
                       meeting_absence=list(facts.meeting_absence) or None,
                       checklist=checklist_part(facts.checklist),
                       leaflets=[LeafletPart(programme=x.programme.value, title=x.title, url=x.url)
                                 for x in facts.leaflets] or None)


def conversation_messages(stage: str, obligation: Obligation, practice: Practice, officers: Sequence[Person],
                          care_group: str, policy: Policy, prepare: PreparationFacts | None = None,
                          state: str | None = None, last_held_on: date | None = None,
                          sequence: int = 0) -> list[OutboxMessage]:
    """An ``invitation`` (to every attendee the seed requires, with a calendar invite), a ``reminder`` (to
    the practice) or an ``overdue`` notice (to the practice's two officers) for a conversation. ``officers`` are
    the practice's assigned officers in their order: the first organises the calendar entry. The invitation
    and the reminder carry what to ``prepare``, the overdue notice the trajectory's ``state`` and the day the
    last annual conversation was held."""
    kind = CONVERSATION_OF[obligation.kind]
    agb = practice.agb_code
    day = obligation.planned_on or obligation.due_on
    start, end = _moment(day, policy.conversation_start, policy.conversation_minutes)
    attending_officers = tuple(officers)  # the practice's assigned officers, in order: the first organises
    organizer = (person_part(attending_officers[0]) if attending_officers
                 else PersonPart(name=care_group, email=None))
    conversation = ConversationPart(
        kind=kind.value, start=start, end=end, location=f"{practice.name} (praktijkbezoek)",
        programme=obligation.subject if kind is ConversationKind.START and obligation.subject != "cycle" else None)
    care, about = CareGroupPart(name=care_group), practice_part(practice)
    name = conversation_nl(kind.value)
    if stage == "invitation":
        people = [p for p in practice.people if p.role in invited_roles(kind)]
        attendees = [Attendee(role=p.role.value, name=p.name, email=p.email) for p in people]
        attendees += [Attendee(role="officer", name=p.name, email=p.email) for p in attending_officers]
        recipients: list[tuple[str, str | None, str]] = [(p.name, p.email, p.role.value) for p in people]
        # the practice's own address too (its practice manager plans the day), and alone when nobody is registered
        if not people or (practice.email and practice.email not in {p.email for p in people}):
            recipients.append((practice.name, practice.email, "practice"))
        recipients += [(p.name, p.email, "officer") for p in attending_officers]
        # one calendar entry per duty: a moved conversation updates it (same UID, higher SEQUENCE)
        data = payload(ConversationInvitation(
            care_group=care, practice=about, conversation=conversation, organizer=organizer, attendees=attendees,
            calendar_key=f"conversation:{obligation.key}", calendar_sequence=sequence,
            prepare=preparation(prepare) if prepare is not None else None))
        subject = SUBJECTS_NL["conversation_invitation"].format(conversation=name, practice=practice.name,
                                                                day=date_nl(day, weekday=True))
        return [OutboxMessage(
            key=f"conversation_invitation:{agb}:{kind.value}:{day.isoformat()}:{_who(email, who)}",
            kind="conversation_invitation", agb_code=agb, recipient_name=who, recipient_email=email,
            recipient_role=role, subject=subject, payload=data) for who, email, role in recipients]
    if stage == "reminder":
        data = payload(ConversationReminder(care_group=care, practice=about, conversation=conversation,
                                            organizer=organizer,
                                            prepare=preparation(prepare) if prepare is not None else None))
        return [OutboxMessage(
            key=f"conversation_reminder:{agb}:{kind.value}:{day.isoformat()}:{_who(practice.email, practice.name)}",
            kind="conversation_reminder", agb_code=agb, recipient_name=practice.name,
            recipient_email=practice.email, recipient_role="practice",
            subject=SUBJECTS_NL["conversation_reminder"].format(conversation=name, day=date_nl(day, weekday=True)),
            payload=data)]
    if stage == "overdue":
        data = payload(ConversationOverdue(
            care_group=care, practice=about, conversation=DueConversation(kind=kind.value, due_on=obligation.due_on),
            state=state or "annual_cycle", last_held_on=last_held_on))
        to = attending_officers or (Person(name=f"Functionarissen {care_group}", role=Role.OFFICER),)
        subject = SUBJECTS_NL["conversation_overdue"].format(conversation=capitalised(name), practice=practice.name)
        return [OutboxMessage(
            key=f"conversation_overdue:{agb}:{kind.value}:{obligation.due_on.isoformat()}:{_who(o.email, o.name)}",
            kind="conversation_overdue", agb_code=agb, recipient_name=o.name, recipient_email=o.email,
            recipient_role="officer", subject=subject, payload=data) for o in to]
    raise ValueError(f"unknown conversation notice stage {stage!r}")


# --- follow-up: goals and agreements ------------------------------------------------------------------------


def goal_judged_messages(goal: GoalLine, reason: str, set_on: date, goal_key: str, practice: Practice,
                         officers: Sequence[Person], care_group: str) -> list[OutboxMessage]:
    """A goal judged on its day (met, not met, not to be judged): to the practice and to its officers."""
    data = payload(GoalJudged(care_group=CareGroupPart(name=care_group), practice=practice_part(practice),
                              goal=goal, reason=reason, set_on=set_on))
    status = GOAL_STATUS_NAMES_NL[GoalStatus(goal.status)]
    subject = SUBJECTS_NL["goal_judged"].format(indicator=goal.name or f"{goal.programme}/{goal.indicator}",
                                                practice=practice.name, status=status)
    to = [(practice.name, practice.email, "practice")] + [(o.name, o.email, "officer") for o in officers]
    return [OutboxMessage(key=f"goal_judged:{goal_key}:{_who(email, name)}", kind="goal_judged",
                          agb_code=practice.agb_code, recipient_name=name, recipient_email=email, recipient_role=role,
                          subject=subject, payload=data) for name, email, role in to]


def agreement_overdue_messages(agreement: AgreementLine, practice: Practice, officers: Sequence[Person],
                               care_group: str) -> list[OutboxMessage]:
    """An open agreement past its due date, to its owner once: the practice's own address for the practice's, the
    practice's officers (else the care group's officers' name, held for an address) for the care group's."""
    data = payload(AgreementOverdue(care_group=CareGroupPart(name=care_group), practice=practice_part(practice),
                                    agreement=agreement))
    if agreement.owner == AgreementOwner.PRACTICE.value:
        to = [(practice.name, practice.email, "practice")]
    else:
        to = [(o.name, o.email, "officer") for o in officers] or [(f"Functionarissen {care_group}", None, "officer")]
    subject = SUBJECTS_NL["agreement_overdue"].format(practice=practice.name,
                                                      day=date_nl(agreement.due) if agreement.due else "")
    return [OutboxMessage(key=f"agreement_overdue:{agreement.id}:{_who(email, name)}", kind="agreement_overdue",
                          agb_code=practice.agb_code, recipient_name=name, recipient_email=email, recipient_role=role,
                          subject=subject, payload=data) for name, email, role in to]


# --- the GP group's mirror meeting --------------------------------------------------------------------------


def mirror_pack_part(pack: MirrorPack, min_denominator: int) -> MirrorPackPart:
    return MirrorPackPart(period_end=pack.period_end, anonymised=pack.anonymised, min_denominator=min_denominator,
                          indicators=[PackIndicatorPart(
                              programme=i.programme, indicator=i.indicator, name=i.name, target=i.target,
                              national_average=i.national_average, national_average_year=i.national_average_year,
                              spread=SpreadPart(practices=i.spread.practices, median=i.spread.median,
                                                p10=i.spread.p10, p90=i.spread.p90) if i.spread else None,
                              practices=[PackFigurePart(label=f.label, agb_code=f.agb_code, score=f.score,
                                                        numerator=f.numerator, denominator=f.denominator,
                                                        small_numbers=f.small_numbers) for f in i.practices])
                              for i in pack.indicators])


def mirror_meeting_messages(obligation: Obligation, group: GpGroup, practices: Sequence[Practice], pack: MirrorPack,
                            organizer: Person | None, care_group: str, policy: Policy, sequence: int = 0
                            ) -> list[OutboxMessage]:
    """An invitation with a calendar invite and the group's pack to the GPs, POH and practice manager of every
    practice of the GP group; an officer organises (else the care group)."""
    day = obligation.planned_on or obligation.due_on
    start, end = _moment(day, policy.meeting_start, policy.meeting_minutes)
    meeting = MeetingPart(kind="mirror_meeting", start=start, end=end, location=policy.meeting_location,
                          topics=["De indicatoren van de praktijken naast elkaar", "Van elkaar leren"])
    subject = SUBJECTS_NL["mirror_meeting_invitation"].format(group=group.name, day=date_nl(day, weekday=True))
    common = {"care_group": CareGroupPart(name=care_group), "gp_group": GpGroupPart(code=group.code, name=group.name),
              "meeting": meeting, "organizer": person_part(organizer) if organizer else PersonPart(name=care_group,
                                                                                                 email=None),
              "calendar_key": obligation.key, "calendar_sequence": sequence,
              "pack": mirror_pack_part(pack, policy.min_denominator)}
    out = []
    for practice in practices:
        data = payload(MirrorMeetingInvitation(practice=practice_part(practice), **common))
        for person in practice.people:
            if person.role not in MIRROR_MEETING_ROLES:
                continue
            out.append(OutboxMessage(
                key=f"mirror_meeting_invitation:{obligation.key}:{day.isoformat()}:{practice.agb_code}:"
                    f"{_who(person.email, person.name)}",
                kind="mirror_meeting_invitation", agb_code=practice.agb_code, recipient_name=person.name,
                recipient_email=person.email, recipient_role=person.role.value, subject=subject, payload=data))
    return out


def mirror_accreditation_messages(meeting_id: str, group: GpGroup, held_on: date, attendees: Sequence[tuple[str, str]],
                                  ekc_name: str, requested_by: Person | None, care_group: str) -> list[OutboxMessage]:
    """The request to accredit a held mirror meeting, to the GP group's EKC (seed 1: "Accreditatie voor deze
    bijeenkomsten is mogelijk door de Erkend kwaliteitsconsulent"); without an address it is held and the officers
    are told."""
    email = group.ekc.email if group.ekc is not None and group.ekc.name == ekc_name else None
    data = payload(MirrorAccreditationRequest(
        care_group=CareGroupPart(name=care_group), gp_group=GpGroupPart(code=group.code, name=group.name),
        meeting_id=meeting_id, held_on=held_on,
        attendees=[Attendee(role=role, name=name, email=None) for role, name in attendees],
        requested_by=person_part(requested_by) if requested_by else None))
    return [OutboxMessage(
        key=f"mirror_accreditation_request:{meeting_id}:{_who(email, ekc_name)}", kind="mirror_accreditation_request",
        agb_code=None, recipient_name=ekc_name, recipient_email=email, recipient_role="ekc",
        subject=SUBJECTS_NL["mirror_accreditation_request"].format(group=group.name, day=date_nl(held_on)),
        payload=data)]


# --- meetings, kits, courses ---------------------------------------------------------------------------------


def meeting_messages(obligation: Obligation, practices: Sequence[Practice], officers: Sequence[Person],
                     care_group: str, policy: Policy, sequence: int = 0, topics: Sequence[str] = ()
                     ) -> list[OutboxMessage]:
    """An invitation with a calendar invite to every POH (or practice manager) of every practice; an officer
    organizes (else the care group)."""
    day = obligation.due_on
    start, end = _moment(day, policy.meeting_start, policy.meeting_minutes)
    kind = obligation.kind.value
    meeting = MeetingPart(kind=kind, start=start, end=end, location=policy.meeting_location,
                          topics=[*MEETING_TOPICS_NL, *topics])
    organizer = meeting_organizer("meeting", officers)
    organizer_part = person_part(organizer) if organizer else PersonPart(name=care_group, email=None)
    subject = SUBJECTS_NL["meeting_invitation"].format(meeting=MEETING_NAMES_NL[kind], day=date_nl(day, weekday=True))
    roles = MEETING_ROLES[obligation.kind]
    out = []
    template: dict[str, Any] | None = None  # every practice's payload but its practice: dumped once per meeting
    for practice in practices:
        invited = [person for person in practice.people if person.role in roles]
        if not invited:
            continue
        if template is None:
            template = payload(MeetingInvitation(
                care_group=CareGroupPart(name=care_group), practice=practice_part(practice), meeting=meeting,
                organizer=organizer_part, calendar_key=obligation.key, calendar_sequence=sequence))
        data = dict(template)  # the same keys in the same order, the practice's own part in its place
        data["practice"] = practice_payload(practice)
        for person in invited:
            who = _who(person.email, person.name)
            out.append(OutboxMessage(
                key=f"meeting_invitation:{kind}:{day.isoformat()}:{practice.agb_code}:{who}",
                kind="meeting_invitation", agb_code=practice.agb_code, recipient_name=person.name,
                recipient_email=person.email, recipient_role=person.role.value, subject=subject, payload=data))
    return out


def kit_messages(obligation: Obligation, practice: Practice, officers: Sequence[Person],
                 care_group: str) -> list[OutboxMessage]:
    """Notice to the practice that one of its instruction kits is due for its two-yearly refresh; the practice's
    first assigned officer (``officers`` in their order) is its contact."""
    kit = KitKind(obligation.subject)
    contact = _first(officers)
    data = payload(KitRefreshDue(
        care_group=CareGroupPart(name=care_group), practice=practice_part(practice),
        kits=[KitPart(kind=kit.value, last_refreshed_on=obligation.details.get("last_refreshed_on"),
                      due_on=obligation.due_on)],
        contact=person_part(contact) if contact is not None else None))
    due = obligation.due_on.isoformat()
    return [OutboxMessage(
        key=f"kit_refresh_due:{practice.agb_code}:{kit.value}:{due}:{_who(practice.email, practice.name)}",
        kind="kit_refresh_due", agb_code=practice.agb_code, recipient_name=practice.name,
        recipient_email=practice.email, recipient_role="practice",
        subject=SUBJECTS_NL["kit_refresh_due"].format(kit=KIT_SHORT_NAMES_NL[kit], practice=practice.name),
        payload=data)]


def training_messages(obligation: Obligation, practice: Practice, care_group: str) -> list[OutboxMessage]:
    """Reminder to a person that a mandatory course for their role falls due."""
    d = obligation.details
    person = next((p for p in practice.people if p.name == d["person"] and p.role.value == d["role"]), None)
    if person is None:
        return []  # the person is gone; planning cancels the obligation
    course = CoursePart(code=d["course"], name=d.get("course_name") or d["course"], due_on=obligation.due_on,
                        last_completed_on=d.get("last_completed_on"), url=d.get("course_url"))
    data = payload(TrainingDue(
        care_group=CareGroupPart(name=care_group), practice=practice_part(practice),
        person=PersonInRole(name=person.name, role=person.role.value),
        courses=[course]))
    return [OutboxMessage(
        key=f"training_due:{practice.agb_code}:{person.role.value}:{person.name}:{course.code}:"
            f"{obligation.due_on.isoformat()}",
        kind="training_due", agb_code=practice.agb_code, recipient_name=person.name,
        recipient_email=person.email, recipient_role=person.role.value,
        subject=SUBJECTS_NL["training_due"].format(course=course.name, day=date_nl(obligation.due_on)),
        payload=data)]


# --- the practice's own quality system (seed 003) -------------------------------------------------------------


def checklist_messages(obligation: Obligation, practice: Practice, last: FilledChecklist | None,
                       care_group: str) -> list[OutboxMessage]:
    """Notice to the practice's own address that its yearly checklist is due before its annual conversation, with
    every condition to answer and the ones its last checklist left open."""
    conversation_on = obligation.details.get("conversation_on")
    data = payload(ChecklistDue(
        care_group=CareGroupPart(name=care_group), practice=practice_part(practice), due_on=obligation.due_on,
        conversation_on=date.fromisoformat(conversation_on) if conversation_on else None,
        last_filled_on=last.filled_on if last else None,
        open_conditions=condition_lines(last) if last else [],
        conditions=[ConditionLine(condition=c.value, name=CONDITION_NAMES_NL[c], answer="")
                    for c in conditions_for(last.checklist.dispensing_practice if last else False)]))
    return [OutboxMessage(
        key=f"checklist_due:{practice.agb_code}:{obligation.due_on.isoformat()}:{_who(practice.email, practice.name)}",
        kind="checklist_due", agb_code=practice.agb_code, recipient_name=practice.name,
        recipient_email=practice.email, recipient_role="practice",
        subject=SUBJECTS_NL["checklist_due"].format(practice=practice.name, day=date_nl(obligation.due_on)),
        payload=data)]


def accreditation_messages(obligation: Obligation, practice: Practice, care_group: str) -> list[OutboxMessage]:
    """Notice to the practice's own address that its NHG accreditation lapses, or its audit falls due, on a day."""
    d = obligation.details
    what = "audit" if obligation.subject == "audit" else "valid_until"
    data = payload(AccreditationDue(
        care_group=CareGroupPart(name=care_group), practice=practice_part(practice), what=what,
        due_on=obligation.due_on, valid_until=date.fromisoformat(d["valid_until"]),
        audited_on=date.fromisoformat(d["audited_on"]) if d.get("audited_on") else None))
    title, when = ("NHG-audit", "uiterlijk") if what == "audit" else ("NHG-praktijkaccreditering", "loopt af op")
    return [OutboxMessage(
        key=f"accreditation_due:{practice.agb_code}:{what}:{obligation.due_on.isoformat()}:"
            f"{_who(practice.email, practice.name)}",
        kind="accreditation_due", agb_code=practice.agb_code, recipient_name=practice.name,
        recipient_email=practice.email, recipient_role="practice",
        subject=SUBJECTS_NL["accreditation_due"].format(what=title, practice=practice.name, when=when,
                                                        day=date_nl(obligation.due_on)),
        payload=data)]


def training_overdue_messages(obligation: Obligation, practice: Practice, care_group: str) -> list[OutboxMessage]:
    """One notice, after a mandatory course's due date, to the person and to the practice's practice managers."""
    d = obligation.details
    person = next((p for p in practice.people if p.name == d["person"] and p.role.value == d["role"]), None)
    if person is None:
        return []  # the person is gone; planning cancels the obligation
    course = CoursePart(code=d["course"], name=d.get("course_name") or d["course"], due_on=obligation.due_on,
                        last_completed_on=d.get("last_completed_on"), url=d.get("course_url"))
    data = payload(TrainingOverdue(
        care_group=CareGroupPart(name=care_group), practice=practice_part(practice),
        person=PersonInRole(name=person.name, role=person.role.value),
        course=course))
    to = [person] + [p for p in practice.people if p.role is Role.PRACTICE_MANAGER and p != person]
    subject = SUBJECTS_NL["training_overdue"].format(course=course.name, person=person.name,
                                                    day=date_nl(obligation.due_on))
    return [OutboxMessage(
        key=f"training_overdue:{practice.agb_code}:{person.role.value}:{person.name}:{course.code}:"
            f"{obligation.due_on.isoformat()}:{_who(p.email, p.name)}",
        kind="training_overdue", agb_code=practice.agb_code, recipient_name=p.name, recipient_email=p.email,
        recipient_role=p.role.value, subject=subject, payload=data) for p in to]


# --- instruction cards --------------------------------------------------------------------------------------


def _card_set_part(card_set: CardSet) -> CardSetPart:
    return CardSetPart(version=card_set.version, published_on=card_set.published_on, note=card_set.note)


def cards_published_messages(card_set: CardSet, current_by: date, practices: Sequence[tuple[Practice, str | None]],
                             care_group: str) -> list[OutboxMessage]:
    """A new set of instruction cards, to each practice's own address (with the version its folder has now): what
    changed, and that its folder should be current by ``current_by``."""
    out = []
    for practice, folder_version in practices:
        data = payload(CardsPublished(care_group=CareGroupPart(name=care_group), practice=practice_part(practice),
                                      cards=_card_set_part(card_set), current_by=current_by,
                                      folder_version=folder_version))
        out.append(OutboxMessage(
            key=f"cards_published:{card_set.version}:{practice.agb_code}:{_who(practice.email, practice.name)}",
            kind="cards_published", agb_code=practice.agb_code, recipient_name=practice.name,
            recipient_email=practice.email, recipient_role="practice",
            subject=SUBJECTS_NL["cards_published"].format(version=card_set.version, practice=practice.name),
            payload=data))
    return out


def cards_behind_messages(card_set: CardSet, current_by: date, behind: Sequence[tuple[Practice, FolderStanding]],
                          officers: Sequence[Person], care_group: str) -> list[OutboxMessage]:
    """The practices still behind on a set once its deadline passed, to every officer of the care group (else to
    the officers' name, held for an address); nothing when nobody is behind."""
    if not behind:
        return []
    data = payload(CardsBehind(
        care_group=CareGroupPart(name=care_group), cards=_card_set_part(card_set), current_by=current_by,
        practices=[FolderBehindPart(practice=practice_part(p), version=f.version, current_on=f.current_on,
                                    behind_since=f.behind_since or card_set.published_on) for p, f in behind]))
    count = f"{len(behind)} praktijk" if len(behind) == 1 else f"{len(behind)} praktijken"
    subject = SUBJECTS_NL["cards_behind"].format(count=count, version=card_set.version)
    to = [(o.name, o.email) for o in officers] or [(f"Functionarissen {care_group}", None)]
    return [OutboxMessage(key=f"cards_behind:{card_set.version}:{_who(email, name)}", kind="cards_behind",
                          agb_code=None, recipient_name=name, recipient_email=email, recipient_role="officer",
                          subject=subject, payload=data) for name, email in to]


# --- addresses -----------------------------------------------------------------------------------------------


def missing_address_messages(held: MessageLike, reason: str, registry: Registry, *,
                             refused: str | None = None) -> list[OutboxMessage]:
    """One ``missing_address`` notice per officer with an address (else to the care group's address) about a
    message held for want of a usable address, keyed by the recipient that lacks one (and the address the mail
    server ``refused``, if any), so it is queued once however often the dispatcher runs."""
    if held.kind == "missing_address":
        return []  # a notice that cannot be delivered does not beget another
    officers = [(o.name, o.email, "officer") for o in registry.officers if o.email]
    if not officers and registry.care_group.email:
        officers = [(registry.care_group.name, registry.care_group.email, "care_group")]
    practice = registry.practices_by_code.get(held.agb_code) if held.agb_code else None
    data = payload(MissingAddress(
        care_group=CareGroupPart(name=registry.care_group.name),
        practice=practice_part(practice) if practice else None,
        held=HeldPart(key=held.key, kind=held.kind, subject=held.subject, recipient_name=held.recipient_name,
                      recipient_role=held.recipient_role),
        reason=reason, refused=refused))
    recipient = held.recipient_name + (f" ({practice.name})" if practice and held.recipient_role != "practice"
                                       else "")
    return [
        OutboxMessage(
            key=(f"missing_address:{held.agb_code or '-'}:{held.recipient_role}:{held.recipient_name}:{email}"
                 + (f":geweigerd:{refused}" if refused is not None else "")),
            kind="missing_address", agb_code=held.agb_code, recipient_name=name, recipient_email=email,
            recipient_role=role, subject=SUBJECTS_NL["missing_address"].format(recipient=recipient), payload=data,
        )
        for name, email, role in officers
    ]


def network_plan_messages(obligation: Obligation, group: GpGroup, practices: Sequence[Practice],
                          partners: Sequence[tuple[str, str]], care_group: str) -> list[OutboxMessage]:
    """Notice to each practice of the GP group (its own address) that the yearly evaluation of the group's network
    plan with its partners (``(name, kind)``) falls due on a day (seed 5: "jaarlijks evalueren")."""
    d = obligation.details
    last = d.get("last_evaluated_on")
    out = []
    for practice in practices:
        data = payload(NetworkPlanDue(
            care_group=CareGroupPart(name=care_group), practice=practice_part(practice),
            gp_group=GpGroupPart(code=group.code, name=group.name), due_on=obligation.due_on,
            agreed_on=date.fromisoformat(d["agreed_on"]), last_evaluated_on=date.fromisoformat(last) if last else None,
            partners=[PartnerPart(name=name, kind=kind) for name, kind in partners]))
        out.append(OutboxMessage(
            key=f"network_plan_due:{group.code}:{obligation.due_on.isoformat()}:{practice.agb_code}:"
                f"{_who(practice.email, practice.name)}",
            kind="network_plan_due", agb_code=practice.agb_code, recipient_name=practice.name,
            recipient_email=practice.email, recipient_role="practice",
            subject=SUBJECTS_NL["network_plan_due"].format(group=group.name, day=date_nl(obligation.due_on)),
            payload=data))
    return out
