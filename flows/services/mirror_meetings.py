"""A GP group's mirror meeting as tracked work (seed section 1, "Spiegelbijeenkomst lokale huisartsengroep"):
requested by the group, planned on a working day within the policy's weeks, its practices invited with the group's
pack, held with its attendees, accredited by the group's EKC, or cancelled. Each recording takes the day it happened
and the moment it is recorded.

Invariants:
- A mirror meeting's id is derived from the GP group and the day it was requested: the same request recorded twice
  is one meeting.
- The request and its obligation (``mirror_meeting``, on the working calendar) are stored in one transaction; the
  sweep queues the invitations when their day comes (``flows.services.due_notices``). Held or cancelled closes the
  obligation in the same transaction as the event.
- An accreditation requested (when held, or later) queues one request to the EKC in the same transaction.
- A change the meeting cannot take (held before it was requested, anything after cancelled, an accreditation the
  EKC already decided) is refused naming what can happen instead, and nothing is stored; a day in the future too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from domain.clock import as_amsterdam, future_fact
from domain.conversations import Attendee
from domain.errors import InFutureError, InputError, NotFoundError
from domain.inputs import check_date, check_name, check_text, checked
from domain.messages import NAMESPACE
from domain.mirror_meetings import (
    Accreditation,
    MirrorEvent,
    MirrorMeetingView,
    MirrorPack,
    MirrorTrigger,
    mirror_meeting_day,
    mirror_pack,
)
from domain.obligations import Obligation, ObligationKind, ObligationStatus, calendar_fingerprint, next_notice_on
from domain.registry import GpGroup, Practice, Role
from flows.services.context import Services
from notifications.compose import mirror_accreditation_messages, mirror_pack_part
from notifications.payloads import MirrorPackPart
from statemachines.mirror_meeting import fire, replay
from storage import mirror_meetings as store
from storage import obligations as obligation_store
from storage import repository as repo


class UnknownGpGroupError(NotFoundError):
    """A GP group the registry does not know."""


class UnknownMirrorMeetingError(NotFoundError):
    """A mirror meeting id that is not known."""


class MirrorMeetingInFutureError(InFutureError):
    """A mirror meeting requested, held or accredited on a day that has not come."""


class NoEkcError(InputError):
    """Accreditation asked for without an EKC to ask it of."""


def meeting_id(gp_group: str, requested_on: date) -> str:
    return uuid.uuid5(NAMESPACE, f"mirror_meeting:{gp_group}:{requested_on.isoformat()}").hex[:12]


def obligation_key(view: MirrorMeetingView) -> str:
    return f"mirror_meeting:{view.gp_group}:{view.id}"


def _not_in_future(on: date, now: datetime, what: str) -> None:
    checked(check_date, on, what)
    future = future_fact(f"{what} op", on, as_amsterdam(now).date(), "leg het vast op of na die dag")
    if future:
        raise MirrorMeetingInFutureError(future)


def gp_group_or_raise(s: Session, code: str) -> GpGroup:
    """The registry's GP group of ``code``, or ``UnknownGpGroupError`` naming those it knows."""
    groups = {g.code: g for g in repo.gp_groups(s)}
    if code not in groups:
        raise UnknownGpGroupError(f"huisartsengroep {code!r} is niet bekend in het register (bekend: "
                                  f"{', '.join(sorted(groups)) or 'geen'}); er is niets vastgelegd")
    return groups[code]


def _load(s: Session, key: str) -> MirrorMeetingView:
    view = store.load(s, key)
    if view is None:
        raise UnknownMirrorMeetingError(f"spiegelbijeenkomst {key} is niet bekend (qualitycycle mirror-meeting)")
    return view


def request_mirror_meeting(services: Services, gp_group: str, on: date, now: datetime, actor: str, *,
                           by: str | None = None) -> MirrorMeetingView:
    """A GP group asks for a mirror meeting on ``on``: it is planned on a working day within the policy's weeks and
    its practices are invited when the invitation's day comes. The same request again changes nothing."""
    _not_in_future(on, now, "aanvraag van een spiegelbijeenkomst")
    by = checked(check_name, by, "--by") if by else None
    now = as_amsterdam(now)
    services = services.in_force(on)
    policy, calendar = services.policy, services.calendar
    with services.transaction() as s:
        gp_group_or_raise(s, gp_group)
        key = meeting_id(gp_group, on)
        known = store.load(s, key)
        if known is not None:
            return known
        due, planned = mirror_meeting_day(on, policy, calendar)
        details: dict[str, Any] = {"gp_group": gp_group, "due_on": due.isoformat(), "planned_on": planned.isoformat()}
        if by:
            details["by"] = by
        view = MirrorMeetingView(id=key)
        event = fire(view, MirrorTrigger.REQUEST, on=on, recorded_at=now, actor=actor, details=details)
        view = view.apply(event)
        store.append(s, event, view)
        obligation = Obligation(
            obligation_key(view), ObligationKind.MIRROR_MEETING, None, gp_group, on, due, planned,
            {"within_weeks": policy.mirror_meeting_within_weeks, "meeting_weekday": policy.meeting_weekday,
             "invitation_days_before": policy.invitation_days_before, "calendar": calendar_fingerprint(calendar)},
            {"meeting_id": key})
        obligation_store.add_obligations(
            s, [obligation], next_notice={obligation.key: next_notice_on(obligation, policy, frozenset())}, now=now,
            actor=actor, reason=f"aangevraagd door {by or 'de huisartsengroep'} op {on.isoformat()}")
        return view


def _close_obligation(s: Session, view: MirrorMeetingView, status: ObligationStatus, on: date, now: datetime,
                      actor: str, reason: str) -> None:
    for row in obligation_store.open_obligations(s, kinds=[ObligationKind.MIRROR_MEETING]):
        if row.key == obligation_key(view):
            obligation_store.close(s, row, status, on, now=now, actor=actor, reason=reason)


def _ask_accreditation(s: Session, view: MirrorMeetingView, ekc: str, now: datetime, actor: str) -> None:
    group = gp_group_or_raise(s, view.gp_group)
    officers = {p.name: p for p in repo.contacts(s, Role.OFFICER)}
    requested_by = officers.get(actor.split(":", 1)[-1]) or next(iter(officers.values()), None)
    assert view.held_on is not None  # only a held meeting is accredited (statemachines.mirror_meeting)
    messages = mirror_accreditation_messages(
        view.id, group, view.held_on, view.attendees,
        ekc, requested_by, repo.care_group_name(s))
    repo.queue_messages(s, messages, created_at=now)


def _ekc_or_raise(s: Session, view: MirrorMeetingView, given: str | None) -> str:
    if given:
        return checked(check_name, given, "--ekc")
    group = gp_group_or_raise(s, view.gp_group)
    if group.ekc is not None:
        return group.ekc.name
    if view.ekc:
        return view.ekc
    raise NoEkcError(f"--ekc: huisartsengroep {view.gp_group} heeft geen EKC in het register; noem de EKC met --ekc "
                     "of voeg haar toe aan het register (gp_groups: ekc: {name, email}); er is niets vastgelegd")


def hold_mirror_meeting(services: Services, key: str, on: date, now: datetime, actor: str, *,
                        attendees: Sequence[Attendee] = (), accreditation: Accreditation = Accreditation.NONE,
                        ekc: str | None = None) -> MirrorMeetingView:
    """Record that a mirror meeting was held on ``on``, who attended and whether accreditation is asked of the
    group's EKC (then the EKC gets the request)."""
    _not_in_future(on, now, "spiegelbijeenkomst")
    now = as_amsterdam(now)
    with services.transaction() as s:
        view = _load(s, key)
        details: dict[str, Any] = {"attendees": [{"role": a.role.value, "name": a.name} for a in attendees],
                                   "accreditation": accreditation.value}
        if accreditation is not Accreditation.NONE or ekc:
            details["ekc"] = _ekc_or_raise(s, view, ekc)
        event = fire(view, MirrorTrigger.HOLD, on=on, recorded_at=now, actor=actor, details=details)
        view = view.apply(event)
        store.append(s, event, view)
        _close_obligation(s, view, ObligationStatus.DONE, on, now, actor, f"gehouden op {on.isoformat()}")
        if accreditation is Accreditation.REQUESTED:
            _ask_accreditation(s, view, details["ekc"], now, actor)
        return view


def record_accreditation(services: Services, key: str, status: Accreditation, on: date, now: datetime, actor: str,
                         *, ekc: str | None = None) -> MirrorMeetingView:
    """The accreditation of a held mirror meeting asked of the EKC (requested), or the EKC's decision."""
    _not_in_future(on, now, "accreditatie")
    now = as_amsterdam(now)
    with services.transaction() as s:
        view = _load(s, key)
        details: dict[str, Any] = {"accreditation": status.value, "ekc": _ekc_or_raise(s, view, ekc)}
        event = fire(view, MirrorTrigger.ACCREDIT, on=on, recorded_at=now, actor=actor, details=details)
        view = view.apply(event)
        store.append(s, event, view)
        if status is Accreditation.REQUESTED:
            _ask_accreditation(s, view, details["ekc"], now, actor)
        return view


def cancel_mirror_meeting(services: Services, key: str, reason: str, now: datetime, actor: str) -> MirrorMeetingView:
    """A requested mirror meeting that will not be held, and why (the day it is recorded)."""
    now = as_amsterdam(now)
    reason = checked(check_text, reason, "--reason")
    with services.transaction() as s:
        view = _load(s, key)
        event = fire(view, MirrorTrigger.CANCEL, on=now.date(), recorded_at=now, actor=actor,
                     details={"reason": reason})
        view = view.apply(event)
        store.append(s, event, view)
        _close_obligation(s, view, ObligationStatus.CANCELLED, now.date(), now, actor, reason)
        return view


def mirror_meetings(services: Services, gp_group: str | None = None) -> list[MirrorMeetingView]:
    """The mirror meetings of a GP group (or of all)."""
    with services.session() as s:
        if gp_group is not None:
            gp_group_or_raise(s, gp_group)
        return store.of_group(s, gp_group)


def pack_of(s: Session, services: Services, group: GpGroup, members: Sequence[Practice], on: date) -> MirrorPack:
    """The GP group's mirror pack on ``on``: its practices' figures known then, against the care group's spread of
    the group's latest period, read as columns for that period only (no other period of the other practices)."""
    reference = repo.reference_figures(s, services.policy.figures_count_after_days)
    mine = [x for scores in repo.load_scores(s, sorted(p.agb_code for p in members)).values() for x in scores]
    known = reference.with_scores(mine)
    periods = {x.period_end for x in mine if x.period_end <= known.known_until(on)}
    spread = repo.period_spread(s, max(periods)) if periods else {}
    return mirror_pack([(p.agb_code, p.name) for p in members], known, on, services.policy, group.anonymise_mirror,
                       spread)


def group_pack(services: Services, gp_group: str, on: date) -> MirrorPackPart:
    """The pack a GP group's mirror meeting would carry on ``on`` (the practices still in the cycle), as its
    invitation carries it."""
    with services.session() as s:
        group = gp_group_or_raise(s, gp_group)
        pack = pack_of(s, services, group, repo.practices_in_cycle(s, gp_group), on)
    return mirror_pack_part(pack, services.policy.min_denominator)


@dataclass(frozen=True)
class MirrorMeetingReplay:
    """A mirror meeting rebuilt from its events, beside its stored projection."""

    stored: MirrorMeetingView | None
    rebuilt: MirrorMeetingView
    events: list[MirrorEvent]

    @property
    def agrees(self) -> bool:
        return self.stored == self.rebuilt


def replay_mirror_meeting(services: Services, key: str) -> MirrorMeetingReplay:
    with services.session() as s:
        stored, events = store.load(s, key), store.events(s, key)
    return MirrorMeetingReplay(stored, replay(key, events), events)
