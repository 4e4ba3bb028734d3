"""A GP group's mirror meeting through the services, over SQLite and PostgreSQL (seed section 1): requested,
planned on a working day, its practices invited with the group's pack and a calendar invite, held, its accreditation
asked of the group's EKC and granted; every change an event a replay rebuilds."""

from __future__ import annotations

from datetime import date

import pytest

from domain.conversations import Attendee
from domain.mirror_meetings import Accreditation, MirrorState
from domain.registry import Role
from flows.services import mirror_meetings, queries
from flows.services.context import Services
from flows.testing.scenario import Scenario
from notifications.ics import event_uid
from notifications.rendering import render
from tests.integration.test_support import at

WEST = ["01000001", "01000002", "01000003"]
OOST = "01000004"


def _practice(agb: str, name: str, group: str) -> str:
    n = agb[-1]
    return f"""
  "{agb}":
    name: {name}
    gp_group: {group}
    email: praktijk{n}@example.org
    programmes: {{dm2: 2023-01-01}}
    people:
      gp_principal: H. Arts{n} <arts{n}@example.org>
      poh_chronic: P. Ondersteuner{n} <poh{n}@example.org>
      practice_manager: M. Manager{n} <pm{n}@example.org>
      doctors_assistant: D. Assistent{n} <da{n}@example.org>"""


DESCRIPTION = """
care_group: Cohaesie
officers: [A. Jansen <a.jansen@cohaesie.example>, P. de Boer <p.deboer@cohaesie.example>]
gp_groups:
  HAGRO-WEST: {ekc: R. Visser <ekc@hagrowest.example>}
practices:""" + "".join(_practice(agb, name, "HAGRO-WEST") for agb, name in zip(
    WEST, ["Praktijk De Linde", "Praktijk De Eik", "Het Anker"], strict=True)) \
    + _practice(OOST, "De Brug", "HAGRO-OOST")


def test_a_mirror_meeting_is_requested_invited_with_the_groups_pack_held_and_accredited(services: Services) -> None:
    sc = Scenario.build(services, DESCRIPTION, start="2025-01-01")
    sc.scores("2024-12-31", {WEST[0]: {"dm2/hba1c_measured": (172, 200)}, WEST[1]: {"dm2/hba1c_measured": (189, 200)},
                             WEST[2]: {"dm2/hba1c_measured": (7, 8)}, OOST: {"dm2/hba1c_measured": (180, 200)}})
    asked = mirror_meetings.request_mirror_meeting(services, "HAGRO-WEST", date(2025, 3, 3), at("2025-03-03"),
                                                   "officer:A. Jansen", by="H. Arts1")
    assert (asked.status, asked.due_on, asked.planned_on) == (MirrorState.REQUESTED, date(2025, 4, 28),
                                                              date(2025, 4, 22))
    again = mirror_meetings.request_mirror_meeting(services, "HAGRO-WEST", date(2025, 3, 3), at("2025-03-04"),
                                                   "officer:A. Jansen", by="H. Arts1")
    assert again == asked  # the same request recorded twice is one meeting
    (duty,) = [o for o in queries.obligations(services) if o.kind == "mirror_meeting"]
    assert (duty.planned_on, duty.next_notice_on) == (date(2025, 4, 22), date(2025, 3, 25))  # four weeks ahead
    sc.sweep("2025-03-24")
    assert [m for m in queries.outbox_messages(services) if m.kind == "mirror_meeting_invitation"] == []
    sc.sweep("2025-03-25")
    invited = [m for m in queries.outbox_messages(services) if m.kind == "mirror_meeting_invitation"]
    # every practice of the group: its GP, its POH and its practice manager (not the assistant, not another group)
    assert sorted((m.agb_code, m.recipient_role) for m in invited) == sorted(
        (agb, role) for agb in WEST for role in ("gp_principal", "poh_chronic", "practice_manager"))
    pack = invited[0].payload["pack"]
    assert all(m.payload["pack"] == pack for m in invited)
    (hba1c,) = pack["indicators"]
    # by hand: 172/200 = 86.0, 189/200 = 94.5, 7/8 = 87.5 (under 10 patients); with De Brug's 180/200 = 90.0 the
    # care group's four sorted 86.0, 87.5, 90.0, 94.5: median 88.75, p10 86.45, p90 93.15
    assert [(p["label"], p["score"], p["numerator"], p["denominator"], p["small_numbers"])
            for p in hba1c["practices"]] == [("Praktijk De Linde", 86.0, 172, 200, False),
                                              ("Praktijk De Eik", 94.5, 189, 200, False),
                                              ("Het Anker", 87.5, 7, 8, True)]
    assert hba1c["spread"] == {"practices": 4, "median": 88.75, "p10": 86.45, "p90": 93.15}
    assert (hba1c["target"], hba1c["national_average"], pack["period_end"]) == (90, 92, "2024-12-31")
    mail = render(invited[0], mail_from="kwaliteit@cohaesie.example", now=at("2025-03-25"))
    (ics,) = [part for part in mail.walk() if part.get_content_type() == "text/calendar"]
    calendar = ics.get_content()
    assert "METHOD:REQUEST" in calendar and f"UID:{event_uid(duty.key)}" in calendar
    assert "DTSTART;TZID=Europe/Amsterdam:20250422T190000" in calendar
    assert sc.sweep("2025-03-31").queued["mirror_meeting_invitation"] == 0  # invited once
    held = mirror_meetings.hold_mirror_meeting(
        services, asked.id, date(2025, 4, 22), at("2025-04-23"), "officer:A. Jansen",
        attendees=(Attendee(role=Role.GP_PRINCIPAL, name="H. Arts1"), Attendee(role=Role.GP_PRINCIPAL, name="H. Arts2"),
                   Attendee(role=Role.OFFICER, name="A. Jansen")), accreditation=Accreditation.REQUESTED)
    assert (held.status, held.accreditation, held.ekc) == (MirrorState.HELD, Accreditation.REQUESTED, "R. Visser")
    assert [o.status for o in queries.obligations(services) if o.kind == "mirror_meeting"] == ["done"]
    (request,) = [m for m in queries.outbox_messages(services) if m.kind == "mirror_accreditation_request"]
    assert (request.recipient_email, request.payload["held_on"], len(request.payload["attendees"])) == (
        "ekc@hagrowest.example", "2025-04-22", 3)
    granted = mirror_meetings.record_accreditation(services, asked.id, Accreditation.GRANTED, date(2025, 5, 6),
                                                   at("2025-05-06"), "officer:A. Jansen")
    assert (granted.accreditation, granted.accreditation_on) == (Accreditation.GRANTED, date(2025, 5, 6))
    replayed = mirror_meetings.replay_mirror_meeting(services, asked.id)
    assert replayed.agrees and [e.trigger.value for e in replayed.events] == ["request", "hold", "accredit"]
    assert [v.id for v in mirror_meetings.mirror_meetings(services, "HAGRO-WEST")] == [asked.id]


def test_a_mirror_meeting_for_an_unknown_gp_group_or_on_a_day_to_come_is_refused_and_nothing_is_stored(
        services: Services) -> None:
    Scenario.build(services, DESCRIPTION, start="2025-01-01")
    with pytest.raises(mirror_meetings.UnknownGpGroupError, match=r"HAGRO-NOORD.*bekend: HAGRO-OOST, HAGRO-WEST"):
        mirror_meetings.request_mirror_meeting(services, "HAGRO-NOORD", date(2025, 3, 3), at("2025-03-03"), "officer")
    with pytest.raises(mirror_meetings.MirrorMeetingInFutureError):
        mirror_meetings.request_mirror_meeting(services, "HAGRO-WEST", date(2025, 3, 10), at("2025-03-03"),
                                               "officer")
    asked = mirror_meetings.request_mirror_meeting(services, "HAGRO-OOST", date(2025, 3, 3), at("2025-03-03"),
                                                   "officer")
    with pytest.raises(mirror_meetings.NoEkcError, match="--ekc"):  # HAGRO-OOST names no EKC
        mirror_meetings.hold_mirror_meeting(services, asked.id, date(2025, 4, 22), at("2025-04-23"), "officer",
                                            accreditation=Accreditation.REQUESTED)
    assert mirror_meetings.mirror_meetings(services) == [asked]
    assert [m for m in queries.outbox_messages(services) if m.kind.startswith("mirror")] == []
