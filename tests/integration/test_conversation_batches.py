"""Conversations recorded in a batch (``record_conversations``: an import, a day's spreadsheet) over SQLite and
PostgreSQL: one transaction that reads once what each conversation would read again, and leaves exactly what
recording them one by one leaves; a refused one stops the batch, keeps those before it and nothing of itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

import sqlalchemy as sa

from domain.clock import AMSTERDAM
from domain.commands import RecordConversation
from domain.vocabulary import ConversationKind
from flows.services import conversations, queries
from flows.services.context import Services, UnknownPracticeError
from flows.testing.scenario import FULL_ATTENDANCE, Scenario
from storage import repository as repo

LINDE, EIK, BEUK = "01234567", "01234568", "01234569"
DESCRIPTION = """
care_group: Cohaesie
board: [B. de Vries <bestuur@cohaesie.example>]
officers: [A. Jansen <a.jansen@cohaesie.example>, P. de Boer <p.deboer@cohaesie.example>]
practices:
""" + "".join(f"""  "{code}":
    name: Huisartsenpraktijk {name}
    gp_group: HAGRO-WEST
    email: praktijk@{name.lower().replace(' ', '')}.example
    programmes: {{dm2: 2023-01-01}}
    people:
      gp_principal: C. Bakker <c.bakker@{name.lower().replace(' ', '')}.example>
      poh_chronic: D. Mulder <d.mulder@{name.lower().replace(' ', '')}.example>
""" for code, name in ((LINDE, "De Linde"), (EIK, "De Eik"), (BEUK, "De Beuk")))
HELD = date(2024, 1, 15)
AT = datetime.combine(HELD, time(16, 0), tzinfo=AMSTERDAM)


def conversation(agb: str, kind: str, on: date = HELD) -> RecordConversation:
    return RecordConversation(agb_code=agb, kind=ConversationKind(kind), held_on=on)


def the_day(services: Services) -> list[RecordConversation]:
    """A day's spreadsheet: three start conversations, and De Linde's annual conversation held after its start
    (its step is judged from the state the start conversation left)."""
    return [conversation(LINDE, "start"), conversation(EIK, "start"), conversation(BEUK, "start"),
            conversation(LINDE, "annual")]


def what_was_left(services: Services) -> dict[str, object]:
    """Everything recording leaves, compared as values: events, views, conversations, steps and messages."""
    with services.session() as s:
        events = {agb: [(e.seq, e.trigger.value, e.from_state.value, e.to_state.value, e.at, e.recorded_at,
                         e.details) for e in events] for agb, events in repo.load_all_events(s).items()}
        views = repo.load_views(s)
        held = [(c.id, c.agb_code, c.kind, c.held_on, c.recorded_at, c.agreement_gaps)
                for c in repo.conversations_of(s, None)]
        steps = sorted((t.id, t.status, t.event_seq, t.waiting) for t in repo.pending_steps(s))
        with services.db.connect() as c:
            taken = sorted(c.execute(sa.text("SELECT id, status, event_seq FROM trajectory_step")).all())
    messages = sorted((m.key, m.kind, m.recipient_email) for m in queries.outbox_messages(services))
    return {"events": events, "views": views, "conversations": held, "steps": steps, "taken": taken,
            "messages": messages}


def test_a_days_conversations_recorded_in_one_batch_leave_what_recording_them_one_by_one_leaves(
        services: Services, sqlite_copy: Callable[[str], Services]) -> None:
    batch = Scenario.build(services, DESCRIPTION, start="2024-01-08")
    batch.sweep("2024-01-08")
    one_by_one = Scenario.build(sqlite_copy("one-by-one.db"), DESCRIPTION, start="2024-01-08")
    one_by_one.sweep("2024-01-08")

    done = conversations.record_conversations(services, the_day(services), AT, "import:gesprekken", live=True)
    for cmd in the_day(one_by_one.services):
        conversations.record_conversation(one_by_one.services, cmd, AT, "import:gesprekken", live=True)

    assert done.refused is None
    assert [(r.agb_code, r.kind.value, r.transition.trigger.value if r.transition else None) for r in done.recorded] \
        == [(LINDE, "start", "hold_start_conversation"), (EIK, "start", "hold_start_conversation"),
            (BEUK, "start", "hold_start_conversation"), (LINDE, "annual", "hold_annual_conversation")]
    assert what_was_left(services) == what_was_left(one_by_one.services)
    assert [e.trigger.value for e in batch.history(LINDE)] == ["hold_start_conversation", "hold_annual_conversation"]


def test_a_refused_conversation_stops_the_batch_and_keeps_those_before_it_and_nothing_of_itself(
        services: Services) -> None:
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-08")
    sc.sweep("2024-01-08")
    day = [conversation(LINDE, "start"), conversation(EIK, "start"), conversation("09999999", "start"),
           conversation(BEUK, "start")]

    done = conversations.record_conversations(services, day, AT, "import:gesprekken", live=True)

    assert [r.agb_code for r in done.recorded] == [LINDE, EIK]
    assert done.refused is not None and done.refused[0] == 2 and isinstance(done.refused[1], UnknownPracticeError)
    assert {(c.agb_code, c.kind) for c in queries.conversations(services)} == {(LINDE, "start"), (EIK, "start")}
    assert (sc.state(LINDE).value, sc.state(EIK).value, sc.state(BEUK).value) == ("annual_cycle", "annual_cycle",
                                                                                   "start")
    # nothing half-written stays behind: the batch is recorded again whole once the file is mended
    again = conversations.record_conversations(services, [day[0], day[1], day[3]], AT, "import:gesprekken",
                                               live=True)
    assert [r.already_recorded for r in again.recorded] == [True, True, False]
    assert sc.state(BEUK).value == "annual_cycle"


def test_the_same_conversation_twice_in_a_batch_is_recorded_once_and_other_content_is_refused(
        services: Services) -> None:
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-08")
    sc.sweep("2024-01-08")
    start = conversation(LINDE, "start")
    other = RecordConversation(agb_code=LINDE, kind=ConversationKind.START, held_on=HELD, attendees=FULL_ATTENDANCE)

    done = conversations.record_conversations(services, [start, start, other], AT, "import:gesprekken", live=True)

    assert [r.already_recorded for r in done.recorded] == [False, True]
    assert done.refused is not None and isinstance(done.refused[1], conversations.ConversationConflictError)
    assert [e.trigger.value for e in sc.history(LINDE)] == ["hold_start_conversation"]


def test_a_step_waiting_from_before_is_taken_when_a_batch_brings_the_start_conversation_it_waited_for(
        services: Services, sqlite_copy: Callable[[str], Services]) -> None:
    """De Eik's annual conversation was typed in before its start conversation: its step waits. The next day's batch
    brings that start conversation (held before the annual one) with De Linde's first two: the batch reads which
    practices have a step not yet taken once, and De Eik's waiting step is taken after its start, as recording them
    one by one takes it."""
    day_after = datetime.combine(date(2024, 1, 16), time(16, 0), tzinfo=AMSTERDAM)
    the_next_day = [conversation(LINDE, "start", date(2024, 1, 16)), conversation(EIK, "start", date(2024, 1, 12)),
                    conversation(LINDE, "annual", date(2024, 1, 16))]
    batch = Scenario.build(services, DESCRIPTION, start="2024-01-08")
    one_by_one = Scenario.build(sqlite_copy("one-by-one.db"), DESCRIPTION, start="2024-01-08")
    for sc in (batch, one_by_one):
        sc.sweep("2024-01-08")
        first = conversations.record_conversation(sc.services, conversation(EIK, "annual"), AT, "import", live=True)
        assert first.transition is None and first.waiting is not None and "startgesprek" in first.waiting

    done = conversations.record_conversations(services, the_next_day, day_after, "import:gesprekken", live=True)
    for cmd in the_next_day:
        conversations.record_conversation(one_by_one.services, cmd, day_after, "import:gesprekken", live=True)

    assert done.refused is None
    assert [e.trigger.value for e in batch.history(EIK)] == ["hold_start_conversation", "hold_annual_conversation"]
    assert [e.trigger.value for e in batch.history(LINDE)] == ["hold_start_conversation", "hold_annual_conversation"]
    assert what_was_left(services) == what_was_left(one_by_one.services)
    with services.session() as s:
        assert repo.pending_steps(s) == []
