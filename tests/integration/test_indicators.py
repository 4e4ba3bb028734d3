"""Indicators as officers and practices see them: the shipped catalogue, imports that keep history,
figures against target and national average with an honest interval, and the care group's own reference."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path

import pytest

from domain.clock import AMSTERDAM
from domain.indicator_views import Reference, reference, references, wilson_interval
from domain.indicators import IndicatorKey, IndicatorKind, IndicatorScore
from domain.registry import Programme
from flows.services import imports, queries
from flows.services.context import Services
from flows.testing.scenario import Scenario
from notifications.charts import practice_chart_svg
from readers.catalogue import DEFAULT_CATALOGUE_FILE, default_catalogue
from storage import repository as repo

A, B, C = "01000001", "01000002", "01000003"
DESCRIPTION = f"""
care_group: Cohaesie
board: [B. de Vries <bestuur@cohaesie.example>]
practices:
  "{A}": {{name: De Linde, gp_group: WEST, programmes: {{dm2: 2023-01-01}}}}
  "{B}": {{name: De Eik, gp_group: WEST, programmes: {{dm2: 2023-01-01}}}}
  "{C}": {{name: Het Anker, gp_group: OOST, programmes: {{dm2: 2023-01-01}}}}
"""
NOW = datetime(2025, 5, 1, 9, 0, tzinfo=AMSTERDAM)


# --- the shipped catalogue ----------------------------------------------------------------------

def test_shipped_catalogue_defines_every_programme_with_sources_and_computations() -> None:
    catalogue = default_catalogue()
    assert {d.programme for d in catalogue} == set(Programme)
    assert len({d.key for d in catalogue}) == len(catalogue)
    for d in catalogue:
        assert d.source and d.numerator and d.denominator and d.computable, d.key
        if d.kind is IndicatorKind.OUTCOME:
            assert not d.main and d.value_op is not None
    main = {str(d.key) for d in catalogue if d.main}
    # the reference's "reasonable set" of main process indicators (shared/reference/README.md)
    assert {"dm2/hba1c_measured", "dm2/bp_measured", "dm2/ldl_measured", "dm2/egfr_measured", "dm2/acr_measured",
            "dm2/bmi_measured", "dm2/smoking_recorded", "dm2/foot_exam", "dm2/fundus_36m", "copd/smoking_recorded",
            "copd/burden_measured", "copd/exacerbations_recorded", "copd/inhaler_checked", "copd/activity_recorded",
            "asthma/acq_measured", "asthma/inhaler_checked", "asthma/smoking_recorded", "cvrm/bp_measured",
            "cvrm/ldl_measured", "cvrm/smoking_recorded", "cvrm/egfr_measured", "elderly/frailty_recorded",
            "elderly/acp_recorded"} == main


def test_no_national_average_is_shipped_in_code_or_catalogue() -> None:
    header = DEFAULT_CATALOGUE_FILE.read_text(encoding="utf-8").splitlines()[0]
    assert "average" not in header and "gemiddelde" not in header


def test_a_new_database_gets_the_shipped_catalogue_and_a_care_groups_own_is_kept(sqlite_services: Services) -> None:
    assert imports.ensure_default_catalogue(sqlite_services) == len(default_catalogue())
    assert imports.ensure_default_catalogue(sqlite_services) == 0
    with sqlite_services.session() as s:
        stored = {d.key: d for d in repo.load_catalogue(s)}
    shipped = {d.key: d for d in default_catalogue()}
    assert stored == shipped  # every field round-trips, computations included


# --- figures, intervals, references --------------------------------------------------------------

def test_wilson_interval_for_six_of_twelve_and_zero_of_ten() -> None:
    # p = 0.5, n = 12, z = 1.96: centre 0.5, half-width 1.96*sqrt(0.25/12 + 3.8416/576)/(1 + 3.8416/12) = 0.2462
    assert wilson_interval(6, 12) == pytest.approx((25.38, 74.62), abs=0.01)
    # 0 of 10: (0, 2*0.19208/1.38416) = (0, 27.75)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 27.75), abs=0.01)
    narrow, wide = wilson_interval(300, 400), wilson_interval(9, 12)
    assert narrow[1] - narrow[0] < 10 < wide[1] - wide[0]  # 75% of 400 says more than 75% of 12


def test_care_group_reference_median_and_10th_90th_percentiles_by_hand() -> None:
    scores = [IndicatorScore(agb_code=f"0100000{i}", programme=Programme.DM2, indicator="hba1c_measured",
                             period_end=date(2024, 12, 31), numerator=n, denominator=100)
              for i, n in enumerate([50, 60, 70, 80, 90])]
    ref = reference(scores)
    assert ref is not None
    # inclusive quantiles over 5 values: p10 at position 0.4 -> 50 + 0.4*10 = 54; p90 at 3.6 -> 80 + 0.6*10 = 86
    assert (ref.practices, ref.median, ref.p10, ref.p90, ref.mean, ref.pooled) == (5, 70, 54, 86, 70, 70)


def build(services: Services) -> Scenario:
    sc = Scenario.build(services, DESCRIPTION)
    sc.averages(2024, {"dm2/hba1c_measured": 90})
    sc.scores("2023-12-31", {A: {"dm2/hba1c_measured": (30, 40)}, B: {"dm2/hba1c_measured": (200, 220)}})
    sc.scores("2024-12-31", {A: {"dm2/hba1c_measured": (9, 12)}, B: {"dm2/hba1c_measured": (180, 200)},
                             C: {"dm2/hba1c_measured": (95, 100)}})
    return sc


def test_practice_figures_match_a_hand_computation(services: Services) -> None:
    build(services)
    view = queries.indicator_view(services, agb_code=A, on=date(2025, 5, 1))
    assert view.period_end == date(2024, 12, 31)
    (line,) = view.lines
    # 9/12 = 75%; target 90 (sample) -> -15; national 2024 = 90 -> -15; a year earlier 30/40 = 75% -> +0
    assert (line.numerator, line.denominator, line.score) == (9, 12, 75.0)
    assert (line.target, line.gap_to_target, line.national_average, line.gap_to_national_average) == (90, -15, 90, -15)
    assert (line.score_a_year_earlier, line.change_over_year) == (75.0, 0.0)
    assert line.interval == pytest.approx(wilson_interval(9, 12))
    # the care group's spread over 75, 90, 95: median 90, p10 = 75 + 0.2*15 = 78, p90 = 90 + 0.8*5 = 94
    assert line.reference is not None
    assert (line.reference.median, line.reference.p10, line.reference.p90) == (90, 78, 94)
    # pooled: (9 + 180 + 95) / (12 + 200 + 100) = 284 / 312 = 91.03%
    assert line.reference.pooled == pytest.approx(91.03, abs=0.01)


def test_gp_group_and_care_group_figures_are_pooled_not_averaged(services: Services) -> None:
    build(services)
    (west,) = queries.indicator_view(services, gp_group="WEST", on=date(2025, 5, 1)).lines
    assert (west.numerator, west.denominator, west.practices) == (189, 212, 2)  # 9+180 over 12+200
    assert west.score == pytest.approx(89.15, abs=0.01)
    assert west.change_over_year == pytest.approx(89.15 - 88.46, abs=0.01)  # a year earlier: 230/260 = 88.46%
    (everyone,) = queries.indicator_view(services, on=date(2025, 5, 1)).lines
    assert (everyone.numerator, everyone.denominator, everyone.practices) == (284, 312, 3)
    with pytest.raises(queries.UnknownGpGroupError):
        queries.indicator_view(services, gp_group="NOORD")


# --- imports keep history ------------------------------------------------------------------------

def test_same_figures_again_change_nothing_and_a_correction_is_recorded(services: Services) -> None:
    build(services)
    score = IndicatorScore(agb_code=A, programme=Programme.DM2, indicator="hba1c_measured",
                           period_end=date(2024, 12, 31), numerator=9, denominator=12)
    again = imports.import_scores(services, [score], source="scores.csv", now=NOW, actor="officer")
    assert (again.import_id, again.new, again.changed, again.unchanged) == (None, 0, 0, 1)
    corrected = score.model_copy(update={"numerator": 11})
    result = imports.import_scores(services, [corrected], source="scores-correctie.csv", now=NOW, actor="officer")
    assert (result.new, result.changed) == (0, 1) and result.import_id is not None
    with services.session() as s:
        (revision,) = repo.revisions(s, A)
        log = repo.imports(s)
    assert (revision.old_numerator, revision.new_numerator, revision.import_id) == (9, 11, result.import_id)
    assert log[-1].source == "scores-correctie.csv" and log[-1].changed == 1
    assert queries.indicator_view(services, agb_code=A).lines[0].numerator == 11
    # the first file once more, at the same moment: it changes the figure back, and is its own import
    back = imports.import_scores(services, [score], source="scores.csv", now=NOW, actor="officer")
    assert (back.new, back.changed) == (0, 1) and back.import_id not in (None, result.import_id)
    with services.session() as s:
        assert [r.import_id for r in repo.revisions(s, A)] == [result.import_id, back.import_id]
    assert queries.indicator_view(services, agb_code=A).lines[0].numerator == 9
    # one file that corrects the same figure twice: the revisions follow each other
    twice = [score.model_copy(update={"numerator": 10}), score.model_copy(update={"numerator": 12})]
    chained = imports.import_scores(services, twice, source="dubbel.csv", now=NOW, actor="officer")
    assert chained.changed == 2
    with services.session() as s:
        steps = [(r.old_numerator, r.new_numerator) for r in repo.revisions(s, A) if r.import_id == chained.import_id]
    assert steps == [(9, 10), (10, 12)]


def test_the_care_groups_spread_of_a_period_follows_every_import_and_correction(services: Services) -> None:
    """The spread a page shows is kept with the figures (``period_spread``): after a correction, a practice's first
    figure of another indicator and the same file again it is what every practice's figures of the period give,
    and the period no import touched keeps its own."""
    build(services)
    end, earlier = date(2024, 12, 31), date(2023, 12, 31)
    hba1c, bp = IndicatorKey(Programme.DM2, "hba1c_measured"), IndicatorKey(Programme.DM2, "bp_measured")

    def stored(period: date) -> dict[tuple[IndicatorKey, date], Reference]:
        with services.session() as s:
            return repo.period_spread(s, period)

    def from_every_figure(period: date) -> dict[tuple[IndicatorKey, date], Reference]:
        with services.session() as s:
            return references((x.key, x.period_end, x.numerator, x.denominator)
                              for scores in repo.load_scores(s).values() for x in scores if x.period_end == period)

    before = stored(earlier)
    assert before == from_every_figure(earlier) and before[(hba1c, earlier)].practices == 2
    assert stored(end)[(hba1c, end)].median == 90  # 75, 90, 95
    figure = IndicatorScore(agb_code=A, programme=Programme.DM2, indicator="hba1c_measured", period_end=end,
                            numerator=12, denominator=12)
    first_bp = figure.model_copy(update={"agb_code": B, "indicator": "bp_measured", "numerator": 7, "denominator": 10})
    for batch in ([figure], [first_bp], [figure, first_bp]):  # a correction (75% -> 100%), a new one, both again
        imports.import_scores(services, batch, source="cijfers.csv", now=NOW, actor="officer")
        assert stored(end) == from_every_figure(end)
    assert stored(end)[(hba1c, end)].median == 95  # 90, 95, 100
    assert stored(end)[(bp, end)] == Reference(practices=1, pooled=70, mean=70, median=70, p10=70, p90=70)
    assert stored(earlier) == before


def test_two_imports_of_one_period_at_once_each_count_the_others_figures_in_the_spread(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An import that read the period's figures before another one committed (an inbox recalculation beside a
    command's import) still keeps the spread of every figure stored: it counts them after its own writes."""
    first, second = Services.open(db_url, upgrade=False), Services.open(db_url, upgrade=False)
    try:
        build(first)
        end = date(2027, 3, 31)
        key = IndicatorKey(Programme.DM2, "hba1c_measured")

        def figure(agb: str, numerator: int) -> IndicatorScore:
            return IndicatorScore(agb_code=agb, programme=Programme.DM2, indicator="hba1c_measured", period_end=end,
                                  numerator=numerator, denominator=100)

        made = repo.uuid5_text
        meanwhile = [lambda: imports.import_scores(first, [figure(A, 10), figure(B, 20)], source="herberekening",
                                                   now=NOW, actor="engine")]

        def after_the_read(text: str) -> str:  # the second import has read the period's figures: the first commits
            while meanwhile:
                meanwhile.pop()()
            return made(text)

        monkeypatch.setattr(repo, "uuid5_text", after_the_read)
        imports.import_scores(second, [figure(C, 90)], source="cijfers.csv", now=NOW, actor="officer")
        monkeypatch.setattr(repo, "uuid5_text", made)
        with first.session() as s:
            kept = repo.period_spread(s, end)[(key, end)]
        assert (kept.practices, kept.median) == (3, 20)
    finally:
        first.db.dispose()
        second.db.dispose()


def test_a_practice_that_moved_on_between_the_status_reads_is_not_listed_in_a_state_it_left(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """The board's page asks for the practices in its states, then reads their views: a sweep that commits a step
    between the two reads (a recovery) must not put a practice in the list under a state it is no longer in."""
    from domain.trajectory import TrajectoryState

    build(services)
    monkeypatch.setattr(repo, "in_state", lambda s, state: {A} if state is TrajectoryState.IMPROVEMENT_PLAN else set())
    assert queries.status(services, states=[TrajectoryState.IMPROVEMENT_PLAN]) == []


def test_a_decision_already_taken_keeps_the_figures_it_was_taken_on(services: Services) -> None:
    sc = build(services)
    sc.conversation(A, "start", "2025-01-14")
    sc.scores("2025-03-31", {A: {"dm2/hba1c_measured": (6, 12)}})
    sc.run("2025-04-07")
    flagged = next(e for e in sc.history(A) if e.trigger.value == "flag_deviation")
    assert (flagged.reasons[0]["numerator"], flagged.reasons[0]["denominator"]) == (6, 12)
    sc.scores("2025-03-31", {A: {"dm2/hba1c_measured": (11, 12)}})  # the file is corrected afterwards
    kept = next(e for e in sc.history(A) if e.trigger.value == "flag_deviation")
    assert (kept.reasons[0]["numerator"], kept.reasons[0]["score"]) == (6, 50.0)


def test_each_indicators_latest_figure_known_on_a_day_is_the_one_its_whole_history_gives(services: Services) -> None:
    """A sweep reads each indicator's latest figure known on its day, and every later one, by one seek per practice and
    indicator (``repository.latest_scores_query``): it must find what every figure of the history finds, with
    periods missing for some indicators, a period brought in after a later one, a correction, an indicator outside
    the catalogue, a code of no practice, a code asked twice, no code at all, and some practices read in full
    (``complete``)."""
    import random

    from domain.indicators import IndicatorScore

    build(services)
    rng = random.Random(16)
    ends = [date(2023, 3, 31), date(2023, 6, 30), date(2023, 9, 30), date(2023, 12, 31), date(2024, 3, 31),
            date(2024, 6, 30), date(2024, 12, 31), date(2025, 3, 31)]
    keys = [(Programme.DM2, "hba1c_measured"), (Programme.DM2, "foot_exam"), (Programme.CVRM, "bp_measured"),
            (Programme.DM2, "eigen_meting")]  # the last is in no catalogue
    imported: list[IndicatorScore] = []
    for end in rng.sample(ends, len(ends)):  # periods brought in out of their order
        figures = [IndicatorScore(agb_code=agb, programme=programme, indicator=indicator, period_end=end,
                                  numerator=rng.randint(0, 50), denominator=50)
                   for agb in (A, B) for programme, indicator in keys if rng.random() < 0.7]
        imports.import_scores(services, figures, source=f"figures {end}", now=NOW, actor="test")
        imported += figures
    corrected = imported[0].model_copy(update={"numerator": 1})
    imports.import_scores(services, [corrected], source="correction", now=NOW, actor="test")
    with services.session() as s:  # the whole history, as stored (``build``'s figures too)
        history = [x for scores in repo.load_scores(s).values() for x in scores]
    assert corrected in history and any(x.indicator == "eigen_meting" for x in history)

    def expected(codes: list[str] | None, known_on: date, complete: set[str]) -> dict[str, set[IndicatorScore]]:
        found: dict[str, set[IndicatorScore]] = {}
        for agb in sorted({x.agb_code for x in history} if codes is None else codes):
            mine = [x for x in history if x.agb_code == agb]
            if agb not in complete:
                latest = {(x.programme, x.indicator): max((y for y in mine if y.key == x.key
                                                           and y.period_end <= known_on), key=lambda y: y.period_end,
                                                          default=None) for x in mine}
                mine = [x for x in mine if x.period_end > known_on or latest[(x.programme, x.indicator)] == x]
            if mine:
                found[agb] = set(mine)
        return found

    days = [date(2022, 12, 31), *ends, *(end.replace(day=1) for end in ends), date(2026, 1, 1)]
    with services.session() as s:
        for known_on in days:
            for codes, complete in ((None, set()), ([A], set()), ([A, B, C], set()), ([C], set()),
                                    ([A, B], {B}), ([B], {B}), (["09999999", A], set()), ([], set()),
                                    ([A, A, B], set())):
                got = repo.load_scores(s, codes, known_on=known_on, complete=complete)
                assert {agb: set(x) for agb, x in got.items()} == expected(codes, known_on, complete), (known_on,
                                                                                                      codes)
                assert all(len(x) == len(set(x)) for x in got.values())
        # any other database takes the aggregate over the history: the same figures
        for known_on in days:
            rows = {tuple(r) for r in s.connection().execute(*repo.latest_scores_query("other", [A, B], known_on))}
            seek = repo.latest_scores_query(services.db.dialect.name, [A, B], known_on)
            assert {tuple(r) for r in s.connection().execute(*seek)} == rows
            assert all(isinstance(r[3], date) for r in rows)


# --- the chart ----------------------------------------------------------------------------------

def test_chart_is_valid_svg_with_one_panel_per_main_indicator(services: Services, tmp_path: Path) -> None:
    build(services)
    title, series = queries.chart_series(services, A)
    svg = practice_chart_svg(title, series)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "dm2/hba1c_measured" in texts and "streefwaarde" in texts and "landelijk gemiddelde" in texts
    points = [p for p in root.iter("{http://www.w3.org/2000/svg}circle")]
    assert len(points) == 2  # two periods of the one indicator
    assert practice_chart_svg(title, series) == svg  # deterministic


def test_recalculating_from_an_extract_stores_only_the_practices_aggregates(services: Services, tmp_path: Path) -> None:
    build(services)
    extract = tmp_path / "extract.csv"
    header = "pseudonym;agb_code;programme;inclusion_date;hba1c_date;hba1c_value;bp_date;bp_value;ldl_date;ldl_value;"
    header += "egfr_date;acr_date;bmi_date;smoking_date;foot_exam_date;fundus_date"
    rows = [  # period end 2025-03-31: the 12-month window is 2024-04-01 .. 2025-03-31
        f"p-1;{A};dm2;2020-01-01;2025-01-10;48;;;;;;;;;;",
        f"p-2;{A};dm2;2020-01-01;2024-04-01;60;;;;;;;;;;",  # first day of the window: counts
        f"p-3;{A};dm2;2020-01-01;2024-03-31;50;;;;;;;;;;",  # a day too early
        f"p-4;{A};dm2;2025-04-01;2025-01-10;40;;;;;;;;;;",  # included after the period end: not counted
        f"p-5;{B};dm2;2021-06-01;;;;;;;;;;;;",
    ]
    extract.write_text("\ufeff" + header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = imports.recalculate_indicators(services, extract, date(2025, 3, 31), now=NOW, actor="officer")
    assert result.import_id is not None
    line = next(x for x in queries.indicator_view(services, agb_code=A, period_end=date(2025, 3, 31)).lines
                if str(x.key) == "dm2/hba1c_measured")
    assert (line.numerator, line.denominator) == (2, 3)  # p-1 and p-2 of p-1..p-3
    below = next(x for x in queries.indicator_view(services, agb_code=A, period_end=date(2025, 3, 31)).lines
                 if str(x.key) == "dm2/hba1c_below_53")
    assert (below.numerator, below.denominator) == (1, 2)  # 48 < 53 of the two measured in the window
    with services.session() as s:
        assert "herberekening extract.csv tot 2025-03-31" in [i.source for i in repo.imports(s)]
    again = imports.recalculate_indicators(services, extract, date(2025, 3, 31), now=NOW, actor="officer")
    assert again.import_id is None and again.new == again.changed == 0


@pytest.mark.parametrize("value", ["100,5", "-1", "honderd"])
def test_national_average_outside_0_to_100_rejects_the_file_with_row_and_column(tmp_path: Path, value: str) -> None:
    from readers.files import InputFileError, parse_averages

    path = tmp_path / "gemiddelden.csv"
    path.write_text(f"programme;indicator;year;national_average\ndm2;hba1c_measured;2024;91\n"
                    f"dm2;bp_measured;2024;{value}\n", encoding="utf-8-sig")
    with pytest.raises(InputFileError) as refused:
        parse_averages(path)
    assert "gemiddelden.csv, rij 3, kolom national_average" in str(refused.value)


@pytest.mark.postgres
def test_a_large_import_tells_postgresqls_planner_of_its_figures_at_once(postgres_database: str) -> None:
    """PostgreSQL plans its reads by statistics that autovacuum refreshes some time later, or never when it is off:
    an import of a period's figures for a whole care group refreshes those of the figures in its own transaction,
    so the next sweep reads a chunk of practices' latest figures by a plan for the table as it is (issue 16). A small
    import leaves that to autovacuum."""
    import sqlalchemy as sa

    from tests.conftest import _empty_postgres

    _empty_postgres(postgres_database)
    services = Services.open(postgres_database, upgrade=False)
    try:
        Scenario.build(services, DESCRIPTION)

        def counted() -> float:
            with services.db.connect() as c:
                return float(c.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'indicator_score'"))
                             .scalar_one())

        def figures(count: int, period_end: date) -> list[IndicatorScore]:
            return [IndicatorScore(agb_code=A, programme=Programme.DM2, indicator=f"i{n}", period_end=period_end,
                                   numerator=1, denominator=2) for n in range(count)]

        assert counted() != repo.ANALYZE_FROM
        imports.import_scores(services, figures(repo.ANALYZE_FROM, date(2024, 12, 31)), source="groot.csv", now=NOW,
                              actor="officer")
        assert counted() == repo.ANALYZE_FROM
        imports.import_scores(services, figures(10, date(2025, 3, 31)), source="klein.csv", now=NOW, actor="officer")
        assert counted() == repo.ANALYZE_FROM
        # a VACUUM or ANALYZE of the figures under way elsewhere (their lock held): the import does not wait for it
        with services.db.connect() as other:
            other.exec_driver_sql("LOCK TABLE indicator_score IN SHARE UPDATE EXCLUSIVE MODE")
            done: list[bool] = []
            worker = threading.Thread(target=lambda: done.append(imports.import_scores(
                services, figures(repo.ANALYZE_FROM, date(2025, 6, 30)), source="nog.csv", now=NOW,
                actor="officer").new == repo.ANALYZE_FROM))
            worker.start()
            worker.join(timeout=15)
            waited = worker.is_alive()
            other.rollback()  # the lock let go: a waiting import finishes, and the thread with it
        worker.join()
        assert not waited and done == [True]
        assert counted() == repo.ANALYZE_FROM  # left to whoever held the lock
    finally:
        services.db.dispose()
