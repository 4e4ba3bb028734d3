"""The payload of every message kind, typed: what ``notifications.compose`` writes and the templates read.

An outbox message stores its payload as JSON (``payload(model)``): the model dumped, with moments and days as
ISO text. The templates (``templates/<kind>.*.j2``) read that JSON, also of messages queued before a field
existed, so a template reads an optional field with ``.get``.

- every kind carries ``care_group: {name}`` except the board's notices of one practice; any kind may carry
  ``chart_svg`` (an SVG document as text, which rendering attaches); a practice's kinds carry
  ``practice: {agb_code, name, gp_group}`` (``PracticePart``, built by ``practice_part`` only).
- ``MODELS`` names the model of each kind: ``BoardNotice`` for ``board_escalation``, ``board_progress``,
  ``board_recovery`` and ``board_left``; ``BoardDigest`` for ``board_digest``; ``ConversationInvitation``,
  ``ConversationReminder``, ``ConversationOverdue``; ``MeetingInvitation``; ``KitRefreshDue`` for
  ``kit_refresh_due``; ``TrainingDue``; ``GoalJudged`` for ``goal_judged``;
  ``AgreementOverdue`` for ``agreement_overdue``; ``MirrorMeetingInvitation``, ``MirrorAccreditationRequest``;
  ``MissingAddress`` (to an officer, also for a refused address); ``ChecklistDue``, ``AccreditationDue`` (the
  practice's own quality system, seed 003); ``CardsPublished`` for ``cards_published``
  (to the practice), ``CardsBehind`` for ``cards_behind`` (to the officers).

Invariants:
- The JSON of a payload is the one the product has always stored for its kind: the same fields in the same
  order, a field that may be left out (default ``None``) left out when it has no value (every other field
  written, ``null`` if need be), numbers kept as given (an integer target stays ``90``, not ``90.0``), a moment
  written as ``datetime.isoformat`` (with its offset). ``tests/unit/test_payloads.py`` holds each kind to the
  stored JSON.
- Depends on ``domain`` only (like the rest of ``notifications``).
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Annotated, Any, get_args

from pydantic import BaseModel, ConfigDict, PlainSerializer

from domain.registry import Person, Practice

# a day or a moment, written as ISO text in every dump (python or JSON mode): as ``isoformat`` always wrote it
Day = Annotated[date, PlainSerializer(lambda d: d.isoformat(), return_type=str)]
Moment = Annotated[datetime, PlainSerializer(lambda m: m.isoformat(), return_type=str)]
Number = int | float  # kept as given: an int stays an int in the JSON


class Part(BaseModel):
    """A payload or a part of one: frozen, no field beyond its own; a field that may be left out (its default is
    ``None``) is left out when it has no value, a field that must be given is written, ``null`` if it has none
    (``payload``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@functools.cache
def _shape(model: type[Part]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Of a part's fields, those that may be left out (default ``None``) and those that may hold parts."""
    optional = tuple(name for name, field in model.model_fields.items()
                     if not field.is_required() and field.default is None)
    return optional, tuple(name for name, field in model.model_fields.items() if _holds_part(field.annotation))


def _holds_part(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, Part):
        return True
    return any(_holds_part(inner) for inner in get_args(annotation))


def _without_absent(model: Part, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (the model dumped) with every field that may be left out and has no value left out, in every part
    inside it too; in place. (A wrapping serializer on ``Part`` did the same inside pydantic's dump, at twice the
    cost of the dump itself: a sweep composes hundreds of thousands of payloads, issue 16.)"""
    optional, nested = _shape(type(model))
    for name in nested:
        value, dumped = getattr(model, name), data.get(name)
        if isinstance(value, Part) and isinstance(dumped, dict):
            _without_absent(value, dumped)
        elif isinstance(value, list | tuple) and isinstance(dumped, list | tuple):
            for item, item_dumped in zip(value, dumped, strict=False):
                if isinstance(item, Part) and isinstance(item_dumped, dict):
                    _without_absent(item, item_dumped)
        elif isinstance(value, dict) and isinstance(dumped, dict):
            for key, item in value.items():
                if isinstance(item, Part) and isinstance(dumped.get(key), dict):
                    _without_absent(item, dumped[key])
    for name in optional:
        if name in data and data[name] is None:
            del data[name]
    return data


def payload(model: Part) -> dict[str, Any]:
    """The payload an outbox message stores: the model as JSON-ready values, a field that may be left out left out
    when it has no value."""
    return _without_absent(model, model.model_dump())


# --- parts ---------------------------------------------------------------------------------------------------


class CareGroupPart(Part):
    name: str


class PracticePart(Part):
    agb_code: str
    name: str
    gp_group: str | None


def practice_part(practice: Practice) -> PracticePart:
    """The practice as every message about it carries it."""
    return _practice_part(practice.agb_code, practice.name, practice.gp_group)


@functools.lru_cache(maxsize=1 << 15)
def _practice_part(agb_code: str, name: str, gp_group: str | None) -> PracticePart:
    # one (frozen) part per practice as it is named: a meeting's invitations made one for each of 5,000 practices,
    # and validating them was a fifth of composing the invitations (issue 16)
    return PracticePart(agb_code=agb_code, name=name, gp_group=gp_group)


def practice_payload(practice: Practice) -> dict[str, Any]:
    """``payload(practice_part(practice))``, a fresh dict made from one kept per practice as it is named."""
    return dict(_practice_payload(practice.agb_code, practice.name, practice.gp_group))


@functools.lru_cache(maxsize=1 << 15)
def _practice_payload(agb_code: str, name: str, gp_group: str | None) -> dict[str, Any]:
    return payload(_practice_part(agb_code, name, gp_group))


class PersonPart(Part):
    """An organizer or a contact."""

    name: str
    email: str | None


def person_part(person: Person) -> PersonPart:
    return PersonPart(name=person.name, email=person.email)


class IndicatorLine(Part):
    """A main indicator as a practice prepares it: its latest score against target and national average."""

    programme: str
    indicator: str
    name: str | None
    score: Number
    numerator: int | None
    denominator: int | None
    target: Number | None
    national_average: Number | None
    national_average_year: int | None
    small_numbers: bool = False  # fewer patients than the policy judges: shown, not judged
    min_denominator: int | None = None  # that minimum, when ``small_numbers``


class Visit(Part):
    """A conversation held with the practice, or support given to it, since its plan was agreed."""

    what: str  # conversation | support
    kind: str  # the conversation's kind (start, annual, extra) or the support's (coaching, ...)
    on: Day
    half_days: Number | None = None  # support: how much was given


class AgreementLine(Part):
    """An agreement still open: what, whose, by when, made when; ``proposed_outcome`` when the support that follows
    it up was given (``domain.rules.agreements.proposed_outcome``), for the next conversation to confirm."""

    id: str
    text: str
    owner: str  # practice | care_group
    due: Day | None
    made_on: Day
    proposed_outcome: str | None = None
    support_done: list[Visit] | None = None  # the support given for it, when it proposes an outcome


class GoalLine(Part):
    """A goal of a plan: its target and day, where it stands (``domain.vocabulary.GoalStatus``), and the figure:
    the one it was judged by, or (still open) the latest one known, with its 95% interval."""

    programme: str
    indicator: str
    name: str | None
    target: Number
    by: Day
    status: str
    score: Number | None = None
    numerator: int | None = None
    denominator: int | None = None
    period_end: Day | None = None
    interval_low: Number | None = None
    interval_high: Number | None = None


class ConditionLine(Part):
    """A condition of the practice's own quality system (seed 003) as it answered it: ``yes``, ``partly``, ``no``."""

    condition: str
    name: str
    answer: str
    note: str | None = None


class ChecklistPart(Part):
    """The practice's latest checklist of its own quality system: the day, and the conditions not (fully) met."""

    filled_on: Day
    open_conditions: list[ConditionLine]


class LeafletPart(Part):
    """A patient leaflet of a programme, with its web address (seed section 3)."""

    programme: str
    title: str
    url: str


class Preparation(Part):
    """What a practice prepares for a conversation: its figures, the agreements of its last plan, the agreements
    still open and the goals of the past year with their current figures (seed 1: agreements are evaluated at the
    next conversation), and its latest checklist of its own quality system (seed 003)."""

    period_end: Day | None
    indicators: list[IndicatorLine]
    agreements: list[str]
    agreements_from: Day | None = None
    open_agreements: list[AgreementLine] | None = None
    goals: list[GoalLine] | None = None
    # the meetings of a year the practice came to none of (seed 4; issue 14): "POH-overleg 2025 (5 gehouden)"
    meeting_absence: list[str] | None = None
    checklist: ChecklistPart | None = None
    leaflets: list[LeafletPart] | None = None  # the patient leaflets of the practice's programmes


# --- the board -----------------------------------------------------------------------------------------------


class ProgressLine(Part):
    """A flagged indicator in a progress notice: the score against target *and* national average, and the change
    since the plan (taken from the transition's reason, whose ``reference_value`` is the target)."""

    programme: str | None
    indicator: str | None
    name: str | None
    score: Number | None
    numerator: int | None
    denominator: int | None
    period_end: str | None
    national_average: Number | None
    national_average_year: int | None
    improvement_points: Number | None
    baseline_score: Number | None
    baseline_period_end: str | None
    target: Number | None


class BoardNotice(Part):
    """``board_escalation``, ``board_progress``, ``board_recovery``, ``board_left``: the transition the board must
    hear of, with the reasons as the event records them."""

    practice: PracticePart
    trigger: str
    from_state: str
    to_state: str
    at: Moment
    seq: int
    plan_agreed_on: Day | None
    reasons: list[dict[str, Any]]
    progress_every_months: int | None = None
    indicators: list[ProgressLine] | None = None  # board_progress: where the flagged indicators stand
    # escalation and progress: the conversations held and the support given since the plan, with their days, so
    # "despite the practice visits" is a fact (seed section 1); left out when none were recorded
    visits: list[Visit] | None = None
    goals: list[GoalLine] | None = None  # escalation and progress: every goal of the plan and where it stands


class DigestIndicator(Part):
    programme: str
    indicator: str
    name: str | None
    period_end: Day | None
    score: Number
    national_average: Number | None
    national_average_year: int | None
    baseline_score: Number | None
    improvement_points: Number | None
    numerator: int | None = None
    denominator: int | None = None
    small_numbers: bool = False  # fewer patients than the policy judges: shown, not judged
    min_denominator: int | None = None  # that minimum, when ``small_numbers``


class DigestTrajectory(Part):
    practice: PracticePart
    entered_policy_at: Moment | None
    plan_agreed_on: Day | None
    indicators: list[DigestIndicator]


class Period(Part):
    start: Day
    end: Day


class CountLine(Part):
    """A count around the cycle in the board's digest (issue 14): the part, what is counted, how many, and the
    practices it is about (with their own count where one applies)."""

    part: str
    label: str
    count: int
    practices: list[str] = []


class BoardDigest(Part):
    """``board_digest``: every trajectory under the underperformer policy at the end of a period, and the counts
    around the cycle (meetings, training, cards, neighbourhood, the practices' own quality system)."""

    care_group: CareGroupPart
    period: Period
    interval_months: int
    trajectories: list[DigestTrajectory]
    around: list[CountLine] | None = None


class ToPractice(Part):
    """The part every kind about one practice starts with: the care group, and the practice."""

    care_group: CareGroupPart
    practice: PracticePart


# --- conversations -------------------------------------------------------------------------------------------


class ConversationPart(Part):
    kind: str  # start | annual | extra
    start: Moment
    end: Moment
    location: str
    programme: str | None  # a start conversation's programme


class Attendee(Part):
    role: str
    name: str
    email: str | None


class ConversationInvitation(ToPractice):
    """``conversation_invitation``: to every attendee, with a calendar invite. ``calendar_key`` is the
    conversation's stable key, the same for every recipient (all invitations land on one calendar entry);
    ``calendar_sequence`` rises each time the conversation is moved (calendars update the entry)."""

    conversation: ConversationPart
    organizer: PersonPart
    attendees: list[Attendee]
    calendar_key: str
    calendar_sequence: int
    prepare: Preparation | None = None


class ConversationReminder(ToPractice):
    """``conversation_reminder``: to the practice."""

    conversation: ConversationPart
    organizer: PersonPart
    prepare: Preparation | None = None


class DueConversation(Part):
    kind: str
    due_on: Day


class ConversationOverdue(ToPractice):
    """``conversation_overdue``: to the practice's officers."""

    conversation: DueConversation
    state: str
    last_held_on: Day | None = None


class GoalJudged(ToPractice):
    """``goal_judged``: to the practice and its officers, on a goal's day: met or not, by which figure."""

    goal: GoalLine
    reason: str
    set_on: Day  # the day of the conversation that set it


class AgreementOverdue(ToPractice):
    """``agreement_overdue``: to an agreement's owner (the practice, or its officers for the care group's), once,
    when it is past its due date and still open."""

    agreement: AgreementLine


# --- meetings, kits, courses ---------------------------------------------------------------------------------


class MeetingPart(Part):
    kind: str  # poh_meeting | practice_manager_meeting
    start: Moment
    end: Moment
    location: str
    topics: list[str]


class MeetingInvitation(ToPractice):
    """``meeting_invitation``: to each POH (or practice manager) of each practice, with a calendar invite."""

    meeting: MeetingPart
    organizer: PersonPart
    calendar_key: str
    calendar_sequence: int


class KitPart(Part):
    kind: str  # inhalation | insulin
    last_refreshed_on: str | None
    due_on: Day


class KitRefreshDue(ToPractice):
    """``kit_refresh_due``: to the practice."""

    kits: list[KitPart]
    contact: PersonPart | None = None


class ChecklistDue(ToPractice):
    """``checklist_due``: to the practice, before its yearly checklist of its own quality system (seed 003) is due,
    with the day of the annual conversation it prepares and the conditions it left open last time."""

    due_on: Day
    conversation_on: Day | None
    last_filled_on: Day | None
    open_conditions: list[ConditionLine]
    conditions: list[ConditionLine]  # every condition to answer (``answer`` empty)


class AccreditationDue(ToPractice):
    """``accreditation_due``: to the practice, weeks before its NHG accreditation lapses (``what``: ``valid_until``)
    or its three-yearly audit falls due (``audit``)."""

    what: str  # valid_until | audit
    due_on: Day
    valid_until: Day
    audited_on: Day | None = None


class PersonInRole(Part):
    name: str
    role: str


class CoursePart(Part):
    code: str
    name: str | None
    due_on: Day
    last_completed_on: str | None
    url: str | None


class TrainingDue(ToPractice):
    """``training_due``: to the person whose course falls due."""

    person: PersonInRole
    courses: list[CoursePart]


class TrainingOverdue(ToPractice):
    """``training_overdue``: once, after the due date, to the person and to the practice's practice manager."""

    person: PersonInRole
    course: CoursePart


class GpGroupPart(Part):
    code: str
    name: str


class SpreadPart(Part):
    """The care group's own spread of an indicator over all its practices, for the same period."""

    practices: int
    median: Number
    p10: Number
    p90: Number


class PackFigurePart(Part):
    label: str
    agb_code: str | None = None  # left out when the GP group shows its practices anonymised
    score: Number | None
    numerator: int | None = None
    denominator: int | None = None
    small_numbers: bool = False


class PackIndicatorPart(Part):
    programme: str
    indicator: str
    name: str | None
    target: Number | None
    national_average: Number | None
    national_average_year: int | None
    spread: SpreadPart | None
    practices: list[PackFigurePart]


class MirrorPackPart(Part):
    """The GP group's pack: every practice's main indicators side by side (seed 1: "het bespreken van de
    indicatoren en het van elkaar leren")."""

    period_end: Day | None
    anonymised: bool
    min_denominator: int
    indicators: list[PackIndicatorPart]


class MirrorMeetingInvitation(Part):
    """``mirror_meeting_invitation``: to the GPs, POH and practice manager of every practice of the GP group, with a
    calendar invite and the group's pack."""

    care_group: CareGroupPart
    gp_group: GpGroupPart
    practice: PracticePart
    meeting: MeetingPart
    organizer: PersonPart
    calendar_key: str
    calendar_sequence: int
    pack: MirrorPackPart


class MirrorAccreditationRequest(Part):
    """``mirror_accreditation_request``: to the GP group's EKC, once a held mirror meeting asks for accreditation."""

    care_group: CareGroupPart
    gp_group: GpGroupPart
    meeting_id: str
    held_on: Day
    attendees: list[Attendee]
    requested_by: PersonPart | None = None


# --- instruction cards ---------------------------------------------------------------------------------------


class CardSetPart(Part):
    version: str
    published_on: Day
    note: str | None = None  # what changed


class CardsPublished(ToPractice):
    """``cards_published``: to the practice's own address, once per set: the version, what changed, by when its
    folder should be current and which version it has now."""

    cards: CardSetPart
    current_by: Day
    folder_version: str | None = None


class FolderBehindPart(Part):
    practice: PracticePart
    version: str | None  # the version its folder has (None: never marked current)
    current_on: Day | None
    behind_since: Day


class CardsBehind(Part):
    """``cards_behind``: to the officers, once per set whose deadline passed: the practices still behind on it."""

    care_group: CareGroupPart
    cards: CardSetPart
    current_by: Day
    practices: list[FolderBehindPart]


# --- addresses -----------------------------------------------------------------------------------------------


class HeldPart(Part):
    """The message that could not go: what an officer needs to find it."""

    key: str
    kind: str
    subject: str
    recipient_name: str
    recipient_role: str


class MissingAddress(Part):
    """``missing_address``: to the officers, about a message held for want of a usable address; ``refused`` is
    the address a mail server refused for good."""

    care_group: CareGroupPart
    practice: PracticePart | None = None
    held: HeldPart
    reason: str
    refused: str | None = None


class PartnerPart(Part):
    name: str
    kind: str


class NetworkPlanDue(ToPractice):
    """``network_plan_due``: to each practice of a GP group, weeks before the yearly evaluation of the group's plan
    with its partners falls due (seed 5)."""

    gp_group: GpGroupPart
    due_on: Day
    agreed_on: Day
    last_evaluated_on: Day | None = None
    partners: list[PartnerPart]


MODELS: dict[str, type[Part]] = {  # the payload of each message kind
    "board_escalation": BoardNotice, "board_progress": BoardNotice, "board_recovery": BoardNotice,
    "board_left": BoardNotice, "board_digest": BoardDigest, "conversation_invitation": ConversationInvitation,
    "conversation_reminder": ConversationReminder, "conversation_overdue": ConversationOverdue,
    "meeting_invitation": MeetingInvitation, "kit_refresh_due": KitRefreshDue, "training_due": TrainingDue,
    "missing_address": MissingAddress, "training_overdue": TrainingOverdue, "goal_judged": GoalJudged,
    "agreement_overdue": AgreementOverdue,
    "mirror_meeting_invitation": MirrorMeetingInvitation, "mirror_accreditation_request": MirrorAccreditationRequest,
    "checklist_due": ChecklistDue, "accreditation_due": AccreditationDue,
    "cards_published": CardsPublished, "cards_behind": CardsBehind, "network_plan_due": NetworkPlanDue,
}
