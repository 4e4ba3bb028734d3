"""A sweep looks only at the practices whose facts, figures, shared inputs or deadlines moved, and ends exactly
where a sweep of every practice ends: the care group's history is the same, only cheaper to keep up."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from domain.calendar import WorkingCalendar
from domain.clock import AMSTERDAM
from domain.indicators import IndicatorKey
from domain.obligations import KitKind
from domain.policy import Policy
from domain.registry import Programme
from domain.rules.escalation import assess_deviation, deviation_limits
from domain.rules.timing import next_evaluation_on
from domain.trajectory import TrajectoryState, TrajectoryView
from flows.services import duties, planning, queries, sweep
from flows.services.context import Services
from flows.testing.demo import run_demo
from flows.testing.scenario import Scenario
from storage import obligations as store
from storage import repository as repo
from storage import review
from storage.database import sqlite_url

LINDE, EIK = "01234567", "07654321"
DESCRIPTION = f"""
care_group: Cohaesie
board: [B. de Vries <bestuur@cohaesie.example>]
officers: [A. Jansen <a.jansen@cohaesie.example>, P. de Boer <p.deboer@cohaesie.example>]
practices:
  "{LINDE}": {{name: Huisartsenpraktijk De Linde, email: praktijk@delinde.example, programmes: {{dm2: 2023-01-01}}}}
  "{EIK}": {{name: Praktijk De Eik, email: info@deeik.example, programmes: {{dm2: 2023-01-01}}}}
"""
GOOD = {"dm2/hba1c_measured": 95, "dm2/bp_measured": 95, "dm2/ldl_measured": 90, "dm2/egfr_measured": 90,
        "dm2/foot_exam": 85}
QUARTERS = ["2024-06-30", "2024-09-30", "2024-12-31", "2025-03-31", "2025-06-30", "2025-09-30"]
HBA1C = "dm2/hba1c_measured"


def monday(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(6, 0), tzinfo=AMSTERDAM)


def started(services: Services) -> Scenario:
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sc.conversation(LINDE, "start", "2024-01-15")
    sc.conversation(EIK, "start", "2024-01-16")
    return sc


def due(services: Services, on: date) -> tuple[list[str], list[str]]:
    """(to evaluate, to plan) as the next sweep on ``on`` would find them."""
    basis = duties.ReviewBasis.load(services)
    with services.session() as s:
        return review.due_for_evaluation(s, basis.evaluation, on), review.due_for_planning(s, basis.planning)


# --- which practices a sweep looks at ---------------------------------------------------------------------------


def test_a_week_in_which_nothing_changed_reviews_no_practice(services: Services) -> None:
    started(services)
    first = sweep.sweep_due(services, monday("2024-01-22"))
    assert first.practices == 2 and first.planned > 0
    assert due(services, date(2024, 1, 29)) == ([], [])
    quiet = sweep.sweep_due(services, monday("2024-01-29"))
    assert (quiet.practices, quiet.planned, quiet.transitions, quiet.messages) == (0, 0, [], 0)


def test_a_recorded_conversation_brings_only_that_practice_into_the_next_sweep(services: Services) -> None:
    sc = started(services)
    sweep.sweep_due(services, monday("2024-01-22"))
    sc.conversation(EIK, "annual", "2024-01-25")
    assert due(services, date(2024, 1, 29)) == ([EIK], [EIK])
    report = sweep.sweep_due(services, monday("2024-01-29"))
    assert report.practices == 1 and report.done == 1 and report.planned == 1  # this year's closed, next planned
    assert due(services, date(2024, 2, 5)) == ([], [])


def test_new_figures_are_judged_at_the_next_sweep_without_replanning_the_others(services: Services) -> None:
    sc = started(services)
    sweep.sweep_due(services, monday("2024-01-22"))
    sc.scores("2024-03-31", {LINDE: {**GOOD, HBA1C: 60}})
    assert due(services, date(2024, 5, 6)) == ([LINDE], [])  # new figures are judged, nothing to replan yet
    report = sweep.sweep_due(services, monday("2024-05-06"))
    assert [(t.agb_code, t.trigger.value) for t in report.transitions] == [(LINDE, "flag_deviation")]
    assert report.planned == 1 and report.queued["conversation_invitation"] > 0  # the flag plans the extra one


def test_a_practice_that_moves_in_a_sweep_is_looked_at_again_by_the_next(services: Services) -> None:
    """Its transition is a change: the sweep that flagged it planned from it, the next one evaluates it once
    more (nothing fires), and after that it rests."""
    sc = started(services)
    sweep.sweep_due(services, monday("2024-01-22"))
    sc.scores("2024-03-31", {LINDE: {**GOOD, HBA1C: 60}})
    sweep.sweep_due(services, monday("2024-05-06"))
    assert due(services, date(2024, 5, 13)) == ([LINDE], [])
    again = sweep.sweep_due(services, monday("2024-05-13"))
    assert again.practices == 1 and again.transitions == []
    assert due(services, date(2024, 5, 20)) == ([], [])


def test_every_registered_practice_has_a_review_row_from_the_start(services: Services) -> None:
    started(services)
    with services.session() as s:
        stamps = review.stamps(s, None)
    assert set(stamps) == {LINDE, EIK} and all(changes > 1 for changes, _ in stamps.values())


def test_a_planning_that_lost_a_race_on_an_obligation_is_not_recorded_as_planned(services: Services) -> None:
    """Another writer changed an obligation between our read and our update (a notice queued, another
    planner): our update is refused, and the practice stays due for planning."""
    sc = started(services)
    sweep.sweep_due(services, monday("2024-01-22"))
    sc.conversation(LINDE, "annual", "2024-01-25")
    with services.session() as s:
        stale = planning.read_duties(s, services, [LINDE], date(2024, 1, 29))
    with services.transaction() as s:  # another worker marks a notice on the annual conversation first
        (annual,) = [r for r in store.open_obligations(s, agb_codes=[LINDE]) if r.kind == "annual_conversation"]
        assert store.mark_notices(s, annual, ["invitation"], annual.next_notice_on, monday("2024-01-29"))
    with services.transaction() as s:
        report = duties.DutyReport("sweep_due", monday("2024-01-29"))
        lost = planning.apply_duties(s, services, stale, report, monday("2024-01-29"), "test")
    assert lost == {LINDE} and report.done == 0
    assert LINDE in due(services, date(2024, 1, 29))[1]
    # the next sweep plans it again and closes the held annual conversation
    assert sweep.sweep_due(services, monday("2024-01-29")).done == 1


def test_a_changed_policy_or_calendar_reviews_every_practice_once(services: Services) -> None:
    started(services)
    sweep.sweep_due(services, monday("2024-01-22"))
    stricter = Services(services.db, Policy(min_improvement_points=6), services.calendar)
    assert due(stricter, date(2024, 1, 29)) == ([LINDE, EIK], [LINDE, EIK])
    assert sweep.sweep_due(stricter, monday("2024-01-29")).practices == 2
    assert due(stricter, date(2024, 2, 5)) == ([], [])
    closed = Services(services.db, stricter.policy, WorkingCalendar.with_closures([date(2024, 12, 24)]))
    assert due(closed, date(2024, 2, 5)) == ([LINDE, EIK], [LINDE, EIK])


def test_new_targets_are_judged_by_every_practice_but_replan_nothing(services: Services) -> None:
    sc = started(services)
    sweep.sweep_due(services, monday("2024-01-22"))
    sc.targets({HBA1C: 92})
    assert due(services, date(2024, 1, 29)) == ([LINDE, EIK], [])


# --- deadlines that come with time alone -------------------------------------------------------------------------


def flagged_with_every_figure_in_advance(services: Services) -> Scenario:
    """De Linde is flagged and agrees a plan on 2024-04-29; every later quarter's figures are known in advance
    (as in a replay), so only the calendar brings them into view, and only the calendar brings the plan's
    first anniversary."""
    sc = started(services)
    sc.scores("2024-03-31", {LINDE: {**GOOD, HBA1C: 60}, EIK: GOOD})
    sweep.sweep_due(services, monday("2024-04-08"))
    sc.conversation(LINDE, "extra", "2024-04-29", plan={HBA1C: 85})
    for quarter, value in zip(QUARTERS, [61, 62, 63, 64, 64, 63], strict=True):
        sc.scores(quarter, {LINDE: {**GOOD, HBA1C: value}, EIK: GOOD})
    return sc


def weekly_sweeps(services: Services, start: str, until: str, *, full: bool = False) -> None:
    day = date.fromisoformat(start)
    while day <= date.fromisoformat(until):
        sweep.sweep_due(services, monday(day.isoformat()), full=full)
        day += timedelta(days=7)


def test_the_plan_anniversary_and_the_progress_reports_come_on_their_day_without_new_facts(
    sqlite_services: Services, tmp_path: Path, sqlite_template: Path,
) -> None:
    shutil.copy(sqlite_template, tmp_path / "full.db")
    everyone = Services.open(sqlite_url(tmp_path / "full.db"), upgrade=False)
    try:
        for services, full in ((sqlite_services, False), (everyone, True)):
            flagged_with_every_figure_in_advance(services)
            weekly_sweeps(services, "2024-05-06", "2025-12-29", full=full)
        history = {s: [(e.trigger.value, e.at) for e in queries.history(s, LINDE)] for s in (sqlite_services, everyone)}
    finally:
        everyone.db.dispose()
    assert history[sqlite_services] == history[everyone]
    triggers = [t for t, _ in history[sqlite_services]]
    assert triggers.count("escalate") == 1 and triggers.count("report_progress") >= 1
    escalated_at = next(at for t, at in history[sqlite_services] if t == "escalate")
    # the first sweep on or after the anniversary that knows the figures of a period after the plan
    assert escalated_at.date() == date(2025, 5, 5)


def test_next_evaluation_day_is_the_first_day_time_alone_can_change_a_decision() -> None:
    policy, calendar = Policy(), WorkingCalendar()
    cycle = TrajectoryView(agb_code=LINDE, state=TrajectoryState.ANNUAL_CYCLE)
    assert next_evaluation_on(cycle, [date(2024, 3, 31)], policy, calendar, date(2024, 5, 6)) is None
    assert next_evaluation_on(cycle, [date(2024, 3, 31), date(2024, 6, 30)], policy, calendar,
                              date(2024, 5, 6)) == date(2024, 6, 30)
    plan = TrajectoryView(agb_code=LINDE, state=TrajectoryState.IMPROVEMENT_PLAN, plan_agreed_on=date(2024, 4, 29),
                          flagged=(IndicatorKey(Programme.DM2, "hba1c_measured"),))
    assert next_evaluation_on(plan, [], policy, calendar, date(2024, 5, 6)) == date(2025, 4, 29)
    assert next_evaluation_on(plan, [], policy, calendar, date(2025, 4, 29)) is None  # now only new figures can
    under = TrajectoryView(agb_code=LINDE, state=TrajectoryState.UNDERPERFORMER_POLICY,
                           last_progress_report_at=datetime(2025, 5, 5, 6, tzinfo=AMSTERDAM))
    # every three months, on a working day: 5 August 2025 is a Tuesday
    assert next_evaluation_on(under, [], policy, calendar, date(2025, 5, 5)) == date(2025, 8, 5)


# --- the whole care group: incremental sweeps leave what full sweeps leave ---------------------------------------


def _tables(database: Path) -> dict[str, list[str]]:
    with sqlite3.connect(database) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        # what differs by design: which runs found work (engine_run, duty_run summaries), the review marks
        skip = {"engine_run", "duty_run", "practice_review"}
        tables = {t: sorted(map(repr, db.execute(f"SELECT * FROM {t}").fetchall())) for t in names if t not in skip}
        # a delivery's lease is the database's real time, which differs between any two runs
        tables["outbox"] = sorted(map(repr, db.execute(
            "SELECT * FROM (SELECT id, key, status, attempts, sent_at, payload, created_at FROM outbox)").fetchall()))
        # a password hash is salted afresh each time: the demo's accounts compared without it
        tables["user_account"] = sorted(map(repr, db.execute(
            "SELECT login, role, agb_code, gp_group, disabled, created_at FROM user_account").fetchall()))
        return tables


def test_a_care_group_swept_only_where_something_changed_ends_exactly_as_one_swept_in_full(tmp_path: Path) -> None:
    """Two simulated years of the demo's care group (conversations held and late, figures each quarter,
    escalations, progress reports, kits refreshed, courses completed): every table the same, row for row."""
    incremental = run_demo(tmp_path / "incremental", years=2, practices=6)
    full = run_demo(tmp_path / "full", years=2, practices=6, full_review=True)
    left, right = _tables(incremental.database), _tables(full.database)
    assert left.keys() == right.keys()
    for table in left:
        assert left[table] == right[table], table
    assert len(left["trajectory_event"]) > 20 and len(left["outbox"]) > 200
    assert any("escalate" in row for row in left["trajectory_event"])


@pytest.mark.parametrize("fact", ["conversation", "kit_refresh", "course_completion", "enrolment", "registry"])
def test_every_fact_a_practice_is_planned_from_brings_it_into_the_next_sweep(services: Services, fact: str) -> None:
    sc = started(services)
    sweep.sweep_due(services, monday("2024-01-22"))
    now = monday("2024-01-24")
    if fact == "conversation":
        sc.conversation(LINDE, "annual", "2024-01-23")
    else:
        with services.transaction() as s:
            if fact == "kit_refresh":
                store.record_kit_refresh(s, LINDE, KitKind.INSULIN, date(2024, 1, 23), now, "test")
            elif fact == "course_completion":
                store.record_course_completion(s, LINDE, "D. Mulder", "caspir", date(2024, 1, 23), now, "test")
            elif fact == "enrolment":
                repo.enrol(s, LINDE, Programme.COPD, date(2024, 1, 22))
            else:
                registry = repo.load_registry(s)
                repo.save_registry(s, registry.model_copy(update={
                    "practices": tuple(p for p in registry.practices if p.agb_code == LINDE)}))
    assert due(services, date(2024, 1, 29)) == ([LINDE], [LINDE])


# --- the set-based look at a batch: which practices go to the trajectory machine at all ---------------------------


@pytest.mark.parametrize("share", [0.2, 0.15, 0.1, 0.3333])
def test_every_practice_the_deviation_rule_flags_is_among_those_the_database_finds_below_its_limits(
        services: Services, share: float) -> None:
    """``deviation_limits`` and ``repository.below_limits`` decide, over a whole batch in the database, which
    practices the sweep hands to the trajectory machine; a practice they leave out is never judged. Every score of 0
    to n patients out of n, around a target with a decimal: each practice the rule flags (exactly, in fractions) is
    among them, and the others they find lie within a hundredth of a point above the rule's threshold."""
    counts = (7, 13, 40)
    codes = {(n, d): f"9{d:03d}{n:04d}" for d in counts for n in range(d + 1)}
    sc = Scenario.build(services, {"care_group": "Cohaesie", "practices": {
        code: {"name": f"Praktijk {code}", "programmes": {"dm2": "2023-01-01"}} for code in codes.values()}})
    sc.targets({HBA1C: 72.5})
    sc.scores("2024-03-31", {code: {HBA1C: nd} for nd, code in codes.items()})
    policy = Policy(deviation_share_of_target=share)
    on = date(2024, 6, 3)
    with services.session() as s:
        shared = repo.reference_figures(s, policy.figures_count_after_days)
        found = repo.below_limits(s, sorted(codes.values()), deviation_limits(shared, policy))
        scores = repo.load_scores(s, sorted(codes.values()))
    enrolments = {Programme.DM2: date(2023, 1, 1)}
    flagged = {code for code in codes.values() if assess_deviation(
        shared.with_scores(scores[code]), policy, enrolments, on).applies}
    threshold = 72.5 * (1 - share)
    assert flagged and flagged <= found
    assert all(100 * n / d < threshold + 0.011 for (n, d), code in codes.items() if code in found - flagged)
    assert len(found) < len(codes)  # it leaves most out: a score at or above the threshold is not a suspect


def test_the_practices_found_below_their_limits_are_those_with_any_figure_below_one_in_any_period(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """``repository.below_limits`` over many practices, indicators and periods (SQLite reads them by the indicators
    with a limit, PostgreSQL by a test of every figure): a practice is found exactly when some figure of an indicator
    with a limit, of any period, lies below that limit; an indicator without a limit never counts, and a practice
    asked about in a chunk after the first is found alike."""
    import random

    from domain.indicators import IndicatorScore
    from flows.services import imports

    rng = random.Random(16)
    codes = [f"0{n:07d}" for n in range(1, 41)]
    Scenario.build(services, {"care_group": "Cohaesie", "practices": {
        code: {"name": f"Praktijk {code}", "programmes": {"dm2": "2023-01-01"}} for code in codes}})
    indicators = [(Programme.DM2, "hba1c_measured"), (Programme.DM2, "foot_exam"), (Programme.CVRM, "bp_measured"),
                  (Programme.DM2, "eigen_meting")]
    limits = {IndicatorKey(Programme.DM2, "hba1c_measured"): 62.5, IndicatorKey(Programme.DM2, "foot_exam"): 50.0,
              IndicatorKey(Programme.CVRM, "bp_measured"): 40.01}
    figures = [IndicatorScore(agb_code=code, programme=programme, indicator=indicator, period_end=end,
                              numerator=rng.randint(20, 40) if rng.random() < 0.9 else rng.randint(0, 40),
                              denominator=40)
               for end in (date(2023, 12, 31), date(2024, 3, 31), date(2024, 6, 30)) for code in codes
               for programme, indicator in indicators if rng.random() < 0.8]
    imports.import_scores(services, figures, source="figures", now=datetime(2024, 8, 1, 9, tzinfo=AMSTERDAM),
                          actor="test")
    expected = {x.agb_code for x in figures
                if x.key in limits and x.numerator * 100.0 < limits[x.key] * x.denominator}
    assert 0 < len(expected) < len(codes)
    with services.session() as s:
        assert repo.below_limits(s, codes, limits) == expected
        assert repo.below_limits(s, codes[:7], limits) == expected & set(codes[:7])
        assert repo.below_limits(s, codes, {IndicatorKey(Programme.DM2, "eigen_meting"): 101.0}) == {
            x.agb_code for x in figures if x.indicator == "eigen_meting"}
        assert repo.below_limits(s, codes, {}) == set()
        # chunks of three: each chunk asked alone, the answers joined
        chunked = repo._chunks
        monkeypatch.setattr(repo, "_chunks", lambda values, size=3: chunked(values, size))
        assert repo.below_limits(s, codes, limits) == expected


def test_the_first_figures_still_to_count_are_found_per_practice_and_none_when_no_period_lies_ahead(
        services: Services) -> None:
    """``repository.first_periods_after``: a quiet practice's next evaluation day comes from the earliest period of
    its figures that does not count yet; on the many days no period lies after the day, nothing is found (and the
    practices' scores are not read, one seek on the period index)."""
    sc = started(services)
    sc.scores("2024-03-31", {LINDE: GOOD, EIK: GOOD})
    sc.scores("2024-06-30", {LINDE: GOOD})
    sc.scores("2024-09-30", {LINDE: GOOD, EIK: GOOD})
    with services.session() as s:
        assert repo.first_periods_after(s, [LINDE, EIK], date(2024, 3, 31)) == {
            LINDE: date(2024, 6, 30), EIK: date(2024, 9, 30)}
        assert repo.first_periods_after(s, [EIK], date(2024, 6, 30)) == {EIK: date(2024, 9, 30)}
        assert repo.first_periods_after(s, [LINDE, EIK], date(2024, 9, 30)) == {}
        assert repo.first_periods_after(s, [], date(2024, 1, 1)) == {}


def test_a_change_is_counted_once_per_transaction_and_again_after_its_savepoint_is_rolled_back(
        services: Services) -> None:
    """``review.touch`` counts a practice once per transaction (a conversation touched it three times); a savepoint
    rolled back takes its count with it, so the transaction counts the practice when it touches it next."""
    started(services)
    with services.session() as s:
        before = review.stamps(s, [LINDE, EIK])
    with services.session() as s:
        review.touch(s, [EIK])
        savepoint = s.begin_nested()
        review.touch(s, [LINDE])
        savepoint.rollback()
        review.touch(s, [LINDE, EIK])
        review.touch(s, [LINDE])
        s.commit()
    with services.session() as s:
        after = review.stamps(s, [LINDE, EIK])
    assert after[LINDE][0] == before[LINDE][0] + 1
    assert after[EIK][0] == before[EIK][0] + 1
