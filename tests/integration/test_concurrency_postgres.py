"""Two processes evaluating the same practice at once cannot both transition it: proven with two
real connections to PostgreSQL (each ``Services`` has its own engine and connection pool)."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlmodel import Session

from domain.clock import AMSTERDAM
from domain.indicators import IndicatorFigures
from domain.trajectory import TrajectoryState, TrajectoryTransitioned, Trigger
from flows.services import evaluation, queries
from flows.services.context import Services
from flows.testing.scenario import Scenario
from statemachines.trajectory import GuardContext, fire
from storage import repository as repo
from tests.concurrency import second_waits_for_first

pytestmark = pytest.mark.postgres

LINDE = "01234567"
DESCRIPTION = f"""
care_group: Cohaesie
board: [B. de Vries <bestuur@cohaesie.example>, C. Smit <c.smit@cohaesie.example>]
practices:
  "{LINDE}": {{name: De Linde, programmes: {{dm2: 2023-01-01}}}}
"""
MOMENT = datetime(2024, 4, 8, 7, 0, tzinfo=AMSTERDAM)


def flagged_figures(services: Services) -> IndicatorFigures:
    sc = Scenario.build(services, DESCRIPTION)
    sc.conversation(LINDE, "start", "2024-01-15")
    sc.scores("2024-03-31", {LINDE: {"dm2/hba1c_measured": 60, "dm2/bp_measured": 95}})
    with services.session() as s:
        return repo.reference_figures(s).with_scores(repo.load_scores(s, [LINDE])[LINDE])


def events(services: Services) -> list[TrajectoryTransitioned]:
    return queries.all_events(services)


def test_second_writer_of_the_same_version_loses_even_while_the_first_has_not_committed(
    two_workers: tuple[Services, Services],
) -> None:
    a, b = two_workers
    figures = flagged_figures(a)
    with Session(a.db) as session_a, Session(b.db) as session_b:
        view_a, view_b = repo.load_view(session_a, LINDE), repo.load_view(session_b, LINDE)
        assert view_a.version == view_b.version == 1
        practice = repo.get_practice(session_a, LINDE)
        assert practice is not None
        ctx = GuardContext(on=MOMENT.date(), policy=a.policy, figures=figures, enrolments=practice.programmes,
                           view=view_a)
        fired_a = fire(view_a, Trigger.FLAG_DEVIATION, at=MOMENT, actor="worker-a", ctx=ctx)
        fired_b = fire(view_b, Trigger.FLAG_DEVIATION, at=MOMENT, actor="worker-b", ctx=ctx)
        repo.append_transition(session_a, fired_a.event, view_a.apply(fired_a.event))  # holds the row lock

        outcome: list[BaseException | None] = []

        def second_writer() -> None:
            try:
                repo.append_transition(session_b, fired_b.event, view_b.apply(fired_b.event))
                session_b.commit()
                outcome.append(None)
            except BaseException as exc:
                session_b.rollback()
                outcome.append(exc)

        second_waits_for_first(second_writer, session_a, "the second writer must wait for the first one's row lock")
    assert len(outcome) == 1 and isinstance(outcome[0], repo.ConcurrentUpdateError)
    stored = events(a)
    assert [(e.trigger, e.actor) for e in stored] == [("hold_start_conversation", "scenario"),
                                                      ("flag_deviation", "worker-a")]
    assert queries.replay_practice(a, LINDE).agrees


def test_two_workers_evaluating_at_once_escalate_and_notify_the_board_once(
    two_workers: tuple[Services, Services],
) -> None:
    a, b = two_workers
    sc = Scenario.build(a, DESCRIPTION)
    sc.conversation(LINDE, "start", "2024-01-15")
    sc.scores("2024-03-31", {LINDE: {"dm2/hba1c_measured": 60}})
    sc.run("2024-04-08")
    sc.conversation(LINDE, "extra", "2024-04-29", plan={"dm2/hba1c_measured": 85})
    sc.scores("2025-03-31", {LINDE: {"dm2/hba1c_measured": 62}})
    moment = datetime(2025, 5, 5, 7, 0, tzinfo=AMSTERDAM)

    for attempt in range(5):  # repeat the race: each round both workers start together
        barrier = threading.Barrier(2)
        results: dict[str, object] = {}

        def worker(name: str, services: Services, at: datetime,
                   barrier: threading.Barrier = barrier, results: dict[str, object] = results) -> None:
            barrier.wait()
            try:
                results[name] = evaluation.run_due(services, at, actor=name)
            except BaseException as exc:  # pragma: no cover - reported below
                results[name] = exc

        at = moment.replace(minute=attempt)
        threads = [threading.Thread(target=worker, args=(n, s, at)) for n, s in (("a", a), ("b", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not any(isinstance(r, BaseException) for r in results.values()), results

    triggers = [e.trigger for e in events(a)]
    assert triggers.count("escalate") == 1
    messages = queries.outbox_messages(a)
    board = [m for m in messages if m.kind == "board_escalation"]
    assert sorted(m.recipient_email or "" for m in board) == ["bestuur@cohaesie.example", "c.smit@cohaesie.example"]
    assert len(messages) == 2
    assert sc.state(LINDE) is TrajectoryState.UNDERPERFORMER_POLICY
    assert queries.replay_practice(a, LINDE).agrees
