"""What an obligation's notice stage asks to be sent: the outbox messages, with payloads and Dutch subjects.

The sweep (``flows/services/sweep.py``) decides *when* (``domain.obligations.stages_to_send``); this module
decides *what and to whom*, as pure functions of the obligation, the practice and the care group's
people. The payloads are the ones ``notifications/rendering.py`` documents.

Invariants:
- Keys are deterministic (what, for whom, about which obligation and date), so a rerun, a retry or a
  second worker lands on the same outbox rows; a rescheduled conversation or meeting gets new keys
  (the practice must hear of the new date).
- A message to a practice goes to that practice's own registered addresses only; a person without an
  address gets a message with no address, which the dispatcher holds and reports to an officer.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.clock import AMSTERDAM
from domain.messages import OutboxMessage
from domain.obligations import KIT_NAMES_NL, KitKind, Obligation, ObligationKind
from domain.policy import Policy
from domain.registry import Person, Practice, Role
from domain.rules.attendance import MEETING_ROLES, invited_roles
from domain.vocabulary import ConversationKind
from notifications.wording import MEETING_NAMES_NL, conversation_nl, date_nl

CONVERSATION_OF = {
    ObligationKind.START_CONVERSATION: ConversationKind.START,
    ObligationKind.ANNUAL_CONVERSATION: ConversationKind.ANNUAL,
    ObligationKind.EXTRA_CONVERSATION: ConversationKind.EXTRA,
}
MEETING_TOPICS_NL = (  # seed section 4: what the meetings discuss
    "Landelijke ontwikkelingen",
    "Ontwikkelingen binnen de zorggroep",
    "Ontwikkelingen in de huisartsenpraktijken",
)


def practice_payload(practice: Practice) -> dict[str, Any]:
    return {"agb_code": practice.agb_code, "name": practice.name, "gp_group": practice.gp_group}


def _person(person: Person) -> dict[str, Any]:
    return {"name": person.name, "email": person.email}


def _who(email: str | None, name: str) -> str:
    return email or f"-{name}"


def officers_for(agb_code: str, officers: Sequence[Person]) -> tuple[Person, ...]:
    """The two officers who attend a practice's conversations (seed section 1: two from the care group),
    spread over the officers by practice so no one officer carries every practice."""
    if not officers:
        return ()
    ordered = sorted(officers, key=lambda p: (p.name, p.email or ""))
    first = zlib.crc32(agb_code.encode()) % len(ordered)
    picked = [ordered[first]] + ([ordered[(first + 1) % len(ordered)]] if len(ordered) > 1 else [])
    return tuple(picked)


def _moment(day: date, at: time, minutes: int) -> tuple[str, str]:
    start = datetime.combine(day, at, tzinfo=AMSTERDAM)
    return start.isoformat(), (start + timedelta(minutes=minutes)).isoformat()


def conversation_messages(stage: str, obligation: Obligation, practice: Practice, officers: Sequence[Person],
                          care_group: str, policy: Policy, prepare: dict[str, Any] | None = None,
                          state: str | None = None, last_held_on: date | None = None,
                          sequence: int = 0) -> list[OutboxMessage]:
    """An ``invitation`` (to every attendee the seed requires, with a calendar invite), a ``reminder`` (to
    the practice) or an ``overdue`` notice (to the practice's two officers) for a conversation."""
    kind = CONVERSATION_OF[obligation.kind]
    agb = practice.agb_code
    day = obligation.planned_on or obligation.due_on
    start, end = _moment(day, policy.conversation_start, policy.conversation_minutes)
    attending_officers = officers_for(agb, officers)
    organizer = _person(attending_officers[0]) if attending_officers else {"name": care_group, "email": None}
    conversation: dict[str, Any] = {
        "kind": kind.value, "start": start, "end": end, "location": f"{practice.name} (praktijkbezoek)",
        "programme": obligation.subject if kind is ConversationKind.START and obligation.subject != "cycle" else None,
    }
    base: dict[str, Any] = {"care_group": {"name": care_group}, "practice": practice_payload(practice)}
    name = conversation_nl(kind.value)
    if stage == "invitation":
        people = [p for p in practice.people if p.role in invited_roles(kind)]
        attendees = [{"role": p.role.value, "name": p.name, "email": p.email} for p in people]
        attendees += [{"role": "officer", "name": p.name, "email": p.email} for p in attending_officers]
        recipients: list[tuple[str, str | None, str]] = [(p.name, p.email, p.role.value) for p in people]
        if not people:  # no attendees registered: the practice's own address
            recipients = [(practice.name, practice.email, "practice")]
        recipients += [(p.name, p.email, "officer") for p in attending_officers]
        # one calendar entry per duty: a moved conversation updates it (same UID, higher SEQUENCE)
        payload = base | {"conversation": conversation, "organizer": organizer, "attendees": attendees,
                          "calendar_key": f"conversation:{obligation.key}", "calendar_sequence": sequence}
        if prepare is not None:
            payload["prepare"] = prepare
        subject = f"Uitnodiging {name} {practice.name}, {date_nl(day, weekday=True)}"
        return [OutboxMessage(
            key=f"conversation_invitation:{agb}:{kind.value}:{day.isoformat()}:{_who(email, who)}",
            kind="conversation_invitation", agb_code=agb, recipient_name=who, recipient_email=email,
            recipient_role=role, subject=subject, payload=payload) for who, email, role in recipients]
    if stage == "reminder":
        payload = base | {"conversation": conversation, "organizer": organizer}
        if prepare is not None:
            payload["prepare"] = prepare
        return [OutboxMessage(
            key=f"conversation_reminder:{agb}:{kind.value}:{day.isoformat()}:{_who(practice.email, practice.name)}",
            kind="conversation_reminder", agb_code=agb, recipient_name=practice.name,
            recipient_email=practice.email, recipient_role="practice",
            subject=f"Herinnering: {name} op {date_nl(day, weekday=True)}", payload=payload)]
    if stage == "overdue":
        payload = base | {"conversation": {"kind": kind.value, "due_on": obligation.due_on.isoformat()},
                          "state": state or "annual_cycle"}
        if last_held_on is not None:
            payload["last_held_on"] = last_held_on.isoformat()
        to = attending_officers or (Person(name=f"Functionarissen {care_group}", role=Role.OFFICER),)
        return [OutboxMessage(
            key=f"conversation_overdue:{agb}:{kind.value}:{obligation.due_on.isoformat()}:{_who(o.email, o.name)}",
            kind="conversation_overdue", agb_code=agb, recipient_name=o.name, recipient_email=o.email,
            recipient_role="officer", subject=f"{name[0].upper()}{name[1:]} {practice.name} is over tijd",
            payload=payload) for o in to]
    raise ValueError(f"unknown conversation notice stage {stage!r}")


def meeting_messages(obligation: Obligation, practices: Sequence[Practice], organizer: Person | None,
                     care_group: str, policy: Policy, sequence: int = 0) -> list[OutboxMessage]:
    """An invitation with a calendar invite to every POH (or practice manager) of every practice."""
    day = obligation.due_on
    start, end = _moment(day, policy.meeting_start, policy.meeting_minutes)
    kind = obligation.kind.value
    meeting = {"kind": kind, "start": start, "end": end, "location": policy.meeting_location,
               "topics": list(MEETING_TOPICS_NL)}
    organizer_payload = _person(organizer) if organizer else {"name": care_group, "email": None}
    subject = f"Uitnodiging {MEETING_NAMES_NL[kind]} {date_nl(day, weekday=True)}"
    roles = MEETING_ROLES[obligation.kind]
    out = []
    for practice in practices:
        for person in practice.people:
            if person.role not in roles:
                continue
            who = _who(person.email, person.name)
            out.append(OutboxMessage(
                key=f"meeting_invitation:{kind}:{day.isoformat()}:{practice.agb_code}:{who}",
                kind="meeting_invitation", agb_code=practice.agb_code, recipient_name=person.name,
                recipient_email=person.email, recipient_role=person.role.value, subject=subject,
                payload={"care_group": {"name": care_group}, "practice": practice_payload(practice),
                         "meeting": meeting, "organizer": organizer_payload,
                         "calendar_key": obligation.key, "calendar_sequence": sequence}))
    return out


def kit_messages(obligation: Obligation, practice: Practice, contact: Person | None,
                 care_group: str) -> list[OutboxMessage]:
    """Notice to the practice that one of its instruction kits is due for its two-yearly refresh."""
    kit = KitKind(obligation.subject)
    payload: dict[str, Any] = {
        "care_group": {"name": care_group}, "practice": practice_payload(practice),
        "kits": [{"kind": kit.value, "last_refreshed_on": obligation.details.get("last_refreshed_on"),
                  "due_on": obligation.due_on.isoformat()}],
    }
    if contact is not None:
        payload["contact"] = _person(contact)
    due = obligation.due_on.isoformat()
    return [OutboxMessage(
        key=f"kit_refresh_due:{practice.agb_code}:{kit.value}:{due}:{_who(practice.email, practice.name)}",
        kind="kit_refresh_due", agb_code=practice.agb_code, recipient_name=practice.name,
        recipient_email=practice.email, recipient_role="practice",
        subject=f"De {KIT_NAMES_NL[kit]} van {practice.name} wordt geactualiseerd", payload=payload)]


def training_messages(obligation: Obligation, practice: Practice, policy: Policy,
                      care_group: str) -> list[OutboxMessage]:
    """Reminder to a person that a mandatory course for their role falls due."""
    d = obligation.details
    person = next((p for p in practice.people if p.name == d["person"] and p.role.value == d["role"]), None)
    course = next((c for c in policy.mandatory_courses if c.code == d["course"]), None)
    if person is None or course is None:
        return []  # the person or the course is gone; planning cancels the obligation
    due = obligation.due_on.isoformat()
    return [OutboxMessage(
        key=f"training_due:{practice.agb_code}:{person.role.value}:{person.name}:{course.code}:{due}",
        kind="training_due", agb_code=practice.agb_code, recipient_name=person.name,
        recipient_email=person.email, recipient_role=person.role.value,
        subject=f"Verplichte scholing: {course.name} voor {date_nl(obligation.due_on)}",
        payload={"care_group": {"name": care_group}, "practice": practice_payload(practice),
                 "person": {"name": person.name, "role": person.role.value},
                 "courses": [{"code": course.code, "name": course.name, "due_on": due,
                              "last_completed_on": d.get("last_completed_on"), "url": course.url}]})]


PERIOD_NAMES_NL = {1: "Maandoverzicht", 2: "Tweemaandelijks overzicht", 3: "Kwartaaloverzicht",
                   4: "Viermaandelijks overzicht", 6: "Halfjaaroverzicht", 12: "Jaaroverzicht"}


def digest_messages(period_start: date, period_end: date, interval_months: int, trajectories: list[dict[str, Any]],
                    board: Sequence[Person], care_group: str) -> list[OutboxMessage]:
    """The board's periodic digest of every trajectory under the underperformer policy."""
    members = board or (Person(name="Bestuur", role=Role.BOARD),)
    title = PERIOD_NAMES_NL.get(interval_months, "Overzicht")
    subject = (f"{title} verbetertrajecten (beleid minder presterende praktijken), "
               f"{date_nl(period_start)} tot en met {date_nl(period_end)}")
    payload = {"care_group": {"name": care_group},
               "period": {"start": period_start.isoformat(), "end": period_end.isoformat()},
               "interval_months": interval_months, "trajectories": trajectories}
    return [OutboxMessage(
        key=f"board_digest:{period_start.isoformat()}:{_who(m.email, m.name)}", kind="board_digest", agb_code=None,
        recipient_name=m.name, recipient_email=m.email, recipient_role="board", subject=subject, payload=payload)
        for m in members]
