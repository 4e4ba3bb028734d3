"""An officer moves a planned conversation, over SQLite and PostgreSQL: the move is a fact the planning keeps, the
attendees' calendar entry is updated (same UID, higher SEQUENCE), the reminder follows the new day, the overdue
notice the due date; a move that cannot be is refused whole and nothing is stored.

De Linde and De Eik held their start conversations on 12 March 2024 (``test_duties.care_group``): their annual
conversation is due Wednesday 12 March 2025 and set for Wednesday 26 February (invitation 29 January, reminder
19 February)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from domain.errors import InputError
from domain.obligations import ConversationMoveError
from domain.vocabulary import ConversationKind
from flows.services import planning, sweep
from flows.services.context import Services, UnknownPracticeError
from flows.services.officers import assign
from flows.services.outbox import dispatch_outbox
from flows.services.reschedule import ConversationMoved, NoOpenConversationError, reschedule_conversation
from notifications.channels import EmlFolderChannel
from notifications.rendering import render
from storage import obligations as store
from tests.integration.test_duties import (
    EIK,
    LINDE,
    LINDE_ANNUAL,
    at,
    care_group,
    changes,
    event_of,
    obligation,
    outbox,
)

HOLIDAY_REASON = "praktijkhouder op vakantie"


def move(services: Services, to: str, now: str, *, kind: ConversationKind = ConversationKind.ANNUAL,
         agb: str = LINDE, reason: str = HOLIDAY_REASON) -> ConversationMoved:
    return reschedule_conversation(services, agb, kind, date.fromisoformat(to), reason, at(now, 10),
                                   "user:a.jansen")


def moves(services: Services) -> dict[str, dict[str, date]]:
    with services.session() as s:
        return store.conversation_moves(s)


def test_annual_conversation_moved_a_week_later_updates_the_same_calendar_entry(
        services: Services, tmp_path: Path) -> None:
    care_group(services)
    sweep.sweep_due(services, at("2025-01-29"))  # invited for 26 February
    dispatch_outbox(services, EmlFolderChannel(tmp_path / "mail"), at("2025-01-29", 8), mail_from="k@cohaesie.example")
    moved = move(services, "2025-03-05", "2025-02-03")
    assert (moved.from_day, moved.to, moved.due_on, moved.past_due) == (date(2025, 2, 26), date(2025, 3, 5),
                                                                         date(2025, 3, 12), False)
    row = obligation(services, LINDE_ANNUAL)
    assert (row.planned_on, row.due_on, row.notices_done) == (date(2025, 3, 5), date(2025, 3, 12), ["invitation"])
    # the invitation had gone out: the attendees hear of the new day at once, not four weeks before it
    assert moved.queued == 6  # the attendees, the two officers and the practice's own address
    linde = [m for m in outbox(services, "conversation_invitation") if m.agb_code == LINDE]
    assert Counter(m.payload["conversation"]["start"][:10] for m in linde) == {"2025-02-26": 6, "2025-03-05": 6}
    assert {m.status for m in linde} == {"sent", "pending"}
    bakker = sorted((m for m in linde if m.recipient_email == "c.bakker@delinde.example"), key=lambda m: m.created_at)
    first, update = (event_of(render(m, mail_from="k@cohaesie.example", now=at("2025-02-03"))) for m in bakker)
    assert str(first["UID"]) == str(update["UID"]) and int(update["SEQUENCE"]) > int(first["SEQUENCE"])
    assert update.decoded("DTSTART").date() == date(2025, 3, 5)
    # the move is in the duty's history, with the reason and who moved it
    last = changes(services, LINDE_ANNUAL)[-1]
    assert (last.change, last.actor, last.at) == ("rescheduled", "user:a.jansen", at("2025-02-03", 10))
    assert last.reason == f"verplaatst naar woensdag 5 maart 2025; {HOLIDAY_REASON}"
    assert ((last.old or {})["planned_on"], (last.new or {})["planned_on"]) == ("2025-02-26", "2025-03-05")
    # the planning keeps the move (a sweep of every practice does not move it back) and invites no one again
    sweep.sweep_due(services, at("2025-02-05"), full=True)
    planning.plan_obligations(services, at("2025-02-05", 9))
    assert obligation(services, LINDE_ANNUAL).planned_on == date(2025, 3, 5)
    assert len([m for m in outbox(services, "conversation_invitation") if m.agb_code == LINDE]) == 12
    # the reminder follows the new day: a week before 5 March, not before 26 February
    sweep.sweep_due(services, at("2025-02-19"))
    assert [m.agb_code for m in outbox(services, "conversation_reminder")] == [EIK]
    sweep.sweep_due(services, at("2025-02-26"))
    reminder = next(m for m in outbox(services, "conversation_reminder") if m.agb_code == LINDE)
    assert reminder.subject == "Herinnering: kwaliteitsjaargesprek op woensdag 5 maart 2025"


def test_a_pending_invitation_for_the_old_day_is_withdrawn_and_never_sent(services: Services) -> None:
    care_group(services)
    sweep.sweep_due(services, at("2025-01-29"))  # queued, not yet sent
    move(services, "2025-03-04", "2025-01-30")
    linde = [m for m in outbox(services, "conversation_invitation") if m.agb_code == LINDE]
    assert Counter((m.payload["conversation"]["start"][:10], m.status) for m in linde) == {
        ("2025-02-26", "withdrawn"): 6, ("2025-03-04", "pending"): 6}


def test_a_conversation_moved_before_anyone_was_invited_is_invited_on_the_new_days_invitation_date(
        services: Services) -> None:
    care_group(services)
    moved = move(services, "2025-03-19", "2024-06-03")  # past the due date: allowed
    assert moved.past_due and moved.queued == 0
    assert obligation(services, LINDE_ANNUAL).next_notice_on == date(2025, 2, 19)  # 28 days before 19 March
    sweep.sweep_due(services, at("2025-01-29"))
    assert {m.agb_code for m in outbox(services, "conversation_invitation")} == {EIK}
    sweep.sweep_due(services, at("2025-02-19"))
    linde = [m for m in outbox(services, "conversation_invitation") if m.agb_code == LINDE]
    assert {m.payload["conversation"]["start"][:10] for m in linde} == {"2025-03-19"} and len(linde) == 6
    # the due date stays the rule's: the officers hear the day after it that the conversation is late
    sweep.sweep_due(services, at("2025-03-12"))
    sweep.sweep_due(services, at("2025-03-13"))
    assert {m.agb_code for m in outbox(services, "conversation_overdue")} == {LINDE, EIK}


def test_a_move_to_the_day_it_is_set_for_stores_nothing(services: Services) -> None:
    care_group(services)
    assert move(services, "2025-02-26", "2024-06-03").already
    assert moves(services) == {} and len(changes(services, LINDE_ANNUAL)) == 1


@pytest.mark.parametrize(("to", "now", "kind", "agb", "reason", "error", "says"), [
    ("2025-03-08", "2024-06-03", ConversationKind.ANNUAL, LINDE, HOLIDAY_REASON, ConversationMoveError,
     "--to 2025-03-08: zaterdag 8 maart 2025 is geen werkdag (weekend)"),
    ("2025-04-21", "2024-06-03", ConversationKind.ANNUAL, LINDE, HOLIDAY_REASON, ConversationMoveError,
     "--to 2025-04-21: maandag 21 april 2025 is geen werkdag (Tweede paasdag)"),
    ("2024-05-31", "2024-06-03", ConversationKind.ANNUAL, LINDE, HOLIDAY_REASON, ConversationMoveError,
     "--to 2024-05-31: ligt voor vandaag (2024-06-03)"),
    ("2025-03-05", "2024-06-03", ConversationKind.EXTRA, LINDE, HOLIDAY_REASON, NoOpenConversationError,
     f"praktijk {LINDE} heeft geen open extra gesprek om te verplaatsen"),
    ("2025-03-05", "2024-06-03", ConversationKind.ANNUAL, "09999999", HOLIDAY_REASON, UnknownPracticeError,
     "09999999 is niet bekend"),
    ("2025-03-05", "2024-06-03", ConversationKind.ANNUAL, LINDE, " ", InputError, "--reason"),
    ("2025-03-05", "2024-06-03", ConversationKind.ANNUAL, LINDE, "patiënt 111222333 ziek", InputError, "--reason"),
])
def test_a_move_that_cannot_be_is_refused_naming_the_field_and_nothing_is_stored(
        services: Services, to: str, now: str, kind: ConversationKind, agb: str, reason: str,
        error: type[Exception], says: str) -> None:
    care_group(services)
    before = obligation(services, LINDE_ANNUAL)
    with pytest.raises(error, match=says.replace("(", r"\(").replace(")", r"\)")):
        move(services, to, now, kind=kind, agb=agb, reason=reason)
    assert moves(services) == {} and obligation(services, LINDE_ANNUAL) == before


def test_planning_as_of_a_day_before_the_move_does_not_see_it(services: Services) -> None:
    care_group(services)
    move(services, "2025-03-05", "2024-06-03")
    with services.session() as s:
        before = planning.read_duties(s, services, [LINDE], date(2024, 6, 2))
        after = planning.read_duties(s, services, [LINDE], date(2024, 6, 3))
    assert before.desired[LINDE_ANNUAL].planned_on == date(2025, 2, 26)
    assert after.desired[LINDE_ANNUAL].planned_on == date(2025, 3, 5)


def test_the_officers_an_officer_assigned_are_invited_and_the_first_organises(services: Services) -> None:
    care_group(services)
    assign(services, LINDE, ["P. de Boer", "A. Jansen"], at("2024-06-03"), "user:p.deboer")
    assign(services, EIK, ["A. Jansen", "P. de Boer"], at("2024-06-03"), "user:p.deboer")
    sweep.sweep_due(services, at("2025-01-29"))
    organisers = {(m.agb_code, m.payload["organizer"]["email"]) for m in outbox(services, "conversation_invitation")}
    assert organisers == {(LINDE, "p.deboer@cohaesie.example"), (EIK, "a.jansen@cohaesie.example")}
