"""A GP group's mirror meeting without database or clock: the day it is set for, its lifecycle (every change an
event, a replay equal to the state), and its pack against a hand computation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.calendar import WorkingCalendar
from domain.indicators import (
    IndicatorDefinition,
    IndicatorFigures,
    IndicatorKind,
    IndicatorScore,
    NationalAverage,
    Target,
)
from domain.mirror_meetings import (
    Accreditation,
    MirrorMeetingView,
    MirrorState,
    MirrorTrigger,
    mirror_meeting_day,
    mirror_pack,
)
from domain.policy import Policy
from domain.registry import Programme
from statemachines.mirror_meeting import InvalidMirrorMeetingChangeError, fire, replay

AT = datetime(2025, 3, 3, 9, tzinfo=UTC)


def test_a_mirror_meeting_is_set_on_the_meeting_weekday_before_its_deadline_skipping_holidays() -> None:
    # requested Monday 3 March 2025: due within 8 weeks (28 April, Monday), set on the Tuesday before it
    assert mirror_meeting_day(date(2025, 3, 3), Policy(), WorkingCalendar()) == (date(2025, 4, 28), date(2025, 4, 22))
    # with a closure that Tuesday it moves a week earlier
    closed = WorkingCalendar.with_closures([date(2025, 4, 22)])
    assert mirror_meeting_day(date(2025, 3, 3), Policy(), closed) == (date(2025, 4, 28), date(2025, 4, 15))
    # within one week there is no Tuesday at least a week after the request: the deadline itself
    assert mirror_meeting_day(date(2025, 4, 18), Policy(mirror_meeting_within_weeks=1), WorkingCalendar()) == (
        date(2025, 4, 25), date(2025, 4, 25))


def test_a_mirror_meeting_goes_from_request_to_held_to_accredited_and_its_events_replay_to_its_state() -> None:
    view = MirrorMeetingView(id="m1")
    events = []
    for trigger, on, details in (
            (MirrorTrigger.REQUEST, date(2025, 3, 3), {"gp_group": "HAGRO-WEST", "due_on": "2025-04-28",
                                                        "planned_on": "2025-04-22", "by": "C. Bakker"}),
            (MirrorTrigger.HOLD, date(2025, 4, 22), {"attendees": [{"role": "gp", "name": "H. Arts"}],
                                                     "accreditation": "requested", "ekc": "R. Visser"}),
            (MirrorTrigger.ACCREDIT, date(2025, 5, 6), {"accreditation": "granted"})):
        event = fire(view, trigger, on=on, recorded_at=AT, actor="officer", details=details)
        view = view.apply(event)
        events.append(event)
    assert (view.status, view.held_on, view.accreditation, view.accreditation_on, view.ekc) == (
        MirrorState.HELD, date(2025, 4, 22), Accreditation.GRANTED, date(2025, 5, 6), "R. Visser")
    assert replay("m1", events) == view
    with pytest.raises(InvalidMirrorMeetingChangeError, match="al toegekend"):
        fire(view, MirrorTrigger.ACCREDIT, on=date(2025, 5, 7), recorded_at=AT, actor="officer",
             details={"accreditation": "refused"})
    with pytest.raises(InvalidMirrorMeetingChangeError, match="wel mogelijk: accreditatie vastleggen"):
        fire(view, MirrorTrigger.CANCEL, on=date(2025, 5, 7), recorded_at=AT, actor="officer")


def test_a_mirror_meeting_is_not_held_before_it_was_requested_nor_after_it_was_cancelled() -> None:
    view = MirrorMeetingView(id="m2")
    view = view.apply(fire(view, MirrorTrigger.REQUEST, on=date(2025, 3, 3), recorded_at=AT, actor="o",
                           details={"gp_group": "G", "due_on": "2025-04-28", "planned_on": "2025-04-22"}))
    with pytest.raises(InvalidMirrorMeetingChangeError, match="ligt voor de aanvraag"):
        fire(view, MirrorTrigger.HOLD, on=date(2025, 3, 1), recorded_at=AT, actor="o", details={"attendees": []})
    view = view.apply(fire(view, MirrorTrigger.CANCEL, on=date(2025, 3, 4), recorded_at=AT, actor="o",
                           details={"reason": "te weinig aanmeldingen"}))
    with pytest.raises(InvalidMirrorMeetingChangeError, match="vervallen"):
        fire(view, MirrorTrigger.HOLD, on=date(2025, 4, 22), recorded_at=AT, actor="o", details={"attendees": []})


def _score(agb: str, end: str, n: int, d: int, indicator: str = "hba1c_measured") -> IndicatorScore:
    return IndicatorScore(agb_code=agb, programme=Programme.DM2, indicator=indicator,
                          period_end=date.fromisoformat(end), numerator=n, denominator=d)


def test_the_gp_groups_pack_matches_a_hand_computation() -> None:
    """Three practices of HAGRO-WEST and one elsewhere, HbA1c over the year to 31 March 2025:
    A 172/200 = 86.0%, B 189/200 = 94.5%, C 7/8 = 87.5% (under 10 patients), D (another group) 180/200 = 90.0%.
    The care group's spread over the four: sorted 86.0, 87.5, 90.0, 94.5; median (87.5 + 90.0) / 2 = 88.75;
    10th percentile 86.0 + 0.3 x 1.5 = 86.45; 90th 90.0 + 0.7 x 4.5 = 93.15 (inclusive method, (n-1)p)."""
    figures = IndicatorFigures.build(
        [IndicatorDefinition(programme=Programme.DM2, indicator="hba1c_measured", name="HbA1c gemeten",
                             kind=IndicatorKind.PROCESS, main=True),
         IndicatorDefinition(programme=Programme.DM2, indicator="hba1c_below_53", name="HbA1c < 53",
                             kind=IndicatorKind.OUTCOME, main=False)],
        [Target(programme=Programme.DM2, indicator="hba1c_measured", target=90)],
        [NationalAverage(programme=Programme.DM2, indicator="hba1c_measured", year=2024, national_average=92)],
        [_score("01000001", "2025-03-31", 172, 200), _score("01000002", "2025-03-31", 189, 200),
         _score("01000003", "2025-03-31", 7, 8), _score("01000004", "2025-03-31", 180, 200),
         _score("01000001", "2024-12-31", 150, 200),  # an earlier period: not the pack's
         _score("01000001", "2025-03-31", 100, 200, "hba1c_below_53")])  # not a main indicator: left out
    group = [("01000002", "Praktijk De Eik"), ("01000001", "Praktijk De Linde"), ("01000003", "Het Anker")]
    pack = mirror_pack(group, figures, date(2025, 5, 1), Policy(), anonymise=False)
    assert pack.period_end == date(2025, 3, 31) and not pack.anonymised
    (hba1c,) = pack.indicators
    assert (hba1c.target, hba1c.national_average, hba1c.national_average_year) == (90, 92, 2024)
    assert hba1c.spread is not None
    assert (hba1c.spread.practices, hba1c.spread.median, hba1c.spread.p10, hba1c.spread.p90) == (4, 88.75, 86.45, 93.15)
    assert [(f.label, f.agb_code, f.score, f.numerator, f.denominator, f.small_numbers) for f in hba1c.practices] == [
        ("Praktijk De Linde", "01000001", 86.0, 172, 200, False),
        ("Praktijk De Eik", "01000002", 94.5, 189, 200, False),
        ("Het Anker", "01000003", 87.5, 7, 8, True)]
    anonymous = mirror_pack(group, figures, date(2025, 5, 1), Policy(), anonymise=True)
    assert [(f.label, f.agb_code, f.score) for f in anonymous.indicators[0].practices] == [
        ("Praktijk A", None, 86.0), ("Praktijk B", None, 94.5), ("Praktijk C", None, 87.5)]
    # before the figures of March were known, the pack is that of December
    assert mirror_pack(group, figures, date(2025, 3, 1), Policy(), anonymise=False).period_end == date(2024, 12, 31)
