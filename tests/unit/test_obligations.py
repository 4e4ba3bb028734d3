"""The care group's duties as pure rules, no database: due dates on working days, the annual conversation
within twelve months, meetings spread over the year, kits every two years, courses, and which notice goes
out on which day."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar
from domain.courses import SHIPPED_CATALOGUE, Course, CourseKind
from domain.obligations import (
    ConversationMoveError,
    KitKind,
    Obligation,
    ObligationKind,
    PracticeFacts,
    basis_change_reason,
    calendar_fingerprint,
    check_move,
    conversation_day,
    fulfilled_on,
    meeting_dates,
    meeting_obligations,
    next_notice_on,
    notice_stages,
    practice_obligations,
    stages_to_send,
)
from domain.policy import Policy
from domain.registry import Programme, Role
from domain.trajectory import TrajectoryState, TrajectoryView

AGB = "01234567"
POLICY = Policy()
DUTCH = WorkingCalendar()


def facts(
    *,
    state: TrajectoryState = TrajectoryState.ANNUAL_CYCLE,
    cycle_started_on: date | None = date(2024, 3, 12),
    last_annual: date | None = None,
    flagged_on: date | None = None,
    plan_agreed_on: date | None = None,
    programmes: Mapping[Programme, date] | None = None,
    people: Iterable[tuple[str, Role]] = (),
    start_conversations: Mapping[Programme | None, date] | None = None,
    kits: Mapping[KitKind, date] | None = None,
    courses: Mapping[tuple[str, str], date] | None = None,
    first_planned: Mapping[str, date] | None = None,
) -> PracticeFacts:
    view = TrajectoryView(agb_code=AGB, state=state, cycle_started_on=cycle_started_on,
                          last_annual_conversation_on=last_annual, flagged_on=flagged_on,
                          plan_agreed_on=plan_agreed_on)
    return PracticeFacts(
        agb_code=AGB, view=view,
        programmes=dict(programmes if programmes is not None else {Programme.CVRM: date(2023, 1, 1)}),
        people=tuple(people), start_conversations=dict(start_conversations or {}), kit_refreshes=dict(kits or {}),
        course_completions=dict(courses or {}), first_planned=dict(first_planned or {}))


def plan(f: PracticeFacts, on: date, calendar: WorkingCalendar = DUTCH, policy: Policy = POLICY) -> list[Obligation]:
    return practice_obligations(f, policy, calendar, on, courses=SHIPPED_CATALOGUE)


def only(obligations: list[Obligation], kind: ObligationKind, subject: str | None = None) -> Obligation:
    (found,) = [o for o in obligations if o.kind is kind and (subject is None or o.subject == subject)]
    return found


def annual(f: PracticeFacts, on: date, calendar: WorkingCalendar = DUTCH) -> Obligation:
    return only(plan(f, on, calendar), ObligationKind.ANNUAL_CONVERSATION)


# --- the annual conversation --------------------------------------------------------------------


def test_annual_conversation_is_due_twelve_months_after_the_start_and_set_two_weeks_before() -> None:
    ob = annual(facts(cycle_started_on=date(2024, 3, 12)), on=date(2024, 3, 18))
    assert ob.key == f"annual_conversation:{AGB}:cycle:2024-03-12"
    assert (ob.anchor_on, ob.due_on) == (date(2024, 3, 12), date(2025, 3, 12))
    assert ob.planned_on == date(2025, 2, 26)  # a Wednesday, 14 days before
    assert ob.name_nl == "kwaliteitsjaargesprek"


def test_annual_conversation_counts_from_the_last_one_held_not_from_the_start() -> None:
    ob = annual(facts(cycle_started_on=date(2023, 1, 10), last_annual=date(2024, 6, 11)), on=date(2024, 6, 17))
    assert ob.anchor_on == date(2024, 6, 11) and ob.due_on == date(2025, 6, 11)


@pytest.mark.parametrize(
    ("previous", "calendar", "due"),
    [
        (date(2024, 12, 27), DUTCH, date(2025, 12, 24)),  # Saturday after Christmas: back to Wednesday
        (date(2025, 4, 27), DUTCH, date(2026, 4, 24)),  # King's Day 2026 on a Monday: back to Friday
        (date(2024, 5, 5), DUTCH, date(2025, 5, 2)),  # Liberation Day of a lustrum year (Monday 2025)
        (date(2025, 5, 5), DUTCH, date(2026, 5, 5)),  # ... is a working day in 2026 by default
        (date(2025, 5, 5), WorkingCalendar(liberation_day_every_year=True), date(2026, 5, 4)),
        (date(2024, 2, 29), DUTCH, date(2025, 2, 28)),  # twelve months after a leap day
        (date(2024, 3, 12), WorkingCalendar.with_closures([date(2025, 3, 12)]), date(2025, 3, 11)),
        (date(2024, 3, 12), WorkingCalendar.with_closures([date(2025, 3, 11), date(2025, 3, 12)]), date(2025, 3, 10)),
        (date(2024, 4, 21), DUTCH, date(2025, 4, 17)),  # Easter Monday, Sunday, Saturday, Good Friday: Thursday
    ],
)
def test_annual_conversation_falls_within_twelve_months_pulled_back_to_a_working_day(
    previous: date, calendar: WorkingCalendar, due: date,
) -> None:
    ob = annual(facts(cycle_started_on=date(2023, 1, 10), last_annual=previous), on=previous, calendar=calendar)
    assert ob.due_on == due
    assert calendar.is_working_day(ob.due_on) and ob.due_on <= previous + relativedelta(months=12)
    assert ob.planned_on is not None and calendar.is_working_day(ob.planned_on) and ob.planned_on < ob.due_on


def test_a_planned_day_that_is_a_closure_day_moves_to_the_working_day_before() -> None:
    closed = WorkingCalendar.with_closures([date(2025, 2, 26)])
    ob = annual(facts(cycle_started_on=date(2024, 3, 12)), on=date(2024, 3, 18), calendar=closed)
    assert ob.due_on == date(2025, 3, 12) and ob.planned_on == date(2025, 2, 25)


def test_a_late_plan_gives_the_practice_a_week_even_past_the_due_date() -> None:
    # first planned two days before it is due: the practice must hear of it reminder_days_before ahead
    assert conversation_day(date(2025, 3, 12), date(2025, 3, 10), POLICY, DUTCH) == date(2025, 3, 17)
    ob = annual(facts(cycle_started_on=date(2024, 3, 12)), on=date(2025, 3, 10))
    assert ob.planned_on == date(2025, 3, 17) and ob.due_on == date(2025, 3, 12)
    # the day it was first planned (stored) holds, not the day of a later recomputation
    later = facts(cycle_started_on=date(2024, 3, 12), first_planned={ob.key: date(2024, 3, 18)})
    assert annual(later, on=date(2025, 3, 10)).planned_on == date(2025, 2, 26)


def test_no_annual_conversation_before_the_start_conversation_nor_after_leaving() -> None:
    started = facts(state=TrajectoryState.START, cycle_started_on=None)
    assert not [o for o in plan(started, date(2024, 1, 8)) if o.kind is ObligationKind.ANNUAL_CONVERSATION]
    left = facts(state=TrajectoryState.LEFT, programmes={Programme.DM2: date(2023, 1, 1)},
                 people=[("D. Mulder", Role.POH_CHRONIC)])
    assert plan(left, date(2024, 6, 3)) == []


# --- start and extra conversations ----------------------------------------------------------------


def test_start_conversation_is_due_six_weeks_after_the_first_programme_starts_until_it_is_held() -> None:
    f = facts(state=TrajectoryState.START, cycle_started_on=None,
              programmes={Programme.DM2: date(2024, 2, 1), Programme.COPD: date(2024, 5, 1)})
    ob = only(plan(f, date(2024, 2, 1)), ObligationKind.START_CONVERSATION)
    assert (ob.subject, ob.anchor_on, ob.due_on) == ("cycle", date(2024, 2, 1), date(2024, 3, 14))
    assert ob.planned_on == date(2024, 2, 29)
    held = facts(state=TrajectoryState.START, cycle_started_on=None, programmes={Programme.DM2: date(2024, 2, 1)},
                 start_conversations={None: date(2024, 2, 20)})
    assert fulfilled_on(ob, held, date(2024, 2, 21)) == date(2024, 2, 20)
    assert not [o for o in plan(held, date(2024, 2, 21)) if o.kind is ObligationKind.START_CONVERSATION]


def test_a_programme_started_after_the_cycle_has_its_own_start_conversation() -> None:
    f = facts(cycle_started_on=date(2024, 1, 15),
              programmes={Programme.DM2: date(2023, 1, 1), Programme.COPD: date(2024, 9, 2)})
    ob = only(plan(f, date(2024, 9, 2)), ObligationKind.START_CONVERSATION)
    assert ob.subject == "copd" and ob.due_on == date(2024, 10, 14)
    dm2_only = facts(cycle_started_on=date(2024, 1, 15), programmes={Programme.DM2: date(2024, 9, 2)},
                     start_conversations={Programme.COPD: date(2024, 9, 10)})
    # a start conversation about another programme does not cover it
    assert fulfilled_on(only(plan(dm2_only, date(2024, 9, 2)), ObligationKind.START_CONVERSATION), dm2_only,
                        date(2024, 9, 11)) is None


def test_extra_conversation_is_due_six_weeks_after_the_flag_and_met_by_the_agreed_plan() -> None:
    f = facts(state=TrajectoryState.EXTRA_CONVERSATION, flagged_on=date(2024, 4, 8))
    ob = only(plan(f, date(2024, 4, 8)), ObligationKind.EXTRA_CONVERSATION)
    assert (ob.anchor_on, ob.due_on, ob.planned_on) == (date(2024, 4, 8), date(2024, 5, 17), date(2024, 5, 3))
    agreed = facts(state=TrajectoryState.IMPROVEMENT_PLAN, flagged_on=date(2024, 4, 8),
                   plan_agreed_on=date(2024, 4, 29))
    assert fulfilled_on(ob, agreed, date(2024, 4, 30)) == date(2024, 4, 29)
    assert not [o for o in plan(agreed, date(2024, 4, 30)) if o.kind is ObligationKind.EXTRA_CONVERSATION]


# --- instruction kits ----------------------------------------------------------------------------


def test_kits_fall_due_two_years_after_their_programme_started_or_their_last_refresh() -> None:
    f = facts(programmes={Programme.COPD: date(2023, 6, 1), Programme.ASTHMA: date(2024, 1, 1),
                          Programme.DM2: date(2024, 2, 1)})
    obs = plan(f, date(2024, 3, 4))
    inhalation = only(obs, ObligationKind.INSTRUCTION_KIT, "inhalation")
    insulin = only(obs, ObligationKind.INSTRUCTION_KIT, "insulin")
    assert inhalation.due_on == date(2025, 5, 30)  # 1 June 2025 is a Sunday; counts from the earliest (COPD)
    assert insulin.due_on == date(2026, 1, 30)  # 1 February 2026 is a Sunday
    assert inhalation.details == {"last_refreshed_on": None}
    refreshed = facts(programmes=f.programmes, kits={KitKind.INHALATION: date(2025, 5, 20)})
    assert fulfilled_on(inhalation, refreshed, date(2025, 5, 21)) == date(2025, 5, 20)
    following = only(plan(refreshed, date(2025, 5, 21)), ObligationKind.INSTRUCTION_KIT, "inhalation")
    assert following.key == f"instruction_kit:{AGB}:inhalation:2025-05-20" and following.due_on == date(2027, 5, 20)
    assert following.details == {"last_refreshed_on": "2025-05-20"}
    assert fulfilled_on(following, refreshed, date(2025, 5, 21)) is None


def test_no_kit_for_a_practice_without_asthma_copd_or_diabetes() -> None:
    f = facts(programmes={Programme.CVRM: date(2023, 1, 1), Programme.ELDERLY: date(2023, 1, 1)})
    assert not [o for o in plan(f, date(2024, 3, 4)) if o.kind is ObligationKind.INSTRUCTION_KIT]


# --- mandatory courses ---------------------------------------------------------------------------


PEOPLE = [("C. Bakker", Role.GP_PRINCIPAL), ("D. Mulder", Role.POH_CHRONIC), ("E. Kok", Role.POH_ELDERLY),
          ("F. de Wit", Role.PRACTICE_MANAGER)]


def test_courses_follow_the_roles_of_the_people_practice_managers_included() -> None:
    courses = [o for o in plan(facts(people=PEOPLE), date(2024, 3, 18)) if o.kind is ObligationKind.MANDATORY_COURSE]
    assert sorted(o.subject for o in courses) == ["C. Bakker|langerhans", "D. Mulder|caspir", "D. Mulder|langerhans",
                                                  "F. de Wit|langerhans"]


def test_only_the_catalogues_mandatory_courses_are_owed_and_each_by_its_own_roles() -> None:
    own = (Course(code="hygiene", name="Hygiëne in de praktijk", kind=CourseKind.MANDATORY,
                  roles=frozenset({Role.PRACTICE_MANAGER, Role.POH_ELDERLY}), every_months=36),
           Course(code="start_poh", name="Startscholing POH", kind=CourseKind.START,
                  roles=frozenset({Role.POH_CHRONIC})))
    found = practice_obligations(facts(people=PEOPLE), POLICY, DUTCH, date(2024, 3, 18), courses=own)
    courses = [o for o in found if o.kind is ObligationKind.MANDATORY_COURSE]
    assert sorted(o.subject for o in courses) == ["E. Kok|hygiene", "F. de Wit|hygiene"]
    assert {o.basis["first_within_months"] for o in courses} == {6}


def test_a_course_never_completed_is_due_six_months_after_it_was_first_planned() -> None:
    f = facts(people=[("D. Mulder", Role.POH_CHRONIC)])
    ob = only(plan(f, date(2024, 3, 18)), ObligationKind.MANDATORY_COURSE, "D. Mulder|caspir")
    assert ob.key == f"mandatory_course:{AGB}:D. Mulder|caspir:none"
    assert (ob.anchor_on, ob.due_on) == (date(2024, 3, 18), date(2024, 9, 18))
    assert ob.basis["first_within_months"] == 6 and ob.details["last_completed_on"] is None
    # recomputed later, the day it was first planned still counts
    again = facts(people=[("D. Mulder", Role.POH_CHRONIC)], first_planned={ob.key: date(2024, 3, 18)})
    assert only(plan(again, date(2024, 8, 5)), ObligationKind.MANDATORY_COURSE, "D. Mulder|caspir") == ob


def test_a_completed_course_is_due_again_every_two_years_and_meets_the_open_one() -> None:
    f = facts(people=[("D. Mulder", Role.POH_CHRONIC)])
    never = only(plan(f, date(2024, 3, 18)), ObligationKind.MANDATORY_COURSE, "D. Mulder|caspir")
    done = facts(people=[("D. Mulder", Role.POH_CHRONIC)], courses={("D. Mulder", "caspir"): date(2024, 2, 1)})
    # completed before we planned it: a completion on record meets a never-completed course
    assert fulfilled_on(never, done, date(2024, 3, 19)) == date(2024, 2, 1)
    nxt = only(plan(done, date(2024, 3, 19)), ObligationKind.MANDATORY_COURSE, "D. Mulder|caspir")
    assert nxt.key.endswith(":2024-02-01") and nxt.due_on == date(2026, 1, 30)  # 1 February 2026 is a Sunday
    assert fulfilled_on(nxt, done, date(2024, 3, 19)) is None
    again = facts(people=[("D. Mulder", Role.POH_CHRONIC)], courses={("D. Mulder", "caspir"): date(2025, 11, 3)})
    assert fulfilled_on(nxt, again, date(2025, 11, 4)) == date(2025, 11, 3)


# --- meetings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [4, 5, 6])
@pytest.mark.parametrize("year", [2024, 2025, 2026, 2027])
def test_meetings_are_spread_over_the_year_one_per_equal_slot_on_the_meeting_weekday(count: int, year: int) -> None:
    days = meeting_dates(year, count, POLICY.meeting_weekday, DUTCH)
    assert len(days) == count and days == sorted(set(days))
    length = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    for i, day in enumerate(days):
        slot_start = date(year, 1, 1) + timedelta(days=i * length // count)
        slot_end = date(year, 1, 1) + timedelta(days=(i + 1) * length // count + 6)
        assert slot_start <= day <= slot_end and day.year == year
        assert DUTCH.is_working_day(day)
        assert day.weekday() == POLICY.meeting_weekday  # Tuesday by default


def test_a_meeting_on_a_holiday_moves_a_week_on_its_own_weekday() -> None:
    # Mondays: the second of five 2025 meetings falls on Easter Monday 21 April
    days = meeting_dates(2025, 5, 0, DUTCH)
    assert days[1] == date(2025, 4, 28)
    # closed on the 28th: 5 May is Liberation Day in 2025 (a lustrum year), so 12 May
    closed = WorkingCalendar.with_closures([date(2025, 4, 28)])
    assert meeting_dates(2025, 5, 0, closed)[1] == date(2025, 5, 12)


def test_friday_meetings_stay_on_a_friday_when_good_friday_hits_one() -> None:
    days = meeting_dates(2026, 6, 4, DUTCH)
    assert all(d.weekday() == 4 for d in days), days


def test_meeting_obligations_are_one_per_kind_and_number_with_the_calendar_in_the_basis() -> None:
    obs = meeting_obligations(2025, POLICY, DUTCH)
    assert len(obs) == 2 * POLICY.meetings_per_year
    assert {o.kind for o in obs} == {ObligationKind.POH_MEETING, ObligationKind.PRACTICE_MANAGER_MEETING}
    first = obs[0]
    assert first.key == "poh_meeting:2025:1" and first.agb_code is None and first.planned_on == first.due_on
    assert first.basis == {"meetings_per_year": 5, "meeting_weekday": 1, "invitation_days_before": 28,
                           "calendar": calendar_fingerprint(DUTCH), "meetings_same_evening": False}
    assert fulfilled_on(first, None, first.due_on) is None
    # a meeting is done when it is recorded as held (domain.meetings), not when its date passes
    assert fulfilled_on(first, None, first.due_on + timedelta(days=1)) is None


def test_poh_and_practice_manager_meetings_are_never_on_one_evening_unless_the_policy_says_so() -> None:
    def days(policy: Policy, kind: ObligationKind) -> list[date]:
        return [o.due_on for o in meeting_obligations(2025, policy, DUTCH) if o.kind is kind]

    poh, managers = days(POLICY, ObligationKind.POH_MEETING), days(POLICY, ObligationKind.PRACTICE_MANAGER_MEETING)
    assert not set(poh) & set(managers) and {d.weekday() for d in managers} == {2}  # Tuesday's POH, Wednesday's
    friday = Policy(meeting_weekday=4)
    assert {d.weekday() for d in days(friday, ObligationKind.PRACTICE_MANAGER_MEETING)} == {3}  # the day before
    together = Policy(meetings_same_evening=True)
    assert days(together, ObligationKind.POH_MEETING) == days(together, ObligationKind.PRACTICE_MANAGER_MEETING)


# --- which notice goes out when ------------------------------------------------------------------


ANNUAL = Obligation(key=f"annual_conversation:{AGB}:cycle:2024-03-12", kind=ObligationKind.ANNUAL_CONVERSATION,
                    agb_code=AGB, subject="cycle", anchor_on=date(2024, 3, 12), due_on=date(2025, 3, 12),
                    planned_on=date(2025, 2, 26))


@pytest.mark.parametrize(
    ("on", "done", "send", "skip"),
    [
        (date(2025, 1, 28), set(), [], []),
        (date(2025, 1, 29), set(), ["invitation"], []),  # four weeks before the planned day
        (date(2025, 2, 10), {"invitation"}, [], []),
        (date(2025, 2, 19), {"invitation"}, ["reminder"], []),  # a week before
        (date(2025, 2, 19), set(), ["invitation"], ["reminder"]),  # late: the invitation alone
        (date(2025, 2, 26), set(), [], ["invitation", "reminder"]),  # the day itself: too late for either
        (date(2025, 3, 12), {"invitation", "reminder"}, [], []),  # due today: not yet overdue
        (date(2025, 3, 13), {"invitation", "reminder"}, ["overdue"], []),
        (date(2025, 3, 20), set(), ["overdue"], ["invitation", "reminder"]),
        (date(2025, 3, 20), {"invitation", "reminder", "overdue"}, [], []),
    ],
)
def test_conversation_notices_invitation_reminder_and_overdue(on: date, done: set[str], send: list[str],
                                                              skip: list[str]) -> None:
    assert stages_to_send(ANNUAL, POLICY, frozenset(done), on) == (send, skip)


def test_the_sweep_next_looks_at_the_next_unsent_notice() -> None:
    assert next_notice_on(ANNUAL, POLICY, frozenset()) == date(2025, 1, 29)
    assert next_notice_on(ANNUAL, POLICY, frozenset({"invitation"})) == date(2025, 2, 19)
    assert next_notice_on(ANNUAL, POLICY, frozenset({"invitation", "reminder"})) == date(2025, 3, 13)
    assert next_notice_on(ANNUAL, POLICY, frozenset({"invitation", "reminder", "overdue"})) is None


def test_meeting_invitation_four_weeks_before_and_never_on_or_after_the_day() -> None:
    meeting = meeting_obligations(2025, POLICY, DUTCH)[0]
    invite_on = meeting.due_on - timedelta(days=28)
    assert stages_to_send(meeting, POLICY, frozenset(), invite_on - timedelta(days=1)) == ([], [])
    assert stages_to_send(meeting, POLICY, frozenset(), invite_on) == (["invitation"], [])
    assert stages_to_send(meeting, POLICY, frozenset(), meeting.due_on) == ([], ["invitation"])


def test_kit_and_course_notices_go_out_weeks_before_the_due_date_and_still_after_it() -> None:
    f = facts(programmes={Programme.COPD: date(2023, 6, 1)}, people=[("D. Mulder", Role.POH_CHRONIC)])
    obs = plan(f, date(2024, 3, 18))
    kit = only(obs, ObligationKind.INSTRUCTION_KIT)
    course = only(obs, ObligationKind.MANDATORY_COURSE, "D. Mulder|caspir")
    assert next_notice_on(kit, POLICY, frozenset()) == kit.due_on - timedelta(days=28)
    assert next_notice_on(course, POLICY, frozenset()) == course.due_on - timedelta(days=56)
    assert stages_to_send(kit, POLICY, frozenset(), kit.due_on - timedelta(days=29)) == ([], [])
    assert stages_to_send(kit, POLICY, frozenset(), kit.due_on - timedelta(days=28)) == (["notice"], [])
    assert stages_to_send(course, POLICY, frozenset(), course.due_on) == (["notice"], [])  # the last day
    # once past due: one overdue notice, not "falls due soon"
    assert stages_to_send(course, POLICY, frozenset(), course.due_on + timedelta(days=3)) == (["overdue"], ["notice"])
    assert stages_to_send(course, POLICY, frozenset({"notice"}), course.due_on + timedelta(days=3)) == (["overdue"],
                                                                                                       [])
    assert stages_to_send(course, POLICY, frozenset({"notice", "overdue"}), course.due_on + timedelta(days=9)) == (
        [], [])


# --- why a date moved, and what counts as met ----------------------------------------------------


def test_basis_change_reason_names_the_calendar_and_each_policy_input_that_changed() -> None:
    old = {"every_months": 12, "reminder_days_before": 7, "calendar": calendar_fingerprint(DUTCH)}
    closed = {**old, "calendar": calendar_fingerprint(WorkingCalendar.with_closures([date(2025, 3, 12)]))}
    assert basis_change_reason(old, closed) == "werkkalender gewijzigd (sluitingsdagen of Bevrijdingsdag)"
    assert basis_change_reason(old, {**old, "reminder_days_before": 5}) == "beleid reminder_days_before: 7 -> 5"
    both = basis_change_reason(old, {**closed, "every_months": 6, "new_input": 1})
    assert both == ("werkkalender gewijzigd (sluitingsdagen of Bevrijdingsdag); beleid every_months: 12 -> 6; "
                    "beleid new_input: - -> 1")
    assert basis_change_reason(old, dict(old)) == "herberekend"
    liberation = calendar_fingerprint(WorkingCalendar(liberation_day_every_year=True))
    assert liberation != calendar_fingerprint(DUTCH)


def test_an_annual_conversation_is_met_only_by_one_held_after_its_anchor() -> None:
    assert fulfilled_on(ANNUAL, facts(last_annual=date(2025, 2, 26)), date(2025, 3, 1)) == date(2025, 2, 26)
    assert fulfilled_on(ANNUAL, facts(last_annual=date(2024, 3, 12)), date(2025, 3, 1)) is None
    assert fulfilled_on(ANNUAL, facts(last_annual=None), date(2025, 3, 1)) is None
    assert fulfilled_on(ANNUAL, None, date(2025, 3, 1)) is None


def test_planning_the_same_facts_twice_gives_the_same_obligations() -> None:
    f = facts(programmes={Programme.DM2: date(2023, 1, 1), Programme.COPD: date(2023, 1, 1)}, people=PEOPLE)
    first = plan(f, date(2024, 3, 18))
    assert len({o.key for o in first}) == len(first) == 7
    assert plan(f, date(2024, 3, 18)) == first


# --- property: due dates are working days within their span ---------------------------------------


def span_end(ob: Obligation, policy: Policy) -> date:
    basis = ob.basis
    if "within_days" in basis:
        return ob.anchor_on + timedelta(days=int(basis["within_days"]))
    if "first_within_months" in basis:
        return ob.anchor_on + relativedelta(months=int(basis["first_within_months"]))
    return ob.anchor_on + relativedelta(months=int(basis["every_months"]))


@settings(max_examples=150, deadline=None)
@given(
    anchor=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    closures=st.frozensets(st.dates(min_value=date(2024, 1, 1), max_value=date(2033, 12, 31)), max_size=40),
    near=st.frozensets(st.integers(min_value=0, max_value=800), max_size=20),
    liberation=st.booleans(),
    state=st.sampled_from([TrajectoryState.ANNUAL_CYCLE, TrajectoryState.EXTRA_CONVERSATION]),
)
def test_every_due_date_is_a_working_day_never_after_its_span(
    anchor: date, closures: frozenset[date], near: frozenset[int], liberation: bool, state: TrajectoryState,
) -> None:
    # closure days anywhere, and some close to the anchor so they hit the ends of the spans
    calendar = WorkingCalendar.with_closures(closures | {anchor + timedelta(days=n) for n in near}, liberation)
    f = facts(state=state, cycle_started_on=anchor - timedelta(days=30), last_annual=anchor, flagged_on=anchor,
              programmes={Programme.DM2: anchor, Programme.COPD: anchor, Programme.ASTHMA: anchor - timedelta(days=1)},
              people=PEOPLE, kits={KitKind.INHALATION: anchor},
              courses={("D. Mulder", "caspir"): anchor})
    obligations = plan(f, anchor, calendar)
    kinds = {o.kind for o in obligations}
    assert {ObligationKind.ANNUAL_CONVERSATION, ObligationKind.INSTRUCTION_KIT,
            ObligationKind.MANDATORY_COURSE, ObligationKind.START_CONVERSATION} <= kinds
    for ob in obligations:
        assert calendar.is_working_day(ob.due_on), ob
        assert ob.due_on <= span_end(ob, POLICY), ob
        if ob.planned_on is not None:
            assert calendar.is_working_day(ob.planned_on), ob
    for day in meeting_dates(anchor.year, POLICY.meetings_per_year, POLICY.meeting_weekday, calendar):
        assert calendar.is_working_day(day) and day.year == anchor.year


# --- an officer moves a conversation ------------------------------------------------------------------------


def _annual(on: date, moves: Mapping[str, date] | None = None) -> Obligation:
    moved = dataclasses.replace(facts(), moves=dict(moves or {}))
    return annual(moved, on)


def test_an_annual_conversation_moved_a_week_later_is_set_for_that_day_and_stays_due_on_the_rules_day() -> None:
    planned = _annual(date(2024, 6, 3))
    moved = _annual(date(2024, 6, 3), {planned.key: date(2025, 3, 5)})
    assert (planned.planned_on, planned.due_on) == (date(2025, 2, 26), date(2025, 3, 12))
    assert (moved.key, moved.planned_on, moved.due_on) == (planned.key, date(2025, 3, 5), date(2025, 3, 12))
    assert basis_change_reason(planned.basis, moved.basis) == "verplaatst naar woensdag 5 maart 2025"
    # moved past the due date: the overdue notice still goes the day after the due date
    late = _annual(date(2024, 6, 3), {planned.key: date(2025, 3, 19)})
    assert [(s.name, s.on) for s in notice_stages(late, POLICY)] == [
        ("invitation", date(2025, 2, 19)), ("reminder", date(2025, 3, 12)), ("overdue", date(2025, 3, 13))]


def test_a_conversation_is_moved_only_to_a_working_day_from_today_on() -> None:
    annual = _annual(date(2024, 6, 3))
    check_move(annual, date(2024, 6, 3), date(2024, 6, 3), DUTCH)  # today: allowed
    check_move(annual, date(2025, 3, 19), date(2024, 6, 3), DUTCH)  # past the due date: allowed
    for day, says in ((date(2024, 5, 31), "ligt voor vandaag"), (date(2024, 6, 8), "(weekend)"),
                      (date(2024, 12, 25), "(Eerste kerstdag)")):
        with pytest.raises(ConversationMoveError, match=re.escape(says)):
            check_move(annual, day, date(2024, 6, 3), DUTCH)
    closed = WorkingCalendar.with_closures([date(2025, 3, 5)])
    with pytest.raises(ConversationMoveError, match="sluitingsdag van de zorggroep"):
        check_move(annual, date(2025, 3, 5), date(2024, 6, 3), closed)


def test_a_moved_invitation_that_already_went_out_is_sent_again_at_once_when_asked_early() -> None:
    moved = _annual(date(2025, 2, 3), {_annual(date(2025, 2, 3)).key: date(2025, 3, 5)})
    assert stages_to_send(moved, POLICY, frozenset(), date(2025, 2, 3)) == ([], [])
    assert stages_to_send(moved, POLICY, frozenset(), date(2025, 2, 3), frozenset({"invitation"})) == (
        ["invitation"], [])
