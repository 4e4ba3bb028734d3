"""The POH and practice-manager meetings as they happen, through the services over SQLite and PostgreSQL (seed
section 4): topics on the agenda go with the invitation, a moved meeting updates the same calendar entry, a meeting
is done when held with who came and its minutes, and a practice that came to none of a year's meetings is named in
its next conversation's pack."""

from __future__ import annotations

from datetime import date

import pytest

from flows.services import meetings, planning, queries, sweep
from flows.services.context import Services
from flows.testing.scenario import Scenario
from notifications.rendering import render
from statemachines.meeting import InvalidMeetingChangeError
from tests.integration.test_duties import DESCRIPTION, EIK, LINDE, at, event_of

FIRST = "poh_meeting:2025:1"  # Tuesday 11 February 2025


def invitations(services: Services, key: str) -> list:  # type: ignore[type-arg]
    return [m for m in queries.outbox_messages(services) if m.kind == "meeting_invitation"
            and m.payload["calendar_key"] == key]


def test_a_topic_goes_with_the_invitation_and_a_moved_meeting_updates_the_same_calendar_entry(
        services: Services) -> None:
    Scenario.build(services, DESCRIPTION)
    planning.plan_meetings(services, at("2025-01-06"))
    meetings.add_topic(services, FIRST, "Ervaringen met het oproepsysteem Kompas", at("2025-01-08"), "user:officer")
    planning.plan_meetings(services, at("2025-01-14"))  # four weeks ahead: the POH are invited
    first = invitations(services, FIRST)
    assert first and first[0].payload["meeting"]["topics"][-1] == "Ervaringen met het oproepsysteem Kompas"
    assert len(first[0].payload["meeting"]["topics"]) == 4  # the seed's three themes and the officer's
    moved = meetings.move_meeting(services, FIRST, date(2025, 2, 18), "zaal niet beschikbaar", at("2025-01-20"),
                                  "user:officer")
    assert moved.moved_to == date(2025, 2, 18)
    row = next(o for o in queries.obligations(services) if o.key == FIRST)
    assert (row.planned_on, row.due_on) == (date(2025, 2, 18), date(2025, 2, 18))
    planning.plan_meetings(services, at("2025-01-21"))  # the invitation for the new day, at once
    updates = [m for m in invitations(services, FIRST) if m.payload["meeting"]["start"].startswith("2025-02-18")]
    assert len(updates) == len(first) and {m.status for m in invitations(services, FIRST)
                                           if m not in updates} == {"withdrawn"}
    old = event_of(render(first[0], mail_from="k@c.example", now=at("2025-01-14")))
    new = event_of(render(updates[0], mail_from="k@c.example", now=at("2025-01-21")))
    assert old["UID"] == new["UID"] and int(new["SEQUENCE"]) > int(old["SEQUENCE"])
    planning.plan_meetings(services, at("2025-06-02"))  # a later run keeps the move
    assert next(o for o in queries.obligations(services) if o.key == FIRST).planned_on == date(2025, 2, 18)
    with pytest.raises(meetings.MeetingDayError, match="geen werkdag"):
        meetings.move_meeting(services, "poh_meeting:2025:2", date(2025, 4, 21), "Paasmaandag?", at("2025-03-01"),
                              "user:officer")


def test_a_meeting_held_records_who_came_and_a_practice_absent_all_year_is_named_in_its_next_pack(
        services: Services) -> None:
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sc.conversation(LINDE, "start", "2024-01-15")
    sc.conversation(EIK, "start", "2024-01-15")
    planning.plan_meetings(services, at("2024-01-16"))
    for line in meetings.meetings(services, 2024):
        if line.kind == "poh_meeting" and line.day >= date(2024, 2, 1):
            meetings.hold_meeting(services, line.key, line.day, [(EIK, "H. Vos")], at(str(line.day), 21),
                                  "user:officer", minutes="Besproken: de ontwikkelingen in de praktijken.")
    with pytest.raises(InvalidMeetingChangeError, match="gehouden"):
        meetings.add_topic(services, "poh_meeting:2024:2", "te laat", at("2024-12-01"), "user:officer")
    by_practice = {(a.agb_code, a.kind): a for a in meetings.practice_attendance(services, 2024)}
    assert (by_practice[(EIK, "poh_meeting")].held, by_practice[(EIK, "poh_meeting")].attended) == (5, 5)
    assert by_practice[(LINDE, "poh_meeting")].absent_all_year
    assert by_practice[(LINDE, "practice_manager_meeting")].held == 0  # none recorded: not "absent"
    stored, rebuilt = meetings.replay_meeting(services, "poh_meeting:2024:2")
    assert stored == rebuilt and rebuilt.attended == ((EIK, "H. Vos"),)
    sweep.sweep_due(services, at("2024-12-18"))  # four weeks before the annual conversations of January 2025
    packs = {m.agb_code: m.payload["prepare"] for m in queries.outbox_messages(services)
             if m.kind == "conversation_invitation" and m.recipient_role == "practice"}
    assert packs[LINDE]["meeting_absence"] == ["POH-overleg 2024 (5 gehouden)"]
    assert "meeting_absence" not in packs[EIK]


def test_attendance_of_an_unknown_practice_or_person_or_on_a_day_to_come_is_refused_and_nothing_is_stored(
        services: Services) -> None:
    Scenario.build(services, DESCRIPTION)
    planning.plan_meetings(services, at("2025-01-06"))
    with pytest.raises(meetings.UnknownAttendeeError, match=r"Z\. Onbekend"):
        meetings.hold_meeting(services, FIRST, date(2025, 2, 11), [(LINDE, "Z. Onbekend")], at("2025-02-12"), "o")
    with pytest.raises(Exception, match="09999999"):
        meetings.hold_meeting(services, FIRST, date(2025, 2, 11), [("09999999", "X")], at("2025-02-12"), "o")
    with pytest.raises(meetings.MeetingDayError):
        meetings.hold_meeting(services, FIRST, date(2025, 2, 11), [], at("2025-02-10"), "o")
    with pytest.raises(Exception, match="BSN"):
        meetings.hold_meeting(services, FIRST, date(2025, 2, 11), [], at("2025-02-12"), "o",
                              minutes="Casus van patiënt 111222333 besproken")
    with pytest.raises(meetings.UnknownMeetingError):
        meetings.add_topic(services, "poh_meeting:2031:9", "x", at("2025-02-12"), "o")
    assert [m for m in meetings.meetings(services, 2025) if m.held_on or m.topics] == []
    assert next(o for o in queries.obligations(services) if o.key == FIRST).status == "open"
