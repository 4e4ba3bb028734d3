"""Calendar invitations (RFC 5545) for conversations and meetings, in Europe/Amsterdam.

Invariants: ``METHOD:REQUEST`` with one VEVENT; its UID is derived from a stable key (the event's,
so every invitation and every retry of it lands on the same calendar entry); DTSTART/DTEND carry
``TZID=Europe/Amsterdam`` and the calendar holds that VTIMEZONE (the EU rule: summer time from the
last Sunday of March 02:00 to the last Sunday of October 03:00); DTSTAMP is the moment given, never
the wall clock, so the same input gives the same bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar

from domain.clock import AMSTERDAM, as_amsterdam
from domain.messages import uuid5_text

TZID = "Europe/Amsterdam"
PRODID = "-//qualitycycle//kwaliteitscyclus zorggroep//NL"


@dataclass(frozen=True)
class CalendarPerson:
    name: str
    email: str | None
    role: str | None = None  # the Dutch role, shown with the name: "C. Bakker (praktijkhoudende huisarts)"
    required: bool = True


def event_uid(key: str) -> str:
    return f"{uuid5_text('calendar:' + key)}@qualitycycle"


def amsterdam_timezone() -> icalendar.Timezone:
    """VTIMEZONE for Europe/Amsterdam as the EU rule (RRULE), as mail clients write it themselves."""
    tz = icalendar.Timezone()
    tz.add("tzid", TZID)
    summer = icalendar.TimezoneDaylight()
    summer.add("tzname", "CEST")
    summer.add("tzoffsetfrom", timedelta(hours=1))
    summer.add("tzoffsetto", timedelta(hours=2))
    summer.add("dtstart", datetime(1970, 3, 29, 2, 0))  # noqa: DTZ001 (local time of the rule, by definition)
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1SU"})
    winter = icalendar.TimezoneStandard()
    winter.add("tzname", "CET")
    winter.add("tzoffsetfrom", timedelta(hours=2))
    winter.add("tzoffsetto", timedelta(hours=1))
    winter.add("dtstart", datetime(1970, 10, 25, 3, 0))  # noqa: DTZ001
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1SU"})
    tz.add_component(summer)
    tz.add_component(winter)
    return tz


@functools.cache
def _timezone_lines() -> bytes:
    """The VTIMEZONE as it stands in every invite: the same seventeen lines, serialized once per process (they were
    two fifths of serializing an invite)."""
    return bytes(amsterdam_timezone().to_ical())


def _address(person: CalendarPerson, *, attendee: bool) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = f"{person.name} ({person.role})" if person.role else person.name
    if attendee:
        address.params["ROLE"] = "REQ-PARTICIPANT" if person.required else "OPT-PARTICIPANT"
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "TRUE"
        address.params["CUTYPE"] = "INDIVIDUAL"
    return address


def invite_bytes(cal: icalendar.Calendar) -> bytes:
    """An invite's calendar (``invitation_calendar``) with the VTIMEZONE, as bytes with CRLF line ends."""
    # the VTIMEZONE goes between the calendar's properties and the event, where ``add_component`` before the event
    # puts it: a component's lines are the same alone as inside its parent (a test compares the two)
    head, event_begins, rest = bytes(cal.to_ical()).partition(b"BEGIN:VEVENT\r\n")
    return head + _timezone_lines() + event_begins + rest


def invitation_calendar(
    *,
    key: str,
    start: datetime,
    end: datetime,
    summary: str,
    description: str,
    location: str | None,
    organizer: CalendarPerson,
    attendees: Sequence[CalendarPerson],
    now: datetime,
    sequence: int = 0,
) -> icalendar.Calendar:
    """The VCALENDAR of an invite, METHOD:REQUEST and one VEVENT, without its VTIMEZONE (``invite_bytes`` adds it)."""
    if start.tzinfo is None or end.tzinfo is None or now.tzinfo is None:
        raise ValueError("calendar moments must be timezone-aware")
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "REQUEST")
    event = icalendar.Event()
    event.add("uid", event_uid(key))
    event.add("dtstamp", as_amsterdam(now).replace(microsecond=0).astimezone(UTC))
    event.add("dtstart", start.astimezone(AMSTERDAM))
    event.add("dtend", end.astimezone(AMSTERDAM))
    event.add("sequence", sequence)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("summary", summary)
    event.add("description", description)
    if location:
        event.add("location", location)
    if organizer.email:
        event.add("organizer", _address(organizer, attendee=False))
    for person in attendees:
        if person.email:
            event.add("attendee", _address(person, attendee=True))
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Herinnering: {summary}")
    alarm.add("trigger", timedelta(days=-1))
    event.add_component(alarm)
    cal.add_component(event)
    return cal
