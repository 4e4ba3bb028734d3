"""The lifecycle of a support activity (requested, planned, done, cancelled): every change allowed or refused
with what can happen instead, and a replay of its events rebuilding its view."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.clock import AMSTERDAM
from domain.support import SupportState, SupportTrigger, SupportView
from domain.vocabulary import SupportKind
from statemachines.support import InvalidSupportChangeError, allowed, fire, replay

AT = datetime(2025, 3, 1, 10, 0, tzinfo=AMSTERDAM)
S, T = SupportState, SupportTrigger


def walk(*steps: tuple[SupportTrigger, date, dict[str, object]]) -> tuple[SupportView, list[object]]:
    view, events = SupportView(id="s1"), []
    for trigger, on, details in steps:
        event = fire(view, trigger, on=on, recorded_at=AT, actor="officer", details=dict(details))
        view = view.apply(event)
        events.append(event)
    return view, events


REQUESTED = (T.REQUEST, date(2025, 2, 10), {"agb_code": "01234567", "kind": "coaching", "agreement": "a1"})


def test_requested_planned_twice_and_done_is_what_replay_rebuilds() -> None:
    view, events = walk(REQUESTED, (T.PLAN, date(2025, 3, 3), {"by": "M. Coach"}), (T.PLAN, date(2025, 3, 10), {}),
                        (T.COMPLETE, date(2025, 3, 10), {"half_days": 2, "outcome": "consultvoering geoefend"}))
    assert (view.status, view.kind, view.planned_on, view.by, view.done_on, view.half_days, view.version) == (
        S.DONE, SupportKind.COACHING, date(2025, 3, 10), "M. Coach", date(2025, 3, 10), 2, 4)
    assert replay("s1", events) == view  # type: ignore[arg-type]


@pytest.mark.parametrize(("state", "expected"), [
    (S.NEW, [T.REQUEST]), (S.REQUESTED, [T.PLAN, T.CANCEL]), (S.PLANNED, [T.PLAN, T.COMPLETE, T.CANCEL]),
    (S.DONE, []), (S.CANCELLED, []),
])
def test_each_state_allows_exactly_the_changes_of_the_lifecycle(state: SupportState,
                                                                 expected: list[SupportTrigger]) -> None:
    assert allowed(state) == expected


def test_done_before_planned_is_refused_naming_what_can_happen() -> None:
    view, _ = walk(REQUESTED)
    with pytest.raises(InvalidSupportChangeError, match=r"afronden kan niet .* \(wel mogelijk: plannen, laten "
                                                        r"vervallen\)"):
        fire(view, T.COMPLETE, on=date(2025, 3, 1), recorded_at=AT, actor="officer")


def test_done_before_the_day_it_was_planned_for_is_refused() -> None:
    view, _ = walk(REQUESTED, (T.PLAN, date(2025, 3, 10), {}))
    with pytest.raises(InvalidSupportChangeError, match="ligt voor de geplande dag"):
        fire(view, T.COMPLETE, on=date(2025, 3, 9), recorded_at=AT, actor="officer")


def test_a_replay_with_an_event_the_machine_does_not_allow_fails() -> None:
    _, events = walk(REQUESTED, (T.PLAN, date(2025, 3, 10), {}), (T.COMPLETE, date(2025, 3, 10), {}))
    with pytest.raises(InvalidSupportChangeError):
        replay("s1", [events[0], events[2]])  # type: ignore[list-item]
