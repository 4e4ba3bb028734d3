"""The reads a sweep makes of every batch keep the plans they were measured with on SQLite (issue 16,
``benchmarks/README.md``): SQLite keeps no statistics here, and chooses by the shape of a query, so a query reshaped
later could fall back to reading every figure or every open duty of the care group for each batch. Each statement a
read runs is captured as SQLite ran it, and its plan asked of SQLite itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from domain.indicators import IndicatorKey
from domain.obligations import ObligationKind
from domain.registry import Programme
from flows.services.context import Services
from flows.services.planning import PRACTICE_KINDS
from flows.testing.scenario import Scenario
from storage import obligations as store
from storage import repository as repo

CODES = [f"0{n:07d}" for n in range(1, 13)]


def _plans(services: Services, read: Callable[[object], object]) -> list[str]:
    """The plan lines (``EXPLAIN QUERY PLAN``) of each SELECT that ``read`` runs."""
    with services.session() as s:
        raw = s.connection().connection.driver_connection
        seen: list[str] = []
        raw.set_trace_callback(seen.append)
        try:
            read(s)
        finally:
            raw.set_trace_callback(None)
        selects = [sql for sql in seen if sql.lstrip().upper().startswith(("SELECT", "WITH"))]
        assert selects, "the read ran no SELECT"
        return [" | ".join(str(row[3]) for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}")) for sql in selects]


def _care_group(services: Services) -> None:
    sc = Scenario.build(services, {"care_group": "Cohaesie", "practices": {
        code: {"name": f"Praktijk {code}", "programmes": {"dm2": "2023-01-01"}} for code in CODES}})
    for end in ("2023-12-31", "2024-03-31"):
        sc.scores(end, {code: {"dm2/hba1c_measured": (30, 40), "dm2/foot_exam": (20, 40)} for code in CODES})


def test_a_batchs_latest_figures_are_sought_per_practice_and_indicator_not_aggregated(
        sqlite_services: Services) -> None:
    _care_group(sqlite_services)
    plans = _plans(sqlite_services, lambda s: repo.load_scores(s, CODES[:5], known_on=date(2024, 3, 31)))
    latest = plans[0]
    assert "SEARCH p USING" in latest and "(agb_code=?)" in latest
    assert "CORRELATED SCALAR SUBQUERY" in latest
    assert "SEARCH s USING COVERING INDEX sqlite_autoindex_indicator_score_1 " \
           "(agb_code=? AND programme=? AND indicator=? AND period_end<?)" in latest
    assert latest.index("SEARCH p") < latest.index("SCAN k") < latest.index("SEARCH t")  # the practice first
    assert "GROUP BY" not in latest.upper() and "TEMP B-TREE" not in latest.upper()


def test_a_batchs_figures_below_their_limits_are_read_by_practice_and_indicator(sqlite_services: Services) -> None:
    _care_group(sqlite_services)
    limits = {IndicatorKey(Programme.DM2, "hba1c_measured"): 62.5, IndicatorKey(Programme.DM2, "foot_exam"): 50.0}
    [below] = _plans(sqlite_services, lambda s: repo.below_limits(s, CODES[:5], limits))
    assert "SEARCH t USING INDEX sqlite_autoindex_indicator_score_1 (agb_code=? AND programme=? AND indicator=?)" \
        in below
    assert below.index("SEARCH p") < below.index("SEARCH t")  # the practice first: its figures lie together


def test_a_batchs_open_duties_are_read_by_its_practices_not_by_every_open_duty(sqlite_services: Services) -> None:
    _care_group(sqlite_services)
    batch = [f"0{n:07d}" for n in range(1, 1001)]  # a batch of a thousand (SQLite weighs the seeks of a long list)
    [duties] = _plans(sqlite_services, lambda s: store.open_obligations(s, kinds=PRACTICE_KINDS, agb_codes=batch))
    assert "USING INDEX ix_obligation_agb_code (agb_code=?)" in duties
    # the care group's meetings (no practice) are still found by kind and status
    [meetings] = _plans(sqlite_services, lambda s: store.open_obligations(s, kinds=[ObligationKind.POH_MEETING]))
    assert "ix_obligation_kind_status" in meetings
