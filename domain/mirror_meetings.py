"""The mirror meeting of a GP group (spiegelbijeenkomst, seed section 1): on the group's request, a quality
conversation at the level of the GP group, "de nadruk op het bespreken van de indicatoren en het van elkaar leren",
accreditable by the group's EKC.

A mirror meeting has its own lifecycle (``statemachines.mirror_meeting``): requested (and with it planned on a
working day within ``Policy.mirror_meeting_within_weeks``), held, or cancelled; its accreditation is recorded when it
is held and may change afterwards (requested, then granted or refused). Every change is an event; the view is the
fold of its events. Its pack puts every practice of the group side by side (``mirror_pack``).

Invariants:
- A view is exactly the fold of its events (``MirrorMeetingView.apply``): replaying them rebuilds it.
- The days in an event are the days things happened; when it was recorded is kept beside them.
- The pack is a pure function of the figures: each practice's latest figure of the group's latest period, against
  the target, the national average and the care group's own spread (median, 10th and 90th percentile over all its
  practices); a figure over fewer than ``min_denominator`` patients is marked as such; practices named or, when the
  group wants it, shown as "Praktijk A, B, ..." in the order of their AGB codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.calendar import WorkingCalendar
from domain.indicator_views import Reference, reference
from domain.indicators import IndicatorFigures, IndicatorKey, IndicatorScore
from domain.policy import Policy


class MirrorState(StrEnum):
    NEW = "new"  # before its request
    REQUESTED = "requested"  # asked for by the GP group, planned on a working day
    HELD = "held"
    CANCELLED = "cancelled"


class MirrorTrigger(StrEnum):
    REQUEST = "request"
    HOLD = "hold"
    ACCREDIT = "accredit"  # the accreditation's state changes after the meeting (requested, granted, refused)
    CANCEL = "cancel"


class Accreditation(StrEnum):
    NONE = "none"  # not asked for
    REQUESTED = "requested"  # asked of the group's EKC
    GRANTED = "granted"
    REFUSED = "refused"


MIRROR_STATE_NAMES_NL = {MirrorState.NEW: "nieuw", MirrorState.REQUESTED: "aangevraagd",
                         MirrorState.HELD: "gehouden", MirrorState.CANCELLED: "vervallen"}
ACCREDITATION_NAMES_NL = {Accreditation.NONE: "geen", Accreditation.REQUESTED: "aangevraagd",
                          Accreditation.GRANTED: "toegekend", Accreditation.REFUSED: "afgewezen"}


@dataclass(frozen=True)
class MirrorEvent:
    """One change of a mirror meeting: the day it happened (``on``), when it was recorded and by whom."""

    meeting_id: str
    seq: int
    trigger: MirrorTrigger
    from_state: MirrorState
    to_state: MirrorState
    on: date
    recorded_at: datetime
    actor: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MirrorMeetingView:
    """Where a mirror meeting stands: the fold of its events."""

    id: str
    gp_group: str = ""
    status: MirrorState = MirrorState.NEW
    version: int = 0
    requested_on: date | None = None
    by: str | None = None  # who asked for it on behalf of the GP group
    due_on: date | None = None  # within the policy's weeks of the request
    planned_on: date | None = None  # the working day it is set for
    held_on: date | None = None
    attendees: tuple[tuple[str, str], ...] = ()  # (role, name)
    accreditation: Accreditation = Accreditation.NONE
    accreditation_on: date | None = None
    ekc: str | None = None  # the EKC who accredits it
    cancel_reason: str | None = None

    def apply(self, event: MirrorEvent) -> MirrorMeetingView:
        d = event.details
        view = replace(self, status=event.to_state, version=event.seq)
        if event.trigger is MirrorTrigger.REQUEST:
            return replace(view, gp_group=d["gp_group"], requested_on=event.on, by=d.get("by"),
                           due_on=date.fromisoformat(d["due_on"]), planned_on=date.fromisoformat(d["planned_on"]))
        if event.trigger is MirrorTrigger.HOLD:
            accreditation = Accreditation(d.get("accreditation", "none"))
            return replace(view, held_on=event.on, attendees=tuple((a["role"], a["name"]) for a in d["attendees"]),
                           accreditation=accreditation,
                           accreditation_on=event.on if accreditation is not Accreditation.NONE else None,
                           ekc=d.get("ekc") or self.ekc)
        if event.trigger is MirrorTrigger.ACCREDIT:
            return replace(view, accreditation=Accreditation(d["accreditation"]), accreditation_on=event.on,
                           ekc=d.get("ekc") or self.ekc)
        return replace(view, cancel_reason=d.get("reason"))


def mirror_meeting_day(requested_on: date, policy: Policy, calendar: WorkingCalendar) -> tuple[date, date]:
    """(due, planned): the meeting falls due ``mirror_meeting_within_weeks`` after the request (the last working day
    on or before), and is set for the last working day on the policy's meeting weekday before that, at least a week
    after the request; the due date itself when no such day exists."""
    due = calendar.on_or_before(requested_on + timedelta(weeks=policy.mirror_meeting_within_weeks))
    day = due - timedelta(days=(due.weekday() - policy.meeting_weekday) % 7)
    while day > requested_on + timedelta(days=7):
        if calendar.is_working_day(day):
            return due, day
        day -= timedelta(days=7)
    return due, due


# --- the pack -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackFigure:
    """One practice's figure in the pack; ``agb_code`` is left out when the group shows its practices anonymised."""

    label: str
    agb_code: str | None
    score: float | None  # None: no figure of this practice for the period
    numerator: int | None = None
    denominator: int | None = None
    small_numbers: bool = False  # fewer patients than the policy's min_denominator: shown, not judged


@dataclass(frozen=True)
class PackIndicator:
    programme: str
    indicator: str
    name: str | None
    target: float | None
    national_average: float | None
    national_average_year: int | None
    spread: Reference | None  # the care group's own spread across all its practices, for the same period
    practices: tuple[PackFigure, ...]


@dataclass(frozen=True)
class MirrorPack:
    period_end: date | None
    anonymised: bool
    indicators: tuple[PackIndicator, ...]


def practice_labels(codes: Sequence[str], names: Sequence[str], anonymise: bool) -> list[str]:
    """How the pack names the practices: by name, or "Praktijk A", "Praktijk B", ... in the order given."""
    if not anonymise:
        return list(names)
    return [f"Praktijk {chr(ord('A') + i)}" if i < 26 else f"Praktijk {i + 1}" for i in range(len(codes))]


def mirror_pack(group: Sequence[tuple[str, str]], figures: IndicatorFigures, on: date, policy: Policy,
                anonymise: bool, spread: Mapping[tuple[IndicatorKey, date], Reference] | None = None) -> MirrorPack:
    """The GP group's pack: for each main indicator, every practice of ``group`` ((agb_code, name), in AGB order)
    side by side for the latest period known on ``on`` among them, against target, national average and the care
    group's spread: ``spread`` when given (``indicator_views.references`` of every practice's figures; then
    ``figures`` need only hold the group's scores), else taken from ``figures``, which then holds the scores of
    every practice of the care group."""
    codes = sorted(code for code, _ in group)
    names = dict(group)
    mine = [s for s in figures.scores if s.agb_code in names and s.period_end <= figures.known_until(on)]
    if not mine:
        return MirrorPack(None, anonymise, ())
    period = max(s.period_end for s in mine)
    labels = dict(zip(codes, practice_labels(codes, [names[c] for c in codes], anonymise), strict=True))
    in_period: dict[IndicatorKey, list[IndicatorScore]] = {}
    for score in figures.scores_for_period(period):  # by indicator once (not filtered again per indicator)
        in_period.setdefault(score.key, []).append(score)
    indicators = []
    for key in sorted({s.key for s in mine if s.period_end == period}, key=str):
        definition = figures.catalogue.get(key)
        if definition is None or not definition.main:
            continue
        by_practice = {s.agb_code: s for s in in_period.get(key, []) if s.agb_code in names}
        average = figures.national_average(key, period)
        row = []
        for code in codes:
            s = by_practice.get(code)
            row.append(PackFigure(labels[code], None if anonymise else code,
                                  round(100 * s.numerator / s.denominator, 1) if s else None,
                                  s.numerator if s else None, s.denominator if s else None,
                                  bool(s and s.denominator < policy.min_denominator)))
        indicators.append(PackIndicator(
            key.programme.value, key.indicator, definition.name, figures.targets.get(key),
            average[1] if average else None, average[0] if average else None,
            spread.get((key, period)) if spread is not None else reference(in_period.get(key, [])), tuple(row)))
    return MirrorPack(period, anonymise, tuple(indicators))
