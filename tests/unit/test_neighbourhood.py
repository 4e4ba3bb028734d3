"""The neighbourhood's rules (seed 5), without database or clock: what a core team needs at least, how many GPOs a
cadence sets in a quarter, and the lifecycle of a GP group's network plan with its partners."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.calendar import WorkingCalendar
from domain.neighbourhood import (
    CoreTeam,
    GpoCadence,
    NetworkPlanTrigger,
    NetworkPlanView,
    Quarter,
    UnknownCoreTeamRoleError,
    core_team_role,
    last_closed_quarter,
)
from domain.vocabulary import Role
from statemachines.network_plan import InvalidNetworkPlanChangeError, fire, replay

AT = datetime(2026, 1, 5, 9, tzinfo=UTC)


def test_a_core_team_needs_a_gp_a_poh_or_nurse_and_a_district_nurse() -> None:
    full = CoreTeam("01234567", date(2026, 1, 5), ((Role.GP, "C. Bakker"), (Role.NURSE, "J. Bos"),
                                                   (Role.DISTRICT_NURSE, "W. de Vries")))
    assert full.complete and full.missing == ()
    poh_instead = CoreTeam("01234567", date(2026, 1, 5), ((Role.GP_PRINCIPAL, "C. Bakker"),
                                                          (Role.POH_ELDERLY, "E. Kok")))
    assert poh_instead.missing == ("wijkverpleegkundige",)
    alone = CoreTeam("01234567", date(2026, 1, 5), ((Role.DISTRICT_NURSE, "W. de Vries"),))
    assert alone.missing == ("huisarts", "POH of verpleegkundige")


def test_core_team_roles_are_known_by_their_name_or_the_dutch_word_and_nothing_else() -> None:
    assert core_team_role("wijkverpleegkundige") is Role.DISTRICT_NURSE
    assert core_team_role(" District_Nurse ") is Role.DISTRICT_NURSE
    assert core_team_role("huisarts") is Role.GP
    for unknown in ("officer", "board", "tandarts"):
        with pytest.raises(UnknownCoreTeamRoleError, match="onbekend in een kernteam"):
            core_team_role(unknown)
    with pytest.raises(UnknownCoreTeamRoleError) as refused:
        core_team_role("111222333")  # a BSN typed where a role belongs is never repeated
    assert "111222333" not in str(refused.value)


def test_a_six_weekly_gpo_sets_two_or_three_in_a_quarter_and_none_before_it_began() -> None:
    cadence = GpoCadence(6, date(2026, 1, 5))  # 5 Jan, 16 Feb, 30 Mar, 11 May, 22 Jun, 3 Aug, ...
    assert cadence.expected(Quarter(2026, 1)) == 3
    assert cadence.expected(Quarter(2026, 2)) == 2
    assert cadence.expected(Quarter(2026, 1), until=date(2026, 2, 15)) == 1  # the quarter under way, so far
    assert cadence.expected(Quarter(2025, 4)) == 0
    assert GpoCadence(1, date(2026, 1, 1)).expected(Quarter(2026, 1)) == 13


def test_quarters_read_in_dutch_or_english_and_the_last_closed_one_is_before_today() -> None:
    assert Quarter.parse("2026K1") == Quarter.parse("2026q1") == Quarter(2026, 1)
    assert (Quarter(2026, 4).start, Quarter(2026, 4).end, Quarter(2026, 4).nl) == (date(2026, 10, 1),
                                                                                   date(2026, 12, 31), "2026K4")
    assert str(Quarter(2026, 1).previous) == "2025Q4"
    assert last_closed_quarter(date(2026, 2, 10)) == Quarter(2025, 4)
    assert last_closed_quarter(date(2026, 3, 31)) == Quarter(2026, 1)
    for bad in ("2026K5", "2026", "K1 2026"):
        with pytest.raises(ValueError, match="kwartaal"):
            Quarter.parse(bad)


def test_a_network_plan_is_agreed_evaluated_yearly_and_ended_and_replay_equals_its_fold() -> None:
    calendar = WorkingCalendar()
    view = NetworkPlanView(gp_group="HAGRO-WEST")
    with pytest.raises(InvalidNetworkPlanChangeError, match="evalueren kan niet nu het zonder plan is"):
        fire(view, NetworkPlanTrigger.EVALUATE, on=date(2026, 1, 5), recorded_at=AT, actor="t", details={"note": "x"})
    events = []
    for trigger, day, details in (
            (NetworkPlanTrigger.HOLD, date(2025, 3, 4), {"kind": "network_meeting", "partners": ["Gemeente"]}),
            (NetworkPlanTrigger.AGREE, date(2025, 5, 6), {"partners": [{"name": "Gemeente", "kind": "municipality"}]}),
            (NetworkPlanTrigger.EVALUATE, date(2026, 5, 4), {"note": "Valpreventie erbij."}),
            (NetworkPlanTrigger.END, date(2026, 9, 1), {"reason": "opgegaan in het regionale plan"})):
        event = fire(view, trigger, on=day, recorded_at=AT, actor="t", details=details)
        events.append(event)
        view = view.apply(event)
        if trigger is NetworkPlanTrigger.AGREE:
            assert view.evaluation_due(12, calendar) == date(2026, 5, 6)
        if trigger is NetworkPlanTrigger.EVALUATE:
            assert view.evaluation_due(12, calendar) == date(2027, 5, 4)
    assert view.evaluation_due(12, calendar) is None  # an ended plan owes no evaluation
    assert replay("HAGRO-WEST", events) == view
    with pytest.raises(InvalidNetworkPlanChangeError, match="een bijeenkomst vastleggen kan niet"):
        fire(view, NetworkPlanTrigger.HOLD, on=date(2026, 9, 2), recorded_at=AT, actor="t",
             details={"kind": "case_discussion"})
    with pytest.raises(InvalidNetworkPlanChangeError, match="evalueren kan niet"):
        replay("HAGRO-WEST", [events[0], events[2]])  # an evaluation without its plan: the log is refused
    with pytest.raises(InvalidNetworkPlanChangeError, match="past niet"):
        replay("HAGRO-WEST", [events[1]])  # an event out of its place
