"""A figure over fewer patients than the policy judges (``min_denominator``, default 10) is shown as such in every
view, never as a bare percentage: the indicator view (text and JSON), the status of a practice, the chart, the
conversation invitation's preparation list and the board's digest.

De Eik is small: 5 of its 6 patients with diabetes had their HbA1c measured (83,3%); De Linde counts 200."""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction

from domain import indicators as ind
from domain.clock import AMSTERDAM
from domain.indicator_views import indicator_lines
from domain.policy import Policy
from domain.registry import Programme
from domain.rules.escalation import assess_progress
from domain.trajectory import TrajectoryState, TrajectoryView
from domain.vocabulary import figure_nl, small_numbers_nl
from notifications import compose
from notifications.charts import Series, practice_chart_svg
from notifications.rendering import render_bodies
from tests.unit.test_payloads import ANNUAL, ASSIGNED, CARE_GROUP, EIK, HBA1C, LINDE, practices

SMALL = "te weinig patiënten om te beoordelen: minder dan 10"
POLICY = Policy()


def figures(agb_code: str, numerator: int, denominator: int) -> ind.IndicatorFigures:
    catalogue = [ind.IndicatorDefinition(programme=Programme.DM2, indicator="hba1c_measured",
                                         name="HbA1c gemeten in 12 maanden", kind=ind.IndicatorKind.PROCESS,
                                         main=True)]
    scores = [ind.IndicatorScore(agb_code=agb_code, programme=Programme.DM2, indicator="hba1c_measured",
                                 period_end=end, numerator=numerator, denominator=denominator)
              for end in (date(2024, 3, 31), date(2025, 3, 31))]
    return ind.IndicatorFigures.build(catalogue, [ind.Target(programme=Programme.DM2, indicator="hba1c_measured",
                                                             target=90)], [], scores)


def test_a_figure_over_six_patients_is_written_with_its_counts_and_why_it_is_not_judged() -> None:
    assert small_numbers_nl(10) == SMALL
    assert figure_nl(83.33, 5, 6, 10) == f"83,3% (5/6, {SMALL})"
    assert figure_nl(64.5, 129, 200, 10) == "64,5% (129/200)"
    assert figure_nl(80.0, 8, 10, 10) == "80,0% (8/10)"  # ten patients are judged


def test_the_indicator_view_marks_a_small_practices_figure_and_says_it_is_not_judged() -> None:
    (small,) = indicator_lines(figures(EIK, 5, 6), date(2025, 3, 31), min_denominator=POLICY.min_denominator)
    (large,) = indicator_lines(figures(LINDE, 129, 200), date(2025, 3, 31), min_denominator=POLICY.min_denominator)
    assert small.small_numbers and not large.small_numbers
    data = small.as_json()
    assert (data["small_numbers"], data["judged"], data["min_denominator"]) == (True, False, 10)
    assert (large.as_json()["small_numbers"], large.as_json()["judged"]) == (False, True)


def test_the_status_of_a_practice_marks_a_reason_over_too_few_patients() -> None:
    from flows.cli.views import status_table
    from flows.services.queries import StatusLine

    reason = {"rule": "strong_deviation", "programme": "dm2", "indicator": "hba1c_measured", "score": 50.0,
              "numerator": 4, "denominator": 8, "reference": "target", "reference_value": 90.0, "threshold": 72.0,
              "explanation": "dm2/hba1c_measured: 50,0% (4/8)"}
    line = StatusLine(EIK, "Huisartsenpraktijk De Eik", None, TrajectoryState.EXTRA_CONVERSATION, None,
                      (reason, {"explanation": "handmatig"}), None, min_denominator=10)
    judged, plain = line.as_json()["reasons"]
    assert (judged["small_numbers"], judged["judged"]) == (True, False) and "small_numbers" not in plain
    from rich.console import Console

    console = Console(width=400, record=True)
    console.print(status_table([line]))
    assert f"[4/8, {SMALL}]" in console.export_text()


def test_the_chart_draws_a_figure_over_too_few_patients_as_an_open_point_and_explains_it() -> None:
    plain = Series("dm2/hba1c_measured", "HbA1c", [(date(2025, 3, 31), 83.3)], 90.0, {})
    small = Series("dm2/hba1c_measured", "HbA1c", [(date(2025, 3, 31), 83.3)], 90.0, {},
                   small={date(2025, 3, 31): (5, 6)}, min_denominator=10)
    assert SMALL not in practice_chart_svg("De Eik", [plain])
    svg = practice_chart_svg("De Eik", [small])
    assert f"2025-03-31: 83,3% (5/6, {SMALL})" in svg and svg.count(SMALL) == 2  # the point's title and the legend
    assert 'fill="white" stroke="#1f4e9c"' in svg


def test_the_invitation_lists_a_small_figure_as_too_few_patients_to_judge() -> None:
    linde, _ = practices()
    prepare = compose.PreparationFacts(figures(LINDE, 5, 6), date(2025, 10, 1),
                                       min_denominator=POLICY.min_denominator)
    (line,) = compose.preparation(prepare).indicators
    assert (line.small_numbers, line.min_denominator) == (True, 10)
    message = compose.conversation_messages("invitation", ANNUAL, linde, ASSIGNED, CARE_GROUP, POLICY, prepare)[0]
    text, html = render_bodies(message)
    assert f"83,3% (5/6, {SMALL})" in text and SMALL in html
    large = compose.PreparationFacts(figures(LINDE, 129, 200), date(2025, 10, 1),
                                     min_denominator=POLICY.min_denominator)
    text, _ = render_bodies(compose.conversation_messages("invitation", ANNUAL, linde, ASSIGNED, CARE_GROUP, POLICY,
                                                          large)[0])
    assert "64,5% (129/200)" in text and SMALL not in text


def test_the_boards_digest_marks_a_trajectorys_figure_over_too_few_patients() -> None:
    _, eik = practices()
    view = TrajectoryView(agb_code=EIK, state=TrajectoryState.UNDERPERFORMER_POLICY, flagged=(HBA1C,),
                          plan_agreed_on=date(2024, 4, 29),
                          entered_policy_at=datetime(2025, 5, 5, 7, tzinfo=AMSTERDAM))
    small = figures(EIK, 5, 6)
    facts = compose.TrajectoryFacts(eik, view, small, assess_progress(small, view.flagged, view.plan_agreed_on,
                                                                      date(2025, 6, 30)))
    (message,) = compose.digest_messages(date(2025, 4, 1), date(2025, 6, 30), 3, [facts], [], CARE_GROUP,
                                         POLICY.min_denominator)
    (line,) = message.payload["trajectories"][0]["indicators"]
    assert (line["numerator"], line["denominator"], line["small_numbers"], line["min_denominator"]) == (5, 6, True, 10)
    text, html = render_bodies(message)
    assert f"(5/6, {SMALL})" in text and SMALL in html


def test_a_score_shown_is_the_exact_fraction_rounded_to_a_hundredth_for_every_count_of_patients() -> None:
    """``IndicatorScore.score`` divides the counts as floats; it must show what the exact fraction the rules judge
    by shows, for every numerator of every denominator up to 400 and some large ones."""
    def shown(n: int, d: int) -> float:
        return ind.IndicatorScore(agb_code=LINDE, programme=Programme.DM2, indicator="hba1c_measured",
                                  period_end=date(2025, 3, 31), numerator=n, denominator=d).score

    counts = [(n, d) for d in range(1, 401) for n in range(d + 1)]
    counts += [(n, d) for d in (9_999, 65_537, 1_000_003) for n in range(0, d + 1, max(1, d // 997))]
    assert all(shown(n, d) == round(float(Fraction(100 * n, d)), 2) for n, d in counts)
