"""The care group's recurring duties through the service functions, with the clock in hand, over SQLite and
PostgreSQL: invitations, reminders and overdue notices for conversations, meetings, instruction kits,
mandatory courses and the board's digest; idempotent per moment, and safe when a run dies half-way or two
workers sweep at once."""

from __future__ import annotations

import dataclasses
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import icalendar
import pytest
from sqlmodel import Session

from domain.calendar import WorkingCalendar
from domain.clock import AMSTERDAM
from domain.commands import LeaveProgramme
from domain.courses import SHIPPED_CATALOGUE
from domain.obligations import KitKind, ObligationKind, PracticeFacts, practice_obligations
from domain.policy import Policy
from domain.trajectory import TrajectoryState
from flows.services import conversations, digest, duties, kits_and_courses, planning, queries, sweep
from flows.services.context import Services, UnknownPracticeError
from flows.services.inbox import recalculate_from_inbox
from flows.services.outbox import dispatch_outbox
from flows.testing.scenario import Scenario
from notifications.addresses import resolve_address
from notifications.channels import EmlFolderChannel
from notifications.rendering import render
from storage import obligations as store
from storage import repository as repo
from storage.database import sqlite_url
from storage.read_models import StoredObligation
from storage.tables import ObligationChangeRow, OutboxRow
from tests.concurrency import second_waits_for_first

LINDE, EIK, ESDOORN = "01234567", "07654321", "01111111"
OFFICERS = {"a.jansen@cohaesie.example", "p.deboer@cohaesie.example"}
BOARD = {"bestuur@cohaesie.example", "c.smit@cohaesie.example"}
DESCRIPTION = f"""
care_group: Cohaesie
board: [B. de Vries <bestuur@cohaesie.example>, C. Smit <c.smit@cohaesie.example>]
officers: [A. Jansen <a.jansen@cohaesie.example>, P. de Boer <p.deboer@cohaesie.example>]
practices:
  "{LINDE}":
    name: Huisartsenpraktijk De Linde
    gp_group: HAGRO-WEST
    email: praktijk@delinde.example
    programmes: {{dm2: 2023-01-01}}
    people:
      gp_principal: C. Bakker <c.bakker@delinde.example>
      poh_chronic: D. Mulder <d.mulder@delinde.example>
      poh_elderly: E. Kok <e.kok@delinde.example>
      practice_manager: F. de Wit <f.dewit@delinde.example>
  "{EIK}":
    name: Praktijk De Eik
    gp_group: HAGRO-WEST
    email: info@deeik.example
    programmes: {{dm2: 2023-01-01, copd: 2023-06-01}}
    people:
      gp_principal: G. Peters <g.peters@deeik.example>
      poh_chronic: H. Vos <h.vos@deeik.example>
      nurse_practitioner: I. Smits <i.smits@deeik.example>
      nurse: J. Bos <j.bos@deeik.example>
      practice_manager: K. Dekker <k.dekker@deeik.example>
"""
ADDRESSES = {
    LINDE: {"praktijk@delinde.example", "c.bakker@delinde.example", "d.mulder@delinde.example",
            "e.kok@delinde.example", "f.dewit@delinde.example"},
    EIK: {"info@deeik.example", "g.peters@deeik.example", "h.vos@deeik.example", "i.smits@deeik.example",
          "j.bos@deeik.example", "k.dekker@deeik.example"},
}
LINDE_ANNUAL = f"annual_conversation:{LINDE}:cycle:2024-03-12"
GOOD = {"dm2/hba1c_measured": 95, "dm2/bp_measured": 95, "dm2/ldl_measured": 90, "dm2/egfr_measured": 90,
        "dm2/foot_exam": 85}


def at(day: str, hour: int = 7) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), tzinfo=AMSTERDAM)


def care_group(services: Services, description: str = DESCRIPTION) -> Scenario:
    """Both practices hold their start conversation on Tuesday 12 March 2024; the first sweep plans their
    duties on Monday 18 March: the annual conversation is due Wednesday 12 March 2025, set for 26 February."""
    sc = Scenario.build(services, description)
    for agb in sorted({LINDE, EIK} & set(_codes(services))):
        sc.conversation(agb, "start", "2024-03-12")
    sweep.sweep_due(services, at("2024-03-18"))
    return sc


def _codes(services: Services) -> set[str]:
    with services.session() as s:
        return repo.practice_codes(s)


def outbox(services: Services, kind: str | None = None) -> list[OutboxRow]:
    with services.session() as s:
        return [m for m in repo.outbox(s) if kind is None or m.kind == kind]


def obligations(services: Services, **where: Any) -> list[StoredObligation]:
    with services.session() as s:
        return store.obligations(s, **where)


def obligation(services: Services, key: str) -> StoredObligation:
    (row,) = [o for o in obligations(services) if o.key == key]
    return row


def changes(services: Services, key: str | None = None) -> list[ObligationChangeRow]:
    with services.session() as s:
        return store.changes(s, key)


def recipients(messages: list[OutboxRow]) -> list[tuple[str | None, str]]:
    return sorted((m.recipient_email, m.recipient_role) for m in messages)


def calendar_of(msg: EmailMessage) -> icalendar.Calendar:
    (part,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return icalendar.Calendar.from_ical(data)


def event_of(msg: EmailMessage) -> icalendar.Event:
    (event,) = calendar_of(msg).walk("VEVENT")
    return event


def snapshot(services: Services) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], Counter[tuple[str, str]]]:
    """What a run leaves behind, comparable across databases: obligations, messages and the change log."""
    obs = [(o.key, o.status, o.due_on, o.planned_on, sorted(o.notices_done), o.next_notice_on, o.closed_on)
           for o in queries.obligations(services)]
    messages = [(m.key, m.kind, m.agb_code, m.recipient_email, m.subject) for m in queries.outbox_messages(services)]
    log = Counter((c.obligation_key, c.change) for c in queries.obligation_changes(services))
    return sorted(obs), sorted(messages), log


@pytest.fixture
def reference(sqlite_copy: Callable[[str], Services]) -> Services:
    """A second, independent SQLite care group: the same history run without interruptions."""
    return sqlite_copy("reference.db")


# --- the sweep: idempotent per moment ------------------------------------------------------------


def test_sweeping_the_same_moment_twice_plans_and_queues_nothing_more_and_says_it_already_ran(
    services: Services,
) -> None:
    care_group(services)
    first = sweep.sweep_due(services, at("2025-01-29"))
    assert not first.already_ran and len(outbox(services, "conversation_invitation")) == 13
    before = snapshot(services)
    second = sweep.sweep_due(services, at("2025-01-29"))
    assert second.already_ran
    assert (second.planned, second.rescheduled, second.done, second.cancelled, second.messages) == (0, 0, 0, 0, 0)
    assert snapshot(services) == before
    with services.session() as s:
        runs = store.duty_runs(s, "sweep_due")
    assert [r.moment for r in runs] == [at("2025-01-29"), at("2024-03-18")]


def test_the_first_sweep_plans_every_duty_of_a_practice_once(services: Services) -> None:
    care_group(services)
    keys = sorted(o.key for o in obligations(services, agb_code=LINDE))
    assert keys == sorted([
        LINDE_ANNUAL, f"instruction_kit:{LINDE}:insulin:2023-01-01",
        f"mandatory_course:{LINDE}:C. Bakker|langerhans:none", f"mandatory_course:{LINDE}:D. Mulder|caspir:none",
        f"mandatory_course:{LINDE}:D. Mulder|langerhans:none", f"mandatory_course:{LINDE}:F. de Wit|langerhans:none",
    ])
    row = obligation(services, LINDE_ANNUAL)
    assert (row.due_on, row.planned_on, row.next_notice_on) == (date(2025, 3, 12), date(2025, 2, 26),
                                                                 date(2025, 1, 29))
    log = [(c.change, c.reason, c.actor) for c in changes(services, LINDE_ANNUAL)]
    assert log == [("planned", "gepland", "engine")]


def test_each_duty_reports_how_many_messages_it_queued_and_whether_a_record_was_new(services: Services) -> None:
    care_group(services)
    assert kits_and_courses.record_course_completion(services, LINDE, "D. Mulder", "caspir", date(2024, 6, 10),
                                                     at("2024-06-10", 16), "user:officer")
    assert digest.board_digest(services, at("2024-07-01")).queued == {"board_digest": 2}  # none under the policy
    again = digest.board_digest(services, at("2024-07-08"))
    assert again.messages == 0 and "al eerder verstuurd" in again.lines[0]["details"]
    assert kits_and_courses.refresh_kits(services, at("2024-12-03")).queued == {"kit_refresh_due": 2}
    assert kits_and_courses.record_kit_refresh(services, EIK, KitKind.INSULIN, date(2024, 12, 16), at("2024-12-16", 15),
                                               "user:officer")
    assert planning.plan_meetings(services, at("2025-01-15")).queued == {"meeting_invitation": 7}
    swept = sweep.sweep_due(services, at("2025-01-29"))
    # the courses nobody recorded are past due by now: one overdue notice each, to the person and the practice
    # manager (7 courses: 7 + 7), and to each of the two practice managers about their own Langerhans (2)
    assert swept.queued == {"conversation_invitation": 13, "training_overdue": 16} and swept.messages == 29
    assert "uitnodiging: 6 bericht(en) klaargezet" in next(x["details"] for x in swept.lines if x["praktijk"] == LINDE)
    with services.session() as s:
        run = store.get_duty_run(s, "sweep_due", at("2025-01-29"))
    assert run is not None and run.summary["messages"] == 29


# --- the annual conversation: invitation, reminder, overdue ----------------------------------------


def test_annual_conversation_invitation_goes_to_required_attendees_four_weeks_before(services: Services) -> None:
    care_group(services)
    sweep.sweep_due(services, at("2025-01-28"))
    assert outbox(services, "conversation_invitation") == []
    # 28 days before Wednesday 26 February; the moment may come in UTC: 23:30 UTC is 00:30 in Amsterdam
    sweep.sweep_due(services, datetime(2025, 1, 28, 23, 30, tzinfo=UTC))
    assert len(outbox(services, "conversation_invitation")) == 13
    invitations = [m for m in outbox(services, "conversation_invitation") if m.agb_code == LINDE]
    assert recipients(invitations) == [
        ("a.jansen@cohaesie.example", "officer"), ("c.bakker@delinde.example", "gp_principal"),
        ("d.mulder@delinde.example", "poh_chronic"), ("e.kok@delinde.example", "poh_elderly"),
        ("p.deboer@cohaesie.example", "officer"), ("praktijk@delinde.example", "practice"),
    ]  # not the practice manager in person (the seed's attendance rule): the practice's own address, so it can
    # plan the day
    payload = invitations[0].payload
    assert {m.payload["calendar_key"] for m in invitations} == {f"conversation:{LINDE_ANNUAL}"}
    assert sorted(a["role"] for a in payload["attendees"]) == [
        "gp_principal", "officer", "officer", "poh_chronic", "poh_elderly"]
    assert payload["conversation"]["start"] == "2025-02-26T14:00:00+01:00"
    assert payload["conversation"]["end"] == "2025-02-26T15:30:00+01:00"
    assert payload["organizer"]["email"] in OFFICERS
    assert invitations[0].subject == ("Uitnodiging kwaliteitsjaargesprek Huisartsenpraktijk De Linde, "
                                      "woensdag 26 februari 2025")
    eik = [m for m in outbox(services, "conversation_invitation") if m.agb_code == EIK]
    assert sorted(m.recipient_role for m in eik) == ["gp_principal", "nurse", "nurse_practitioner", "officer",
                                                     "officer", "poh_chronic", "practice"]
    assert obligation(services, LINDE_ANNUAL).notices_done == ["invitation"]


def test_the_practice_is_reminded_at_its_own_address_a_week_before_the_conversation(services: Services) -> None:
    care_group(services)
    sweep.sweep_due(services, at("2025-01-29"))
    before = len(outbox(services))
    sweep.sweep_due(services, at("2025-02-18"))
    assert len(outbox(services)) == before
    sweep.sweep_due(services, at("2025-02-19"))
    assert len(outbox(services)) == before + 2
    reminders = outbox(services, "conversation_reminder")
    assert recipients(reminders) == [("info@deeik.example", "practice"), ("praktijk@delinde.example", "practice")]
    linde = next(m for m in reminders if m.agb_code == LINDE)
    assert linde.subject == "Herinnering: kwaliteitsjaargesprek op woensdag 26 februari 2025"
    assert linde.payload["prepare"]["agreements"] == []


def test_officers_hear_the_day_after_the_due_date_when_no_annual_conversation_was_held(services: Services) -> None:
    care_group(services)
    for day in ("2025-01-29", "2025-02-19", "2025-03-12"):
        sweep.sweep_due(services, at(day))
    assert outbox(services, "conversation_overdue") == []  # due today is not overdue
    sweep.sweep_due(services, at("2025-03-13"))
    assert len(outbox(services, "conversation_overdue")) == 4
    overdue = [m for m in outbox(services, "conversation_overdue") if m.agb_code == LINDE]
    assert recipients(overdue) == [("a.jansen@cohaesie.example", "officer"), ("p.deboer@cohaesie.example", "officer")]
    assert overdue[0].subject == "Kwaliteitsjaargesprek Huisartsenpraktijk De Linde is over tijd"
    assert overdue[0].payload["conversation"] == {"kind": "annual", "due_on": "2025-03-12"}
    row = obligation(services, LINDE_ANNUAL)
    assert row.status == "open" and row.notices_done == ["invitation", "overdue", "reminder"]
    assert row.next_notice_on is None
    before = len(outbox(services))
    sweep.sweep_due(services, at("2025-03-20"))
    assert len(outbox(services)) == before  # once


def test_a_held_annual_conversation_closes_the_duty_and_the_next_is_planned_from_its_date(services: Services) -> None:
    sc = care_group(services)
    sweep.sweep_due(services, at("2025-01-29"))
    sweep.sweep_due(services, at("2025-02-19"))
    sc.conversation(LINDE, "annual", "2025-02-26")
    report = sweep.sweep_due(services, at("2025-03-13"))
    assert report.done == 1 and report.planned == 1
    assert [m.agb_code for m in outbox(services, "conversation_overdue")] == [EIK, EIK]  # not De Linde
    row = obligation(services, LINDE_ANNUAL)
    assert (row.status, row.closed_on, row.close_reason) == ("done", date(2025, 2, 26), "voldaan op 2025-02-26")
    assert [c.change for c in changes(services, LINDE_ANNUAL)] == ["planned", "done"]
    following = obligation(services, f"annual_conversation:{LINDE}:cycle:2025-02-26")
    assert (following.status, following.anchor_on, following.due_on, following.planned_on) == (
        "open", date(2025, 2, 26), date(2026, 2, 26), date(2026, 2, 12))


def test_a_flagged_practice_is_invited_to_its_extra_conversation_by_the_sweep_that_flags_it(
    services: Services,
) -> None:
    sc = care_group(services)
    sc.scores("2024-03-31", {LINDE: {**GOOD, "dm2/hba1c_measured": 60}, EIK: GOOD})
    report = sweep.sweep_due(services, at("2024-04-08"))
    assert [(t.agb_code, t.trigger.value) for t in report.transitions] == [(LINDE, "flag_deviation")]
    extra = obligation(services, f"extra_conversation:{LINDE}:deviation:2024-04-08")
    # due six weeks after the flag (Whit Monday 20 May: back to Friday 17 May), set two weeks before
    assert (extra.due_on, extra.planned_on, extra.notices_done) == (date(2024, 5, 17), date(2024, 5, 3),
                                                                     ["invitation"])
    invitations = outbox(services, "conversation_invitation")
    assert {m.agb_code for m in invitations} == {LINDE} and len(invitations) == 6
    assert invitations[0].subject == "Uitnodiging extra gesprek Huisartsenpraktijk De Linde, vrijdag 3 mei 2024"
    prepare = invitations[0].payload["prepare"]
    hba1c = next(i for i in prepare["indicators"] if i["indicator"] == "hba1c_measured")
    assert (prepare["period_end"], hba1c["score"], hba1c["target"]) == ("2024-03-31", 60.0, 90.0)
    sc.conversation(LINDE, "extra", "2024-04-29", plan={"dm2/hba1c_measured": 85})
    sweep.sweep_due(services, at("2024-04-30"))  # the reminder (from 26 April) is still owed before 3 May...
    done = obligation(services, extra.key)
    assert (done.status, done.closed_on) == ("done", date(2024, 4, 29))
    assert outbox(services, "conversation_reminder") == []  # ... but not for a conversation already held


def test_a_practice_that_leaves_owes_nothing_more_and_its_open_duties_are_cancelled(services: Services) -> None:
    care_group(services)
    conversations.leave(services, LeaveProgramme(agb_code=EIK, on=date(2024, 12, 31), reason="praktijk gestopt"),
                        at("2025-01-02"), "user:officer", live=True)
    report = sweep.sweep_due(services, at("2025-01-29"))
    assert report.cancelled == 9
    eik = obligations(services, agb_code=EIK)
    assert {o.status for o in eik} == {"cancelled"}
    assert all(o.close_reason == "niet meer verschuldigd: traject staat op vertrokken" for o in eik)
    assert {m.agb_code for m in outbox(services)} == {LINDE}


def test_a_practice_that_left_is_not_invited_to_care_group_meetings(services: Services) -> None:
    care_group(services)
    conversations.leave(services, LeaveProgramme(agb_code=EIK, on=date(2024, 12, 31), reason="praktijk gestopt"),
                        at("2025-01-02"), "user:officer", live=True)
    planning.plan_meetings(services, at("2025-01-14"))
    assert {m.agb_code for m in outbox(services, "meeting_invitation")} == {LINDE}


def test_a_longer_invitation_lead_time_applies_to_conversations_already_planned(services: Services) -> None:
    care_group(services)
    longer = dataclasses.replace(services, policy=Policy(invitation_days_before=42))
    planning.plan_obligations(longer, at("2024-06-03"), reason="uitnodigingen zes weken vooraf")
    sweep.sweep_due(longer, at("2025-01-15"))  # 42 days before 26 February
    assert len(outbox(services, "conversation_invitation")) == 13


# --- what the messages look like -----------------------------------------------------------------


def test_every_duty_message_renders_in_dutch_and_invitations_carry_the_planned_hour_in_amsterdam(
    services: Services,
) -> None:
    care_group(services)
    kits_and_courses.refresh_kits(services, at("2024-12-03"))
    for day in ("2025-01-29", "2025-02-19", "2025-03-13"):  # courses, invitations; reminders; overdue notices
        sweep.sweep_due(services, at(day))
    planning.plan_meetings(services, at("2025-06-10"))  # the POH's of Tuesday 8 July, the managers' of Wednesday
    # 2 July (its invitation, due 4 June, goes out with the first run after), in summer time
    messages = outbox(services)
    assert {m.kind for m in messages} == {"conversation_invitation", "conversation_reminder", "conversation_overdue",
                                          "training_overdue", "kit_refresh_due", "meeting_invitation"}
    subjects = {
        "conversation_invitation": "Uitnodiging kwaliteitsjaargesprek ",
        "conversation_reminder": "Herinnering: kwaliteitsjaargesprek op woensdag 26 februari 2025",
        "conversation_overdue": " is over tijd",
        "training_overdue": "Verplichte scholing verlopen: ",
        "kit_refresh_due": "-instructiekoffer van ",
        "meeting_invitation": "Uitnodiging ",
    }
    for m in messages:
        msg = render(m, mail_from="kwaliteit@cohaesie.example", now=at("2025-06-10", 8))
        assert msg["Subject"] == m.subject and subjects[m.kind] in m.subject, m.subject
        assert msg["Content-Language"] == "nl" and str(msg["To"]).endswith(f"<{m.recipient_email}>")
        body = msg.get_body(preferencelist=("plain",))
        assert body is not None and "Beste " in body.get_content(), m.kind
        if m.kind == "conversation_invitation":
            event = event_of(msg)
            assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
            assert event.decoded("DTSTART") == datetime(2025, 2, 26, 14, 0, tzinfo=AMSTERDAM)
            assert event.decoded("DTEND") == datetime(2025, 2, 26, 15, 30, tzinfo=AMSTERDAM)
            assert "26 februari 2025" in body.get_content()
        elif m.kind == "meeting_invitation":
            event = event_of(msg)
            assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
            day = 8 if m.payload["meeting"]["kind"] == "poh_meeting" else 2
            assert event.decoded("DTSTART") == datetime(2025, 7, day, 19, 0, tzinfo=AMSTERDAM)
            assert event.decoded("DTSTART").utcoffset().total_seconds() == 7200  # CEST
        else:
            assert not [p for p in msg.walk() if p.get_content_type() == "text/calendar"]


def test_messages_about_a_practice_only_go_to_that_practices_own_addresses(services: Services) -> None:
    care_group(services)
    kits_and_courses.refresh_kits(services, at("2024-12-03"))
    for day in ("2025-01-29", "2025-02-19", "2025-03-13"):  # courses, invitations; reminders; overdue notices
        sweep.sweep_due(services, at(day))
    planning.plan_meetings(services, at("2025-01-14"))
    messages = outbox(services)
    assert len({m.agb_code for m in messages}) == 2
    with services.session() as s:
        registry = repo.load_registry(s)
    for m in messages:
        assert m.agb_code in (LINDE, EIK)
        own = ADDRESSES[m.agb_code] | (OFFICERS if m.recipient_role == "officer" else set())
        assert m.recipient_email in own, (m.key, m.recipient_email)
        assert m.payload["practice"]["agb_code"] == m.agb_code
        assert resolve_address(m, registry) == (m.recipient_email, None)
    training = sorted((m.agb_code, m.payload["person"]["name"], m.payload["course"]["code"])
                      for m in outbox(services, "training_overdue") if m.recipient_role != "practice_manager")
    assert training == [
        (LINDE, "C. Bakker", "langerhans"), (LINDE, "D. Mulder", "caspir"), (LINDE, "D. Mulder", "langerhans"),
        (EIK, "G. Peters", "langerhans"), (EIK, "H. Vos", "caspir"), (EIK, "H. Vos", "langerhans"),
        (EIK, "I. Smits", "langerhans"), (EIK, "J. Bos", "caspir"),
    ]
    # and each to the practice's own practice manager
    assert {(m.agb_code, m.recipient_email) for m in outbox(services, "training_overdue")
            if m.recipient_role == "practice_manager"} == {(LINDE, "f.dewit@delinde.example"),
                                                           (EIK, "k.dekker@deeik.example")}


def test_a_practice_without_an_email_address_gets_its_messages_held_by_the_dispatcher(
    services: Services, tmp_path: Path,
) -> None:
    no_address = f"""
    care_group: Cohaesie
    officers: [A. Jansen <a.jansen@cohaesie.example>, P. de Boer <p.deboer@cohaesie.example>]
    practices:
      "{LINDE}": {{name: Huisartsenpraktijk De Linde, programmes: {{dm2: 2023-01-01}}}}
    """
    care_group(services, no_address)
    sweep.sweep_due(services, at("2025-01-29"))
    sweep.sweep_due(services, at("2025-02-19"))
    practice_messages = [m for m in outbox(services) if m.recipient_role == "practice"]
    # no people registered: the invitation goes to the practice itself, like the reminder
    assert sorted(m.kind for m in practice_messages) == ["conversation_invitation", "conversation_reminder"]
    assert all(m.recipient_email is None for m in practice_messages)
    assert {m.key for m in practice_messages} == {
        f"conversation_invitation:{LINDE}:annual:2025-02-26:-Huisartsenpraktijk De Linde",
        f"conversation_reminder:{LINDE}:annual:2025-02-26:-Huisartsenpraktijk De Linde",
    }
    report = dispatch_outbox(services, EmlFolderChannel(tmp_path / "outbox"), at("2025-02-19", 8),
                             mail_from="kwaliteit@cohaesie.example")
    assert sorted(p.key for p in report.held) == sorted(m.key for m in practice_messages)
    assert len(report.sent) == 2 + 2  # the officers' invitations, then one notice to each officer
    held = {m.key: m for m in outbox(services)}
    assert all(held[m.key].status == "pending" and "geen e-mailadres" in (held[m.key].last_error or "")
               for m in practice_messages)
    assert sorted(m.recipient_email for m in outbox(services, "missing_address")) == sorted(OFFICERS)


# --- a changed calendar reschedules, with the reason -----------------------------------------------


def test_a_closure_day_on_the_due_date_moves_the_open_annual_conversation_and_logs_why(services: Services) -> None:
    care_group(services)
    closed = dataclasses.replace(services, calendar=WorkingCalendar.with_closures([date(2025, 3, 12)]))
    report = planning.plan_obligations(closed, at("2024-06-03", 9), actor="user:officer",
                                       reason="heidag zorggroep 12 maart 2025")
    assert report.rescheduled == 2 and report.planned == report.done == report.cancelled == 0
    row = obligation(services, LINDE_ANNUAL)
    assert (row.due_on, row.planned_on, row.next_notice_on) == (date(2025, 3, 11), date(2025, 2, 25),
                                                                 date(2025, 1, 28))
    planned, moved = changes(services, LINDE_ANNUAL)
    assert (planned.change, moved.change, moved.actor) == ("planned", "rescheduled", "user:officer")
    assert moved.reason == "werkkalender gewijzigd (sluitingsdagen of Bevrijdingsdag); heidag zorggroep 12 maart 2025"
    assert (moved.old or {})["due_on"] == "2025-03-12" and (moved.new or {})["due_on"] == "2025-03-11"
    assert (moved.old or {})["planned_on"] == "2025-02-26" and (moved.new or {})["planned_on"] == "2025-02-25"
    # only the conversations moved: kits and courses are not due on that day
    assert {c.obligation_key for c in changes(services) if c.change == "rescheduled"} == {
        LINDE_ANNUAL, f"annual_conversation:{EIK}:cycle:2024-03-12"}
    again = planning.plan_obligations(closed, at("2024-06-03", 10), reason="nogmaals")
    assert again.rescheduled == 0 and len(changes(services, LINDE_ANNUAL)) == 2
    sweep.sweep_due(closed, at("2025-01-28"))  # 28 days before the new day
    assert {m.payload["conversation"]["start"] for m in outbox(services, "conversation_invitation")} == {
        "2025-02-25T14:00:00+01:00"}


def test_the_report_of_a_reschedule_shows_the_old_and_the_new_date(services: Services) -> None:
    care_group(services)
    closed = dataclasses.replace(services, calendar=WorkingCalendar.with_closures([date(2025, 3, 12)]))
    report = planning.plan_obligations(closed, at("2024-06-03", 9), reason="heidag")
    line = next(x for x in report.lines if x["praktijk"] == LINDE)
    assert line["details"].startswith("12 maart 2025 -> 11 maart 2025"), line


def test_a_moved_conversation_is_announced_again_with_invitations_for_the_new_day(services: Services) -> None:
    care_group(services)
    sweep.sweep_due(services, at("2025-01-29"))
    closed = dataclasses.replace(services, calendar=WorkingCalendar.with_closures([date(2025, 2, 26)]))
    assert planning.plan_obligations(closed, at("2025-02-03"), reason="heidag 26 februari").rescheduled == 2
    row = obligation(services, LINDE_ANNUAL)
    assert (row.due_on, row.planned_on, row.notices_done) == (date(2025, 3, 12), date(2025, 2, 25), [])
    sweep.sweep_due(closed, at("2025-02-03"))
    days = Counter(m.payload["conversation"]["start"][:10] for m in outbox(services, "conversation_invitation"))
    assert days == {"2025-02-26": 13, "2025-02-25": 13}


def test_a_moved_conversation_updates_the_attendees_calendar_entry_instead_of_adding_a_second(
    services: Services,
) -> None:
    care_group(services)
    sweep.sweep_due(services, at("2025-01-29"))
    closed = dataclasses.replace(services, calendar=WorkingCalendar.with_closures([date(2025, 2, 26)]))
    planning.plan_obligations(closed, at("2025-02-03"), reason="heidag 26 februari")
    sweep.sweep_due(closed, at("2025-02-03"))
    bakker = sorted((m for m in outbox(services, "conversation_invitation")
                     if m.recipient_email == "c.bakker@delinde.example"), key=lambda m: m.created_at)
    first, moved = (event_of(render(m, mail_from="k@cohaesie.example", now=at("2025-02-03"))) for m in bakker)
    assert str(first["UID"]) == str(moved["UID"]) and int(moved["SEQUENCE"]) > int(first["SEQUENCE"])


def test_a_worker_that_loses_a_reschedule_race_leaves_the_winners_notices_alone(services: Services) -> None:
    care_group(services)
    sweep.sweep_due(services, at("2025-01-29"))
    closed = dataclasses.replace(services, calendar=WorkingCalendar.with_closures([date(2025, 2, 26)]))
    now = at("2025-02-03")
    with closed.session() as slow:  # worker B reads the duties, then stalls
        read = planning.read_duties(slow, closed, [LINDE], now.date())
        sweep.sweep_due(closed, now, actor="a")  # worker A moves the conversation and invites for the new day
        assert obligation(services, LINDE_ANNUAL).notices_done == ["invitation"]
        report = duties.DutyReport("plan_obligations", now)
        planning.apply_duties(slow, closed, read, report, now, "b")
        assert report.rescheduled == 0  # B lost the race
        slow.commit()
    assert obligation(services, LINDE_ANNUAL).notices_done == ["invitation"]
    sweep.sweep_due(closed, at("2025-02-18"))  # a week before Tuesday 25 February
    assert sorted(m.agb_code for m in outbox(services, "conversation_reminder")) == [LINDE, EIK]


# --- care-group meetings ---------------------------------------------------------------------------


def test_meetings_are_planned_per_year_and_every_poh_and_practice_manager_is_invited(services: Services) -> None:
    Scenario.build(services, DESCRIPTION)
    report = planning.plan_meetings(services, at("2025-01-06"))
    assert report.planned == 2 * 2 * 5 and report.messages == 0
    rows = obligations(services, kinds=[ObligationKind.POH_MEETING, ObligationKind.PRACTICE_MANAGER_MEETING])
    per_kind_year = Counter((r.kind, r.due_on.year) for r in rows)
    assert per_kind_year == {(k, y): 5 for k in ("poh_meeting", "practice_manager_meeting") for y in (2025, 2026)}
    poh_2025 = sorted(r.due_on for r in rows if r.kind == "poh_meeting" and r.due_on.year == 2025)
    assert poh_2025 == [date(2025, 2, 11), date(2025, 4, 22), date(2025, 7, 8), date(2025, 9, 16), date(2025, 11, 25)]
    assert all(d.weekday() == 1 for d in poh_2025)  # Tuesdays
    managers_2025 = sorted(r.due_on for r in rows if r.kind == "practice_manager_meeting" and r.due_on.year == 2025)
    assert all(d.weekday() == 2 for d in managers_2025)  # Wednesdays: never both on one evening
    planning.plan_meetings(services, at("2025-01-14"))  # four weeks before 11 February: the POH are invited
    assert len(outbox(services, "meeting_invitation")) == 5
    planning.plan_meetings(services, at("2025-01-15"))  # ... and before Wednesday 12 February the managers
    assert len(outbox(services, "meeting_invitation")) == 7
    poh = [m for m in outbox(services, "meeting_invitation") if m.payload["meeting"]["kind"] == "poh_meeting"]
    assert recipients(poh) == [
        ("d.mulder@delinde.example", "poh_chronic"), ("e.kok@delinde.example", "poh_elderly"),
        ("h.vos@deeik.example", "poh_chronic"), ("i.smits@deeik.example", "nurse_practitioner"),
        ("j.bos@deeik.example", "nurse")]
    managers = [m for m in outbox(services, "meeting_invitation") if m not in poh]
    assert recipients(managers) == [("f.dewit@delinde.example", "practice_manager"),
                                    ("k.dekker@deeik.example", "practice_manager")]
    assert poh[0].subject == "Uitnodiging POH-overleg dinsdag 11 februari 2025"
    assert {m.payload["calendar_key"] for m in poh} == {"poh_meeting:2025:1"}
    assert planning.plan_meetings(services, at("2025-01-15")).already_ran
    assert len(outbox(services, "meeting_invitation")) == 7


def test_meetings_already_past_when_first_planned_are_not_created(services: Services) -> None:
    Scenario.build(services, DESCRIPTION)
    planning.plan_meetings(services, at("2025-06-10"))
    rows = obligations(services, kinds=[ObligationKind.POH_MEETING])
    assert [r.due_on for r in rows if r.due_on.year == 2025] == [date(2025, 7, 8), date(2025, 9, 16),
                                                                 date(2025, 11, 25)]


def test_a_meeting_is_done_when_it_is_recorded_as_held_not_when_its_date_passes(services: Services) -> None:
    from flows.services import meetings

    Scenario.build(services, DESCRIPTION)
    planning.plan_meetings(services, at("2025-01-06"))
    report = planning.plan_meetings(services, at("2025-03-03"))
    assert report.done == 0 and obligation(services, "poh_meeting:2025:1").status == "open"  # past, not recorded
    meetings.hold_meeting(services, "poh_meeting:2025:1", date(2025, 2, 11), [(LINDE, "D. Mulder")],
                          at("2025-03-03", 10), "user:officer", minutes="Besproken: de nieuwe NHG-standaard.")
    held = obligation(services, "poh_meeting:2025:1")
    assert (held.status, held.closed_on) == ("done", date(2025, 2, 11))


def test_fewer_meetings_a_year_cancels_the_extra_future_meetings_with_the_reason(services: Services) -> None:
    Scenario.build(services, DESCRIPTION)
    six = dataclasses.replace(services, policy=Policy(meetings_per_year=6))
    assert planning.plan_meetings(six, at("2025-01-06")).planned == 24
    from flows.services import meetings

    meetings.hold_meeting(services, "poh_meeting:2025:1", date(2025, 2, 11), [], at("2025-03-03", 6), "officer")
    four = dataclasses.replace(services, policy=Policy(meetings_per_year=4))
    report = planning.plan_meetings(four, at("2025-03-03"), actor="user:bestuur",
                                    reason="besluit bestuur: vier per jaar")
    assert report.cancelled == 2 * 2 * 2  # meetings 5 and 6 of 2025 and 2026, both kinds
    rows = obligations(services, kinds=[ObligationKind.POH_MEETING, ObligationKind.PRACTICE_MANAGER_MEETING])
    kept_per_year = Counter((r.kind, r.due_on.year) for r in rows if r.status in ("open", "done"))
    assert kept_per_year == {(k, y): 4 for k in ("poh_meeting", "practice_manager_meeting") for y in (2025, 2026)}
    assert {r.key for r in rows if r.status == "done"} == {"poh_meeting:2025:1"}  # held; the managers' not recorded
    cancelled = [r for r in rows if r.status == "cancelled"]
    assert sorted(r.key for r in cancelled if r.kind == "poh_meeting") == [
        "poh_meeting:2025:5", "poh_meeting:2025:6", "poh_meeting:2026:5", "poh_meeting:2026:6"]
    assert all(r.close_reason is not None and r.close_reason.endswith("besluit bestuur: vier per jaar")
               for r in cancelled)
    log = [c for c in changes(services, "poh_meeting:2025:6") if c.change == "cancelled"]
    assert len(log) == 1 and log[0].actor == "user:bestuur"
    # the first 2025 meeting (4 February) has been held: it is not moved to the new spread
    assert obligation(services, "poh_meeting:2025:1").due_on == date(2025, 2, 4)
    moved = obligation(services, "poh_meeting:2026:1")
    assert moved.due_on == date(2026, 2, 17) and moved.basis["meetings_per_year"] == 4


def test_more_meetings_a_year_never_moves_a_coming_meeting_into_the_past(services: Services) -> None:
    Scenario.build(services, DESCRIPTION)
    planning.plan_meetings(dataclasses.replace(services, policy=Policy(meetings_per_year=4)), at("2025-01-06"))
    assert obligation(services, "poh_meeting:2025:3").due_on == date(2025, 8, 19)
    six = dataclasses.replace(services, policy=Policy(meetings_per_year=6))
    planning.plan_meetings(six, at("2025-07-02"), reason="besluit bestuur: zes per jaar")
    assert obligation(services, "poh_meeting:2025:3").due_on >= date(2025, 7, 2)


# --- instruction kits and courses --------------------------------------------------------------------


def test_a_practice_hears_its_kit_falls_due_and_a_recorded_refresh_plans_the_next_two_years_on(
    services: Services,
) -> None:
    care_group(services)
    kits_and_courses.refresh_kits(services, at("2024-12-02"))
    assert outbox(services) == []
    kits_and_courses.refresh_kits(services, at("2024-12-03"))  # four weeks before Tuesday 31 December
    assert {m.kind for m in outbox(services)} == {"kit_refresh_due"}
    notices = outbox(services, "kit_refresh_due")
    assert recipients(notices) == [("info@deeik.example", "practice"), ("praktijk@delinde.example", "practice")]
    eik = next(m for m in notices if m.agb_code == EIK)
    assert eik.payload["kits"] == [{"kind": "insulin", "last_refreshed_on": None, "due_on": "2024-12-31"}]
    assert eik.payload["contact"]["email"] in OFFICERS
    assert eik.subject == "De insuline-instructiekoffer van Praktijk De Eik wordt geactualiseerd"
    assert kits_and_courses.refresh_kits(services, at("2024-12-03")).already_ran
    assert len(outbox(services, "kit_refresh_due")) == 2

    kits_and_courses.record_kit_refresh(services, EIK, KitKind.INSULIN, date(2024, 12, 16), at("2024-12-16", 15),
                                        "user:officer")
    assert not kits_and_courses.record_kit_refresh(services, EIK, KitKind.INSULIN, date(2024, 12, 16),
                                                   at("2024-12-16", 16), "user:officer")  # recorded once
    old = obligation(services, f"instruction_kit:{EIK}:insulin:2023-01-01")
    assert (old.status, old.closed_on) == ("done", date(2024, 12, 16))
    following = obligation(services, f"instruction_kit:{EIK}:insulin:2024-12-16")
    assert (following.status, following.due_on) == ("open", date(2026, 12, 16))
    assert following.details == {"last_refreshed_on": "2024-12-16"}
    assert obligation(services, f"instruction_kit:{LINDE}:insulin:2023-01-01").status == "open"

    kits_and_courses.refresh_kits(services, at("2025-05-02"))  # COPD since 1 June 2023: due Friday 30 May 2025
    assert len(outbox(services, "kit_refresh_due")) == 3
    (notice,) = [m for m in outbox(services, "kit_refresh_due") if m.payload["kits"][0]["kind"] == "inhalation"]
    assert notice.agb_code == EIK and notice.payload["kits"][0]["due_on"] == "2025-05-30"
    with pytest.raises(UnknownPracticeError):
        kits_and_courses.record_kit_refresh(services, "09999999", KitKind.INSULIN, date(2024, 12, 16),
                                            at("2024-12-16"), "x")


def test_completing_a_mandatory_course_closes_it_and_plans_the_next_round(services: Services) -> None:
    care_group(services)
    never = obligation(services, f"mandatory_course:{LINDE}:D. Mulder|caspir:none")
    assert never.due_on == date(2024, 9, 18) and never.next_notice_on == date(2024, 7, 24)
    kits_and_courses.record_course_completion(services, LINDE, "D. Mulder", "caspir", date(2024, 6, 10),
                                              at("2024-06-10", 16), "user:officer")
    closed = obligation(services, never.key)
    assert (closed.status, closed.closed_on) == ("done", date(2024, 6, 10))
    following = obligation(services, f"mandatory_course:{LINDE}:D. Mulder|caspir:2024-06-10")
    assert (following.status, following.due_on) == ("open", date(2026, 6, 10))
    assert following.details["last_completed_on"] == "2024-06-10"
    assert obligation(services, f"mandatory_course:{LINDE}:D. Mulder|langerhans:none").status == "open"
    sweep.sweep_due(services, at("2024-07-24"))
    assert sorted((m.recipient_name, m.payload["courses"][0]["code"]) for m in outbox(services, "training_due")
                  if m.agb_code == LINDE) == [("C. Bakker", "langerhans"), ("D. Mulder", "langerhans"),
                                              ("F. de Wit", "langerhans")]
    assert len(outbox(services, "training_due")) == 3 + 6  # and De Eik's six


def test_a_course_completion_for_someone_not_in_the_register_is_refused(services: Services) -> None:
    care_group(services)
    with pytest.raises(kits_and_courses.UnknownPersonError, match=r"X\. Onbekend"):
        kits_and_courses.record_course_completion(services, LINDE, "X. Onbekend", "caspir", date(2024, 6, 10),
                                                  at("2024-06-10", 16), "user:officer")
    with pytest.raises(kits_and_courses.UnknownPersonError, match="caspir, langerhans"):
        kits_and_courses.record_course_completion(services, LINDE, "D. Mulder", "bls", date(2024, 6, 10),
                                                  at("2024-06-10", 16), "user:officer")
    with pytest.raises(UnknownPracticeError):
        kits_and_courses.record_course_completion(services, "09999999", "D. Mulder", "caspir", date(2024, 6, 10),
                                                  at("2024-06-10", 16), "user:officer")
    assert obligation(services, f"mandatory_course:{LINDE}:D. Mulder|caspir:none").status == "open"


# --- the board's digest ----------------------------------------------------------------------------


def under_the_policy(services: Services) -> Scenario:
    """De Linde and De Eik are flagged in April 2024, agree a plan on 29 April and barely improve: both
    enter the underperformer policy on Monday 5 May 2025. De Esdoorn does well throughout."""
    description = DESCRIPTION + f"""
  "{ESDOORN}": {{name: Praktijk De Esdoorn, email: info@esdoorn.example, programmes: {{dm2: 2023-01-01}}}}
"""
    sc = Scenario.build(services, description)
    for agb in (LINDE, EIK, ESDOORN):
        sc.conversation(agb, "start", "2024-01-15")
    weak = {**GOOD, "dm2/hba1c_measured": 60}
    sc.scores("2024-03-31", {LINDE: weak, EIK: weak, ESDOORN: GOOD})
    sc.run("2024-04-08")
    for agb in (LINDE, EIK):
        sc.conversation(agb, "extra", "2024-04-29", plan={"dm2/hba1c_measured": 85})
    for quarter, value in (("2024-06-30", 61), ("2024-09-30", 62), ("2024-12-31", 63), ("2025-03-31", 64)):
        sc.scores(quarter, {LINDE: {**GOOD, "dm2/hba1c_measured": value}, EIK: {**GOOD, "dm2/hba1c_measured": value},
                            ESDOORN: GOOD})
    sc.run("2025-05-05")
    return sc


def test_the_board_gets_one_digest_per_member_per_quarter_listing_every_practice_under_the_policy(
    services: Services,
) -> None:
    sc = under_the_policy(services)
    assert [sc.state(a) for a in (LINDE, EIK, ESDOORN)] == [
        TrajectoryState.UNDERPERFORMER_POLICY, TrajectoryState.UNDERPERFORMER_POLICY, TrajectoryState.ANNUAL_CYCLE]
    report = digest.board_digest(services, at("2025-07-01", 8))
    assert report.practices == 2
    digests = outbox(services, "board_digest")
    assert recipients(digests) == [("bestuur@cohaesie.example", "board"), ("c.smit@cohaesie.example", "board")]
    payload = digests[0].payload
    assert payload["period"] == {"start": "2025-04-01", "end": "2025-06-30"} and payload["interval_months"] == 3
    assert [t["practice"]["agb_code"] for t in payload["trajectories"]] == [LINDE, EIK]
    indicator = payload["trajectories"][0]["indicators"][0]
    assert (indicator["indicator"], indicator["score"], indicator["baseline_score"]) == ("hba1c_measured", 64.0, 60.0)
    assert digests[0].subject.startswith("Kwartaaloverzicht verbetertrajecten (beleid minder presterende praktijken)")
    for m in digests:
        msg = render(m, mail_from="kwaliteit@cohaesie.example", now=at("2025-07-01", 8))
        assert "Praktijk De Eik" in str(msg.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]

    digest.board_digest(services, at("2025-07-08", 8))  # the same quarter: once
    assert len(outbox(services, "board_digest")) == 2
    assert digest.board_digest(services, at("2025-07-01", 8)).already_ran
    digest.board_digest(services, at("2025-10-01", 8))
    assert len(outbox(services, "board_digest")) == 4
    assert {m.payload["period"]["start"] for m in outbox(services, "board_digest")} == {"2025-04-01", "2025-07-01"}


def test_a_late_digest_lists_only_the_practices_under_the_policy_in_its_own_quarter(services: Services) -> None:
    under_the_policy(services)
    digest.board_digest(services, at("2025-05-06", 8))  # the first-quarter digest, run late
    (first, _) = outbox(services, "board_digest")
    assert first.payload["period"] == {"start": "2025-01-01", "end": "2025-03-31"}
    assert first.payload["trajectories"] == []


def test_no_digest_for_a_period_before_any_trajectory(services: Services) -> None:
    Scenario.build(services, DESCRIPTION)
    report = digest.board_digest(services, at("2025-07-01", 8))
    assert report.messages == 0 and outbox(services) == []


# --- indicators from the inbox ------------------------------------------------------------------------


EXTRACT_COLUMNS = ["pseudonym", "agb_code", "programme", "inclusion_date", "hba1c_date", "hba1c_value", "bp_date",
                   "bp_value", "ldl_date", "ldl_value", "egfr_date", "acr_date", "bmi_date", "smoking_date",
                   "foot_exam_date", "fundus_date"]


def extract_csv(hba1c_checked: dict[str, int], patients: int = 10) -> str:
    lines = [",".join(EXTRACT_COLUMNS)]
    for agb, checked in hba1c_checked.items():
        for n in range(patients):
            hba1c = "2024-10-01,50" if n < checked else ","
            lines.append(f"p-{agb}-{n},{agb},dm2,2020-01-01,{hba1c},2024-10-01,130,2024-10-01,2.1,2024-10-01,"
                         "2024-10-01,2024-10-01,2024-10-01,2024-10-01,2024-10-01")
    return "\n".join(lines) + "\n"


@pytest.fixture
def inbox(services: Services, tmp_path: Path) -> Path:
    """An empty inbox folder of the care group (``care_group``); ``LINDE_BEHIND`` is the extract to put in it."""
    care_group(services)
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


LINDE_BEHIND = extract_csv({LINDE: 6, EIK: 10})  # De Linde measured HbA1c of 6 of its 10 patients, De Eik of all


def test_new_extracts_in_the_inbox_are_recalculated_once_and_judge_the_practices_at_once(
    services: Services, inbox: Path,
) -> None:
    (inbox / "his_2024-12-31.csv").write_text(LINDE_BEHIND, encoding="utf-8")
    (inbox / "kapot_2024-12-31.csv").write_text("pseudonym,agb_code\np-1,01234567\n", encoding="utf-8")
    (inbox / "notities.csv").write_text("niet van belang\n", encoding="utf-8")  # no period end in the name
    report = recalculate_from_inbox(services, at("2025-01-13"), inbox)
    assert [name for name, _ in report.failures] == ["kapot_2024-12-31.csv"]
    assert [(t.agb_code, t.trigger.value) for t in report.transitions] == [(LINDE, "flag_deviation")]
    with services.session() as s:
        scores = repo.load_scores(s, [LINDE])[LINDE]
    hba1c = next(x for x in scores if x.indicator == "hba1c_measured")
    assert (hba1c.period_end, hba1c.numerator, hba1c.denominator) == (date(2024, 12, 31), 6, 10)
    again = recalculate_from_inbox(services, at("2025-01-20"), inbox)
    assert again.transitions == [] and [name for name, _ in again.failures] == ["kapot_2024-12-31.csv"]
    assert not any(line["wat"] == "extract his_2024-12-31.csv" for line in again.lines)


def test_an_extract_in_parquet_named_pq_is_taken_from_the_inbox_as_recalculate_takes_it(
    services: Services, inbox: Path, tmp_path: Path,
) -> None:
    import polars as pl

    (tmp_path / "his.csv").write_text(LINDE_BEHIND, encoding="utf-8")
    pl.read_csv(tmp_path / "his.csv", infer_schema=False).write_parquet(inbox / "his_2024-12-31.PQ")
    report = recalculate_from_inbox(services, at("2025-01-13"), inbox)
    assert report.failures == [] and [(t.agb_code, t.trigger.value) for t in report.transitions] == [
        (LINDE, "flag_deviation")]


# --- interrupted and concurrent sweeps ---------------------------------------------------------------


THREE = DESCRIPTION + f"""
  "{ESDOORN}":
    name: Praktijk De Esdoorn
    email: info@esdoorn.example
    programmes: {{dm2: 2023-01-01}}
    people: {{gp_principal: L. Jansen <l.jansen@esdoorn.example>, poh_chronic: M. Kok <m.kok@esdoorn.example>}}
"""


def three_practices(services: Services) -> Scenario:
    sc = Scenario.build(services, THREE)
    for agb in (LINDE, EIK, ESDOORN):
        sc.conversation(agb, "start", "2024-03-12")
    return sc


class ProcessDied(Exception):
    """The fake's way of being killed: raised where its next transaction would begin."""


@dataclasses.dataclass(frozen=True)
class DyingServices(Services):
    """A worker that is killed after a given number of transactions: the work of those is committed, the
    rest never happens (a fake of ``kill -9`` between two transactions)."""

    left: list[int] = dataclasses.field(default_factory=lambda: [0])

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        if self.left[0] == 0:
            raise ProcessDied()
        self.left[0] -= 1
        with super().transaction() as s:
            yield s


def test_a_sweep_killed_half_way_completes_on_the_rerun_without_duplicates(
    services: Services, reference: Services,
) -> None:
    for s in (services, reference):
        three_practices(s)
        sweep.sweep_due(s, at("2024-03-18"))
    moment = at("2025-01-29")
    # two transactions of follow-up (goals, agreements: none due), then two of the practices' batches
    dying = DyingServices(services.db, services.policy, services.calendar, left=[4])
    with pytest.raises(ProcessDied):
        sweep.sweep_due(dying, moment, batch_size=1)
    with services.session() as s:
        assert store.get_duty_run(s, "sweep_due", moment) is None  # not recorded as run
    rerun = sweep.sweep_due(services, moment, batch_size=1)
    assert not rerun.already_ran and len(outbox(services, "conversation_invitation")) == 5 + 6 + 7  # with each
    # practice's own address
    sweep.sweep_due(reference, moment)
    assert snapshot(services) == snapshot(reference)
    assert all(n == 1 for n in snapshot(services)[2].values())


def test_a_sweep_killed_after_any_transaction_completes_on_the_rerun_exactly_as_an_uninterrupted_one(
    tmp_path: Path, sqlite_template: Path, reference: Services,
) -> None:
    """Every point between two transactions of a sweep, one after the other: the killed run, then a rerun,
    leaves what one sweep leaves, with every message and every logged change once."""
    start = tmp_path / "start.db"
    shutil.copy(sqlite_template, start)
    base = Services.open(sqlite_url(start), upgrade=False)
    for s in (base, reference):
        sc = three_practices(s)
        sweep.sweep_due(s, at("2024-03-18"))
        # figures that flag De Linde: the sweep reviews the three practices, not only their messages
        sc.scores("2024-12-31", {LINDE: {**GOOD, "dm2/hba1c_measured": 60}, EIK: GOOD, ESDOORN: GOOD})
    base.db.dispose()
    moment = at("2025-01-29")
    report = sweep.sweep_due(reference, moment)
    assert [(t.agb_code, t.trigger.value) for t in report.transitions] == [(LINDE, "flag_deviation")]
    expected = snapshot(reference)
    killed_at = 0
    while True:
        path = tmp_path / f"killed-{killed_at}.db"
        shutil.copy(start, path)
        services = Services.open(sqlite_url(path), upgrade=False)
        try:
            sweep.sweep_due(DyingServices(services.db, services.policy, services.calendar, left=[killed_at]),
                            moment, batch_size=1)
            finished = True
        except ProcessDied:
            finished = False
        sweep.sweep_due(services, moment, batch_size=1)
        assert snapshot(services) == expected, f"killed after {killed_at} transactions"
        services.db.dispose()
        if finished:  # the run needed fewer transactions than it was allowed: every point was tried
            break
        killed_at += 1
    assert killed_at > 8  # reviews of three practices and their messages took many transactions


@pytest.mark.postgres
def test_two_workers_sweeping_the_same_moment_queue_each_message_and_plan_each_duty_once(
    two_workers: tuple[Services, Services], reference: Services,
) -> None:
    a, b = two_workers
    three_practices(a)
    three_practices(reference)
    for day in ("2024-03-18", "2024-07-24", "2025-01-29", "2025-02-19", "2025-03-13"):
        moment = at(day)
        barrier = threading.Barrier(2)
        results: dict[str, object] = {}

        def worker(name: str, services: Services, moment: datetime = moment, barrier: threading.Barrier = barrier,
                   results: dict[str, object] = results) -> None:
            barrier.wait()
            try:
                results[name] = sweep.sweep_due(services, moment, actor=name)
            except BaseException as exc:  # pragma: no cover - reported below
                results[name] = exc

        threads = [threading.Thread(target=worker, args=(n, s)) for n, s in (("a", a), ("b", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(isinstance(r, BaseException) for r in results.values()), results
        sweep.sweep_due(reference, moment)
    obs, messages, log = snapshot(a)
    assert (obs, messages) == snapshot(reference)[:2]
    assert len({o[0] for o in obs}) == len(obs) and len({m[0] for m in messages}) == len(messages)
    assert Counter(m[1] for m in messages) == {"conversation_invitation": 18, "conversation_reminder": 3,
                                               "conversation_overdue": 6, "training_due": 13,  # practice
                                               "training_overdue": 21}  # managers' own Langerhans included
    assert all(n == 1 for n in log.values()) and set(log) == set(snapshot(reference)[2])
    assert len(queries.duty_runs(a)) == 5


@pytest.mark.postgres
def test_the_worker_that_loses_the_race_to_plan_a_duty_does_not_log_it_as_planned(
    two_workers: tuple[Services, Services],
) -> None:
    a, b = two_workers
    three_practices(a)
    with a.session() as s:
        practice, view = repo.get_practice(s, LINDE), repo.load_view(s, LINDE)
    assert practice is not None
    facts = PracticeFacts(agb_code=LINDE, view=view, programmes=practice.programmes, people=())
    wanted = practice_obligations(facts, a.policy, a.calendar, date(2024, 3, 18), courses=SHIPPED_CATALOGUE)
    outcome: dict[str, list[str]] = {}
    with Session(a.db) as first:
        outcome["a"] = store.add_obligations(first, wanted, next_notice={}, now=at("2024-03-18"), actor="a",
                                             reason="gepland")  # not committed yet: holds the keys

        def second_worker() -> None:
            with Session(b.db) as second:
                outcome["b"] = store.add_obligations(second, wanted, next_notice={}, now=at("2024-03-18", 8),
                                                     actor="b", reason="gepland")
                second.commit()

        second_waits_for_first(second_worker, first, "the second insert waits for the first transaction")
    assert Counter(c.change for c in changes(a)) == {"planned": len(wanted)}
    assert outcome["a"] and outcome["b"] == []


def test_the_agreements_of_a_plan_stay_in_the_next_invitation_after_a_conversation_without_a_plan(
        services: Services) -> None:
    """Seed 1: agreements are recorded in a report and evaluated at the next conversation. A later conversation
    without a plan (once stored as the JSON text ``null``, which ``plan IS NOT NULL`` let through) must not hide
    the last plan's agreements."""
    from domain.commands import RecordConversation
    from domain.conversations import Goal, ImprovementPlan
    from domain.registry import Programme
    from domain.vocabulary import ConversationKind
    from flows.testing.scenario import FULL_ATTENDANCE

    sc = care_group(services)
    sc.scores("2024-03-31", {LINDE: {"dm2/hba1c_measured": 55}})
    sc.run("2024-04-08")
    plan = ImprovementPlan(goals=(Goal(programme=Programme.DM2, indicator="hba1c_measured", target=85,
                                       by=date(2025, 3, 31)),),
                           agreements=("Recall-lijst HbA1c maandelijks nalopen",))
    conversations.record_conversation(services, RecordConversation(
        agb_code=LINDE, kind=ConversationKind.EXTRA, held_on=date(2024, 4, 29), attendees=FULL_ATTENDANCE,
        plan=plan), at("2024-04-29", 16), "officer")
    sc.conversation(LINDE, "extra", "2024-06-12")  # a visit without a plan
    with services.session() as s:
        stored = {c.held_on: c.plan for c in repo.conversations_of(s, LINDE)}
    assert stored[date(2024, 6, 12)] is None

    sweep.sweep_due(services, at("2025-01-29"))
    (invitation, *_) = [m for m in outbox(services, "conversation_invitation") if m.agb_code == LINDE
                        and m.payload["conversation"]["kind"] == "annual"]
    assert invitation.payload["prepare"]["agreements"] == ["Recall-lijst HbA1c maandelijks nalopen"]
    assert invitation.payload["prepare"]["agreements_from"] == "2024-04-29"


def test_a_digest_period_without_any_run_is_sent_by_the_next_run(services: Services) -> None:
    """Runs on 6 May 2024 (the first quarter's digest) and then only on 9 December: the second and third
    quarters' digests go out on 9 December, once each, oldest first."""
    care_group(services)
    digest.board_digest(services, at("2024-05-06", 8))
    report = digest.board_digest(services, at("2024-12-09", 8))
    again = digest.board_digest(services, at("2024-12-10", 8))

    periods = [m.payload["period"]["start"] for m in outbox(services, "board_digest")]
    assert sorted(set(periods)) == ["2024-01-01", "2024-04-01", "2024-07-01"]
    assert len(periods) == 3 * len({m.recipient_email for m in outbox(services, "board_digest")})
    assert [line["details"].split(":")[0] for line in report.lines] == [
        "1 april 2024 t/m 30 juni 2024", "1 juli 2024 t/m 30 september 2024"]
    assert again.messages == 0 and "al eerder verstuurd" in again.lines[0]["details"]


def test_a_mandatory_course_past_its_due_date_is_told_once_to_the_person_and_the_practice_manager(
        services: Services) -> None:
    care_group(services)
    sweep.sweep_due(services, at("2024-03-18"))
    course = obligation(services, f"mandatory_course:{LINDE}:D. Mulder|caspir:none")
    sweep.sweep_due(services, at(str(course.due_on + timedelta(days=1))))
    told = [m for m in outbox(services, "training_overdue") if m.payload["person"]["name"] == "D. Mulder"
            and m.payload["course"]["code"] == "caspir"]
    assert sorted((m.recipient_name, m.recipient_role) for m in told) == [("D. Mulder", "poh_chronic"),
                                                                          ("F. de Wit", "practice_manager")]
    sweep.sweep_due(services, at(str(course.due_on + timedelta(days=8))))
    assert len([m for m in outbox(services, "training_overdue") if m.payload["person"]["name"] == "D. Mulder"
                and m.payload["course"]["code"] == "caspir"]) == 2  # once
