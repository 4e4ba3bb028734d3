"""On SQLite the hottest writes go through the driver (``storage.driver``: ``insert_ignore``, the guarded update of an
obligation, a trajectory's move and event, a step marked, a review counted, an import's new figures), with
SQLAlchemy's bind processors:
what they store must be exactly what the statement through SQLAlchemy stores (the same text for a moment, a date, a
JSON value, a NULL, a statement's own values), each must tell how many rows it changed, and a row the database
refuses must be refused as SQLAlchemy refuses it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from domain.clock import AMSTERDAM
from domain.indicators import IndicatorScore
from domain.vocabulary import Programme
from flows.services.context import Services
from storage import driver, review
from storage import obligations as store
from storage import repository as repo
from storage.tables import (
    ObligationChangeRow,
    ObligationRow,
    OutboxRow,
    PracticeReviewRow,
    PracticeRow,
    TrajectoryStepRow,
)

NOW = datetime(2025, 3, 12, 19, 30, 15, 123456, tzinfo=AMSTERDAM)  # a moment with microseconds, not in UTC


def _outbox(key: str, **changed: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": f"id-{key}", "key": key, "kind": "meeting_invitation", "agb_code": None, "recipient_name": "Jaël Öztürk",
        "recipient_email": "j.ozturk@delinde.example", "recipient_role": "poh_chronic", "subject": "Uitnodiging €",
        "payload": {"meeting": {"start": "2025-03-12T19:00:00+01:00", "topics": ["astma", "ë"]}, "n": 1.5,
                    "none": None}, "created_at": NOW, "status": "pending", "attempts": 0, "last_error": None,
        "sent_at": None, "next_attempt_at": None, "last_attempt_at": None, "message_id": None}
    return row | changed


def _rows() -> list[tuple[Any, list[dict[str, Any]], list[str]]]:
    return [
        (OutboxRow, [_outbox("a"), _outbox("b", agb_code="01234567", payload={}, sent_at=NOW.replace(month=1))],
         ["key"]),
        (ObligationRow, [{
            "id": "o1", "key": "annual_conversation:01234567:2025", "kind": "annual_conversation",
            "agb_code": "01234567", "subject": "Kwaliteitsjaargesprek", "anchor_on": date(2024, 11, 12),
            "due_on": date(2025, 11, 12), "planned_on": None, "status": "open", "basis": {"held_on": "2024-11-12"},
            "details": {}, "notices_done": [], "next_notice_on": date(2025, 10, 1), "version": 0,
            "created_at": NOW, "updated_at": NOW}], ["key"]),
        (ObligationChangeRow, [
            {"obligation_key": "k", "change": "planned", "at": NOW, "old": None, "new": {"due_on": "2025-11-12"},
             "reason": "gepland", "actor": "engine"},
            {"obligation_key": "k", "change": "done", "at": NOW, "old": {"x": [1, 2]}, "new": None, "reason": "klaar",
             "actor": "engine"}], ["obligation_key", "change", "at"]),
    ]


def _stored(path: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as raw:
        return sorted(raw.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)


def _insert(services: Services, table: Any, rows: list[dict[str, Any]], conflict: list[str]) -> list[Any]:
    with services.transaction() as s:
        return store.insert_ignore(s, table, rows, conflict)


def test_rows_inserted_through_the_driver_are_stored_exactly_as_through_sqlalchemy(
        sqlite_copy: Callable[[str], Services], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = sqlite_copy("fast.db"), sqlite_copy("slow.db")
    for table, rows, conflict in _rows():
        assert _insert(fast, table, rows, conflict) == [tuple(r[c] for c in conflict) for r in rows]
    with monkeypatch.context() as m:
        m.setattr(driver, "_plan", lambda *args: None)  # every statement through SQLAlchemy, as on PostgreSQL
        for table, rows, conflict in _rows():
            assert len(_insert(slow, table, rows, conflict)) == len(rows)
    for table, _, _ in _rows():
        name = table.__tablename__
        assert _stored(tmp_path / "fast.db", name) == _stored(tmp_path / "slow.db", name), name
    # and read back through SQLAlchemy as written: a moment in UTC, JSON as given, NULL as None
    with fast.session() as s:
        row = s.get(OutboxRow, "id-a")
        assert row is not None and row.created_at == NOW and row.payload["meeting"]["topics"] == ["astma", "ë"]
        assert row.payload["none"] is None and row.sent_at is None


def test_rows_sharing_their_moments_and_nulls_are_stored_as_through_sqlalchemy_row_by_row(
        sqlite_copy: Callable[[str], Services], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver processes a value once for the rows of a call that give the very same object (a chunk's
    ``created_at``, its NULLs): each row stores what SQLAlchemy stores for it, also where the moment that follows is
    equal but not the same object (another offset), or another moment altogether."""
    from datetime import UTC

    same_instant = NOW.astimezone(UTC)
    day = date(2025, 11, 12)
    moments = [NOW, NOW, same_instant, NOW, NOW.replace(second=16), None, NOW]
    rows = [_outbox(f"m{i}", created_at=at or NOW, sent_at=at, payload={"i": i}) for i, at in enumerate(moments)]
    changes = [{"obligation_key": f"k{i}", "change": "planned", "at": at or NOW, "old": None,
                "new": {"due_on": day.isoformat()}, "reason": "gepland", "actor": "engine"}
               for i, at in enumerate(moments)]
    fast, slow = sqlite_copy("fast.db"), sqlite_copy("slow.db")
    for services, through_sqlalchemy in ((fast, False), (slow, True)):
        with monkeypatch.context() as m:
            if through_sqlalchemy:
                m.setattr(driver, "_plan", lambda *args: None)
            assert len(_insert(services, OutboxRow, rows, ["key"])) == len(rows)
            assert len(_insert(services, ObligationChangeRow, changes, ["obligation_key", "change", "at"])) == len(
                changes)
    for table in ("outbox", "obligation_change"):
        assert _stored(tmp_path / "fast.db", table) == _stored(tmp_path / "slow.db", table), table
    with sqlite3.connect(tmp_path / "fast.db") as raw:
        sent = dict(raw.execute("SELECT key, sent_at FROM outbox").fetchall())
    assert [sent[f"m{i}"] for i in range(len(moments))] == [
        "2025-03-12 18:30:15.123456"] * 4 + ["2025-03-12 18:30:16.123456", None, "2025-03-12 18:30:15.123456"]


def test_only_the_rows_not_yet_stored_are_reported_new(sqlite_services: Services) -> None:
    assert _insert(sqlite_services, OutboxRow, [_outbox("a")], ["key"]) == [("a",)]
    assert _insert(sqlite_services, OutboxRow, [_outbox("a", subject="anders"), _outbox("b"), _outbox("b")],
                   ["key"]) == [("b",)]
    with sqlite_services.session() as s:
        assert s.get(OutboxRow, "id-a").subject == "Uitnodiging €"  # type: ignore[union-attr]  # the first stands


def test_a_row_the_database_refuses_is_refused_as_through_sqlalchemy_and_nothing_of_the_call_is_kept(
        sqlite_services: Services) -> None:
    """A step of a practice that is not registered breaks the foreign key: SQLAlchemy's IntegrityError, and the
    caller's transaction, rolled back, keeps nothing."""
    step = {"id": "s1", "agb_code": "09999999", "trigger": "hold_annual_conversation", "happened_at": NOW,
            "recorded_at": NOW, "actor": "officer", "details": {}, "reasons": [], "status": "pending",
            "waiting": None, "event_seq": None}
    with pytest.raises(sa.exc.IntegrityError), sqlite_services.transaction() as s:
        store.insert_ignore(s, OutboxRow, [_outbox("a")], ["key"])
        store.insert_ignore(s, TrajectoryStepRow, [step], ["id"])
    with sqlite_services.session() as s:
        assert s.get(OutboxRow, "id-a") is None


def _updates(services: Services) -> None:
    """A guarded update of an obligation (new dates, JSON, a moment), one that finds another version (nothing
    changed), and a review counted (a statement with a value of its own: ``changes + 1``)."""
    with services.transaction() as s:
        row = store.obligations(s, agb_code="01234567")[0]
        assert store.reschedule(s, row, row.obligation, notices_done=["invitation"], next_notice_on=date(2025, 10, 8),
                                now=NOW, actor="engine", reason="verzet") is not None
        assert store.mark_notices(s, row, ["invitation"], None, NOW) is None  # stale version: nothing written
        s.add(PracticeRow(agb_code="01234567", name="Huisartsenpraktijk De Linde"))
        s.flush()
        s.add(PracticeReviewRow(agb_code="01234567"))
        s.flush()
        review.touch(s, ["01234567"])
        assert driver.execute(s, review._TOUCH_ONE["scores"], {"code": "01234567"}) == 1
        assert driver.execute(s, review._TOUCH_ONE["scores"], {"code": "09999999"}) == 0


def test_updates_through_the_driver_store_exactly_what_sqlalchemy_stores_and_count_the_rows_they_change(
        sqlite_copy: Callable[[str], Services], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = sqlite_copy("fast.db"), sqlite_copy("slow.db")
    obligation = next(rows for table, rows, _ in _rows() if table is ObligationRow)
    _insert(fast, ObligationRow, obligation, ["key"])
    _updates(fast)
    with monkeypatch.context() as m:
        m.setattr(driver, "_plan", lambda *args: None)
        _insert(slow, ObligationRow, obligation, ["key"])
        _updates(slow)
    for name in ("obligation", "obligation_change", "practice_review"):
        assert _stored(tmp_path / "fast.db", name) == _stored(tmp_path / "slow.db", name), name
    changes, scores = _stored(tmp_path / "fast.db", "practice_review")[0][1:3]
    assert (changes, scores) == (1 + 1, 1), "a new review row counts 1; counted once more, and scores once"


def test_a_statement_called_without_a_value_it_requires_is_refused_as_sqlalchemy_refuses_it(
        sqlite_services: Services) -> None:
    """Not stored with NULL in its place: the statement goes to SQLAlchemy, which names the missing value."""
    with pytest.raises(sa.exc.StatementError, match="code"), sqlite_services.transaction() as s:
        driver.execute(s, review._TOUCH_ONE["changes"], {})


def _figures(services: Services, scores: list[IndicatorScore]) -> None:
    with services.transaction() as s:
        s.add(PracticeRow(agb_code="01234567", name="Huisartsenpraktijk De Linde"))
        s.flush()
        repo.save_scores(s, scores, source="cijfers.csv", sha256="0" * 64, at=NOW, actor="officer")


def test_an_imports_new_figures_are_stored_through_the_driver_exactly_as_through_sqlalchemy(
        sqlite_copy: Callable[[str], Services], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Written in one ``executemany`` (``driver.execute_many``): the same rows, the period's day as SQLAlchemy writes
    a date; and a figure given twice in one import refused as SQLAlchemy refuses it, nothing of it kept."""
    scores = [IndicatorScore(agb_code="01234567", programme=Programme.DM2, indicator=f"i{n}",
                             period_end=date(2024, 12, 31), numerator=n, denominator=40) for n in range(5)]
    fast, slow = sqlite_copy("fast.db"), sqlite_copy("slow.db")
    taken: list[bool] = []
    with monkeypatch.context() as m:
        execute_many = driver.execute_many
        m.setattr(driver, "execute_many", lambda *args: taken.append(execute_many(*args)) or taken[-1])
        _figures(fast, scores)
    assert taken == [True], "the new figures went through the driver"
    with monkeypatch.context() as m:
        m.setattr(driver, "_plan", lambda *args: None)
        _figures(slow, scores)
        with pytest.raises(sa.exc.IntegrityError) as through_sqlalchemy:
            _figures(sqlite_copy("slow-twice.db"), [scores[0], scores[0]])
    assert _stored(tmp_path / "fast.db", "indicator_score") == _stored(tmp_path / "slow.db", "indicator_score")
    assert [row[3] for row in _stored(tmp_path / "fast.db", "indicator_score")] == ["2024-12-31"] * 5
    with pytest.raises(sa.exc.IntegrityError) as through_driver:
        _figures(sqlite_copy("fast-twice.db"), [scores[0], scores[0]])
    assert type(through_driver.value.orig) is type(through_sqlalchemy.value.orig)
    assert _stored(tmp_path / "fast-twice.db", "indicator_score") == []
    assert _stored(tmp_path / "fast-twice.db", "indicator_import") == []


def test_a_value_its_type_refuses_is_refused_through_the_driver_as_through_sqlalchemy(
        sqlite_copy: Callable[[str], Services], monkeypatch: pytest.MonkeyPatch) -> None:
    """A text where a date belongs (a figure made without validation, an obligation's row): SQLAlchemy's
    ``StatementError`` with the type's own complaint, on both of the driver's paths, and nothing kept."""
    figure = IndicatorScore.model_construct(agb_code="01234567", programme=Programme.DM2, indicator="i",
                                            period_end="2024-12-31", numerator=1, denominator=2)
    obligation = next(rows for table, rows, _ in _rows() if table is ObligationRow)[0] | {"due_on": "2025-11-12"}
    refused: dict[str, list[tuple[type, type, str]]] = {}
    for way in ("driver", "sqlalchemy"):
        with monkeypatch.context() as m:
            if way == "sqlalchemy":
                m.setattr(driver, "_plan", lambda *args: None)
            services = sqlite_copy(f"{way}.db")
            for attempt in (partial(_figures, services, [figure]),
                            partial(_insert, services, ObligationRow, [obligation], ["key"])):
                with pytest.raises(sa.exc.StatementError) as raised:
                    attempt()
                refused.setdefault(way, []).append(
                    (type(raised.value), type(raised.value.orig), str(raised.value.orig)))
            with services.session() as s:
                assert s.get(PracticeRow, "01234567") is None and s.get(ObligationRow, "o1") is None
    assert refused["driver"] == refused["sqlalchemy"]
    assert refused["driver"][0][1] is TypeError and "date" in refused["driver"][0][2].lower()


# --- PostgreSQL: the inserts that return what they inserted, through psycopg's executemany ---------------------------


@pytest.fixture
def postgres(postgres_database: str) -> Iterator[Services]:
    from tests.conftest import _empty_postgres

    _empty_postgres(postgres_database)
    services = Services.open(postgres_database, upgrade=False)
    yield services
    services.db.dispose()


def _stored_pg(services: Services, table: str) -> list[tuple[Any, ...]]:
    with services.db.connect() as c:  # as the server keeps them, read without SQLAlchemy's result processing
        return sorted(c.exec_driver_sql(f'SELECT * FROM "{table}"').all(), key=repr)


@pytest.mark.postgres
def test_rows_inserted_through_psycopg_are_stored_on_postgresql_exactly_as_through_sqlalchemy(
        postgres: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import _empty_postgres

    stored: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    taken: list[bool] = []
    returning_each = driver.returning_each

    def watched(*args: Any) -> list[bool] | None:
        found = returning_each(*args)
        taken.append(found is not None)
        return found

    for way in ("sqlalchemy", "driver"):
        _empty_postgres(postgres.db.url.render_as_string(hide_password=False))
        taken.clear()
        with monkeypatch.context() as m:
            m.setattr(driver, "returning_each", watched)
            if way == "sqlalchemy":
                m.setattr(driver, "_named_plan", lambda *args: None)
            for table, rows, conflict in _rows():
                assert _insert(postgres, table, rows, conflict) == [tuple(r[c] for c in conflict) for r in rows]
            assert taken == [way == "driver"] * len(_rows())
        stored[way] = {table.__tablename__: _stored_pg(postgres, table.__tablename__) for table, _, _ in _rows()}
    assert stored["driver"] == stored["sqlalchemy"]
    with postgres.session() as s:  # read back through SQLAlchemy as written
        row = s.get(OutboxRow, "id-a")
        assert row is not None and row.created_at == NOW and row.payload["meeting"]["topics"] == ["astma", "ë"]
        assert row.payload["none"] is None and row.sent_at is None


@pytest.mark.postgres
def test_only_the_rows_not_yet_stored_are_reported_new_on_postgresql(postgres: Services) -> None:
    assert _insert(postgres, OutboxRow, [_outbox("a")], ["key"]) == [("a",)]
    assert _insert(postgres, OutboxRow, [_outbox("a", subject="anders", id="id-a2"), _outbox("b"), _outbox("b")],
                   ["key"]) == [("b",)]
    with postgres.session() as s:
        assert s.get(OutboxRow, "id-a").subject == "Uitnodiging €"  # type: ignore[union-attr]  # the first stands
        assert s.get(OutboxRow, "id-a2") is None


@pytest.mark.postgres
def test_a_row_postgresql_refuses_through_psycopg_is_refused_as_through_sqlalchemy_and_nothing_is_kept(
        postgres: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """A message without a subject, after one the server takes, in the same call: SQLAlchemy's IntegrityError both
    ways (the same error of the server), and the caller's transaction, rolled back, keeps nothing."""
    obligation = next(rows for table, rows, _ in _rows() if table is ObligationRow)[0]
    refused = []
    for way in ("driver", "sqlalchemy"):
        with monkeypatch.context() as m:
            if way == "sqlalchemy":
                m.setattr(driver, "_named_plan", lambda *args: None)
            with pytest.raises(sa.exc.IntegrityError) as raised, postgres.transaction() as s:
                store.insert_ignore(s, ObligationRow, [obligation], ["key"])
                store.insert_ignore(s, OutboxRow, [_outbox("a"), _outbox("b", subject=None)], ["key"])
            refused.append(type(raised.value.orig))
        with postgres.session() as s:
            assert s.get(OutboxRow, "id-a") is None and s.get(ObligationRow, "o1") is None
    assert refused[0] is refused[1]
