"""Alembic owns the schema: migrating an empty database yields exactly the models' schema, on SQLite and
PostgreSQL, and migrating again changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from storage.database import (
    alembic_config,
    create_db_engine,
    current_revision,
    head_revision,
    migrate,
    normalise_url,
    sqlite_url,
    stored_revision,
)
from tests.conftest import POSTGRES_URL

DE_LINDE = "INSERT INTO practice (agb_code, name) VALUES ('01234567', 'De Linde')"


def _fresh_url(kind: str, tmp_path: Path, worker_id: str) -> str:
    if kind == "sqlite":
        return sqlite_url(tmp_path / "fresh.db")
    if not POSTGRES_URL:
        pytest.skip("QC_POSTGRES_URL is not set: PostgreSQL tests skipped")
    server = sa.make_url(normalise_url(POSTGRES_URL))
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"qc_migrations_{worker_id}"  # dropped and made anew on each run
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> Iterator[sa.Engine]:
    """An engine on an empty database (SQLite, or PostgreSQL made anew), disposed of after the test."""
    engine = create_db_engine(_fresh_url(request.param, tmp_path, worker_id))
    yield engine
    engine.dispose()


def _upgrade(engine: sa.Engine, revision: str, *rows: tuple[str, dict[str, Any]]) -> None:
    """Migrate to ``revision``, store ``rows`` (statements with their parameters) as that version did, then
    migrate to the head."""
    migrate(engine, revision)
    with engine.begin() as conn:
        for statement, parameters in rows:
            conn.execute(sa.text(statement), parameters)
    migrate(engine)


def test_migrations_build_exactly_the_models_schema_and_can_run_again(fresh_engine: sa.Engine) -> None:
    assert current_revision(fresh_engine) is None
    migrate(fresh_engine)
    head = current_revision(fresh_engine)
    assert head is not None
    with fresh_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    migrate(fresh_engine)
    assert current_revision(fresh_engine) == head == stored_revision(fresh_engine) == head_revision()


def test_the_quick_head_check_names_alembics_own_head(tmp_path: Path) -> None:
    """Every command skips Alembic when the database is at ``head_revision()``: it must be Alembic's head."""
    from alembic.script import ScriptDirectory

    engine = create_db_engine(sqlite_url(tmp_path / "x.db"))
    assert stored_revision(engine) is None
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == head_revision()
    engine.dispose()


def test_practices_registered_before_the_review_table_are_reviewed_by_the_first_sweep_after_the_upgrade(
    fresh_engine: sa.Engine,
) -> None:
    _upgrade(fresh_engine, "0004", ("INSERT INTO practice (agb_code, name) VALUES ('01234567', 'De Linde'), "
                                    "('07654321', 'De Eik')", {}))
    with fresh_engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT agb_code, changes, evaluated_changes, planned_changes "
                                    "FROM practice_review ORDER BY agb_code")).all()
    assert [tuple(r) for r in rows] == [("01234567", 1, 0, 0), ("07654321", 1, 0, 0)]


def test_a_conversation_stored_without_a_plan_before_the_upgrade_has_no_plan_after_it(
    fresh_engine: sa.Engine,
) -> None:
    _upgrade(fresh_engine, "0005", (DE_LINDE, {}), *(
        ("INSERT INTO conversation (id, agb_code, kind, held_on, attendees, attendance_gaps, plan, recorded_at, "
         "actor) VALUES (:id, '01234567', 'extra', :held_on, '[]', '[]', :plan, '2024-06-12 14:00:00', 'x')",
         {"id": held_on, "held_on": held_on, "plan": plan})
        for held_on, plan in (("2024-04-29", '{"goals": [], "agreements": ["Recall"]}'), ("2024-06-12", "null"))
    ))
    with fresh_engine.connect() as conn:
        with_plan = conn.execute(sa.text("SELECT held_on FROM conversation WHERE plan IS NOT NULL")).scalars().all()
    assert [str(d) for d in with_plan] == ["2024-04-29"]


def test_events_stored_with_one_time_get_it_as_both_times_and_no_step_waits_after_the_upgrade(
    fresh_engine: sa.Engine,
) -> None:
    _upgrade(fresh_engine, "0006", (DE_LINDE, {}), (
        "INSERT INTO trajectory_event (id, agb_code, seq, at, \"trigger\", from_state, to_state, actor, reasons, "
        "details) VALUES ('e1', '01234567', 1, '2024-01-15 15:00:00', 'hold_start_conversation', 'start', "
        "'annual_cycle', 'user:a.jansen', '[]', '{\"held_on\": \"2024-01-15\"}')", {}))
    with fresh_engine.connect() as conn:
        at, recorded = conn.execute(sa.text("SELECT at, recorded_at FROM trajectory_event")).one()
        steps = conn.execute(sa.text("SELECT count(*) FROM trajectory_step")).scalar()
    assert at == recorded and str(at).startswith("2024-01-15 15:00") and steps == 0


def test_the_spreads_of_figures_stored_before_the_upgrade_are_kept_as_the_imports_keep_them(
    fresh_engine: sa.Engine,
) -> None:
    from datetime import date

    from sqlmodel import Session

    from domain.indicator_views import references
    from domain.indicators import indicator_key
    from domain.registry import Programme
    from storage import repository as repo

    figures = [("01234567", "dm2", "hba1c_measured", "2024-03-31", 60, 100),
               ("07654321", "dm2", "hba1c_measured", "2024-03-31", 75, 80),
               ("01112223", "dm2", "hba1c_measured", "2024-03-31", 90, 120),
               ("01234567", "dm2", "foot_exam", "2024-03-31", 7, 9),
               ("07654321", "dm2", "hba1c_measured", "2024-06-30", 33, 40)]
    _upgrade(fresh_engine, "0027", ("INSERT INTO practice (agb_code, name) VALUES ('01234567', 'De Linde'), "
                                    "('07654321', 'De Eik'), ('01112223', 'Het Anker')", {}), *(
        ("INSERT INTO indicator_score (agb_code, programme, indicator, period_end, numerator, denominator) "
         "VALUES (:a, :p, :i, :e, :n, :d)", {"a": a, "p": p, "i": i, "e": e, "n": n, "d": d})
        for a, p, i, e, n, d in figures))
    with Session(fresh_engine) as s:
        for period in (date(2024, 3, 31), date(2024, 6, 30)):
            expected = references((indicator_key(Programme(p), i), period, n, d)
                                  for _, p, i, e, n, d in figures if e == period.isoformat())
            assert repo.period_spread(s, period) == expected and expected
        assert repo.period_spread(s, date(2024, 9, 30)) == {}


def test_figures_stored_before_the_upgrade_are_found_as_the_latest_a_sweep_reads(fresh_engine: sa.Engine) -> None:
    """A sweep looks each indicator's latest figure up by the indicators scored (``scored_indicator``): the upgrade
    lists those of the figures already stored, one outside the catalogue too."""
    from datetime import date

    from sqlmodel import Session

    from storage import repository as repo

    figures = [("01234567", "dm2", "hba1c_measured", "2024-03-31", 60, 100),
               ("01234567", "dm2", "hba1c_measured", "2024-06-30", 70, 100),
               ("01234567", "dm2", "eigen_meting", "2024-03-31", 7, 9)]
    _upgrade(fresh_engine, "0029", (DE_LINDE, {}), *(
        ("INSERT INTO indicator_score (agb_code, programme, indicator, period_end, numerator, denominator) "
         "VALUES (:a, :p, :i, :e, :n, :d)", {"a": a, "p": p, "i": i, "e": e, "n": n, "d": d})
        for a, p, i, e, n, d in figures))
    with Session(fresh_engine) as s:
        latest = repo.load_scores(s, ["01234567"], known_on=date(2024, 6, 30))["01234567"]
    assert sorted((x.indicator, x.period_end.isoformat(), x.numerator) for x in latest) == [
        ("eigen_meting", "2024-03-31", 7), ("hba1c_measured", "2024-06-30", 70)]


def test_mandatory_courses_a_policy_version_set_become_the_course_catalogue_and_leave_the_policy(
    fresh_engine: sa.Engine,
) -> None:
    import json

    from flows.services.context import Services
    from storage import courses as course_store
    from storage import repository as repo

    own = {"mandatory_courses": [{"code": "hygiene", "name": "Hygiëne", "roles": ["practice_manager"],
                                  "every_months": 36, "first_within_months": 3, "url": None}],
           "deviation_share_of_target": 0.15}
    shipped_then = {"mandatory_courses": [
        {"code": "caspir", "name": "Caspir", "roles": ["poh_chronic", "doctors_assistant", "nurse"],
         "every_months": 24},
        {"code": "langerhans", "name": "Langerhans", "roles": ["gp_principal", "gp", "poh_chronic",
                                                               "nurse_practitioner"], "every_months": 24}]}
    insert = ("INSERT INTO policy_version (number, applies_from, policy, reason, recorded_at, actor) "
              "VALUES (:number, :applies_from, :policy, 'proef', '2024-06-01 10:00:00', 'user:officer')")
    _upgrade(fresh_engine, "0020",
             (insert, {"number": 1, "applies_from": "2024-07-01", "policy": json.dumps(shipped_then)}),
             (insert, {"number": 2, "applies_from": "2025-01-01", "policy": json.dumps(own)}))
    services = Services(db=fresh_engine)
    with services.session() as s:
        versions = repo.policy_versions(s)  # they load: the key is gone
        catalogue = course_store.catalogue(s)
    assert [v.policy.deviation_share_of_target for v in versions] == [0.20, 0.15]
    assert catalogue is not None and [(c.code, c.every_months, c.first_within_months) for c in catalogue] == [
        ("hygiene", 36, 3)]
