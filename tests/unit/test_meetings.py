"""The POH and practice-manager meetings as they happen, without database or clock: the lifecycle (topics, a move,
held; nothing after), a replay equal to the state, and attendance per practice and year."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.meetings import MeetingState, MeetingTrigger, MeetingView, attendance
from statemachines.meeting import InvalidMeetingChangeError, fire, replay

AT = datetime(2025, 1, 8, 9, tzinfo=UTC)


def held_view(key: str, kind: str, on: date, *agb: str) -> MeetingView:
    view = MeetingView(key=key, kind=kind)
    event = fire(view, MeetingTrigger.HOLD, on=on, recorded_at=AT, actor="o",
                 details={"kind": kind, "attended": [{"agb_code": a, "name": f"P{a}"} for a in agb]})
    return view.apply(event)


def test_a_meeting_takes_topics_and_a_move_then_is_held_and_takes_nothing_more_and_replays_to_its_state() -> None:
    view, events = MeetingView(key="poh_meeting:2025:1"), []
    for trigger, details in ((MeetingTrigger.ADD_TOPIC, {"kind": "poh_meeting", "topic": "Kompas"}),
                             (MeetingTrigger.MOVE, {"to": "2025-02-18", "reason": "zaal bezet"}),
                             (MeetingTrigger.HOLD, {"attended": [{"agb_code": "01234567", "name": "D. Mulder"}],
                                                    "minutes": "Besproken."})):
        event = fire(view, trigger, on=date(2025, 2, 18), recorded_at=AT, actor="o", details=details)
        events.append(event)
        view = view.apply(event)
    assert (view.status, view.topics, view.moved_to, view.attended) == (
        MeetingState.HELD, ("Kompas",), date(2025, 2, 18), (("01234567", "D. Mulder"),))
    assert replay("poh_meeting:2025:1", events) == view
    with pytest.raises(InvalidMeetingChangeError, match="gehouden"):
        fire(view, MeetingTrigger.MOVE, on=date(2025, 3, 1), recorded_at=AT, actor="o", details={"to": "2025-03-04"})


def test_attendance_counts_the_meetings_held_in_a_year_and_names_a_practice_that_came_to_none() -> None:
    views = [held_view("poh_meeting:2025:1", "poh_meeting", date(2025, 2, 11), "A"),
             held_view("poh_meeting:2025:2", "poh_meeting", date(2025, 4, 22), "A", "B"),
             held_view("poh_meeting:2024:5", "poh_meeting", date(2024, 11, 26), "C"),
             MeetingView(key="poh_meeting:2025:3", kind="poh_meeting")]  # planned: not counted
    found = {(a.agb_code, a.kind): a for a in attendance(views, {"A": frozenset({"poh_meeting"}),
                                                                  "B": frozenset({"poh_meeting"}),
                                                                  "C": frozenset({"poh_meeting"})}, 2025)}
    assert [(k, a.held, a.attended, a.absent_all_year) for k, a in sorted(found.items())] == [
        (("A", "poh_meeting"), 2, 2, False), (("B", "poh_meeting"), 2, 1, False), (("C", "poh_meeting"), 2, 0, True)]


def _attendance_by_scanning(views: list[MeetingView], invited: dict[str, frozenset[str]], year: int,
                            until: date | None) -> list[tuple[str, str, int, int]]:
    """The definition, read literally: for each practice and kind, the meetings held that year and those of them
    someone of the practice came to."""
    held = [v for v in views if v.status is MeetingState.HELD and v.held_on is not None and v.held_on.year == year
            and (until is None or v.held_on <= until)]
    out = []
    for agb, kinds in sorted(invited.items()):
        came_to = {v.kind for v in held if any(a == agb for a, _ in v.attended)}
        for kind in sorted(kinds | came_to):
            of_kind = [v for v in held if v.kind == kind]
            out.append((agb, kind, len(of_kind), sum(1 for v in of_kind if any(a == agb for a, _ in v.attended))))
    return out


_KINDS = st.sampled_from(["poh_meeting", "practice_manager_meeting"])
_PRACTICES = st.sampled_from(["A", "B", "C", "D"])


@settings(max_examples=200, deadline=None)
@given(meetings=st.lists(st.tuples(_KINDS, st.dates(date(2024, 1, 1), date(2025, 12, 31)),
                                   st.lists(_PRACTICES, max_size=5), st.booleans()), max_size=12),
       invited=st.dictionaries(_PRACTICES, st.frozensets(_KINDS), max_size=4),
       until=st.none() | st.dates(date(2025, 1, 1), date(2025, 12, 31)))
def test_attendance_is_what_scanning_every_meeting_for_every_practice_gives(
        meetings: list[tuple[str, date, list[str], bool]], invited: dict[str, frozenset[str]],
        until: date | None) -> None:
    # a practice named twice on one meeting (two of its people came) counts that meeting once
    views = [held_view(f"{kind}:{i}", kind, on, *agb) if was_held else MeetingView(key=f"{kind}:{i}", kind=kind)
             for i, (kind, on, agb, was_held) in enumerate(meetings)]
    found = [(a.agb_code, a.kind, a.held, a.attended) for a in attendance(views, invited, 2025, until)]
    assert found == _attendance_by_scanning(views, invited, 2025, until)
