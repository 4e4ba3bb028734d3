"""History brought in: a backfill over two years of a care group's facts takes the same steps, at the same
moments and for the same reasons, as running the same facts live, every scheduled moment as it came; and it
sends nothing of the past.

The care group, from January 2024 to the end of 2025: De Linde is flagged, agrees a plan, stays far behind, is
escalated and the board hears how it goes every quarter; De Eik dips and
recovers; Het Anker leaves. Figures are published 30 days after a quarter and count from 35 days after it
(``figures_count_after_days``), live and in the backfill alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import SQLModel

from domain.clock import AMSTERDAM, FixedClock
from domain.messages import OutboxMessage, about
from domain.obligations import MEETING_KINDS
from domain.policy import Policy
from flows.schedule import SCHEDULE, fire_times
from flows.services import evaluation, queries
from flows.services.backfill import NOT_WALKED, backfill
from flows.services.context import Services
from flows.services.outbox import dispatch_outbox
from flows.services.settings import Settings
from flows.testing.scenario import Scenario
from notifications.channels import EmlFolderChannel
from storage import obligations as store
from storage import repository as repo
from storage.tables import OutboxRow

LINDE, EIK, ANKER = "01234567", "07654321", "01112223"
DESCRIPTION = f"""
care_group: Cohaesie
officers: [A. Jansen <a.jansen@cohaesie.example>, P. de Boer <p.deboer@cohaesie.example>]
board: [B. de Vries <bestuur@cohaesie.example>]
practices:
  "{LINDE}": {{name: De Linde, programmes: {{dm2: 2023-01-01}},
              people: {{gp_principal: "C. Bakker <c.bakker@delinde.example>"}}}}
  "{EIK}": {{name: De Eik, programmes: {{dm2: 2023-01-01}}}}
  "{ANKER}": {{name: Het Anker, programmes: {{dm2: 2023-01-01, copd: 2023-01-01}}}}
"""
GOOD = {"dm2/hba1c_measured": 95, "dm2/bp_measured": 95, "dm2/foot_exam": 85}
START, UNTIL = date(2024, 1, 1), datetime(2026, 1, 1, 0, 0, tzinfo=AMSTERDAM)  # two years
POLICY = Policy(figures_count_after_days=35)
QUARTERS = ["2023-12-31", "2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31", "2025-03-31", "2025-06-30",
            "2025-09-30"]
LINDE_HBA1C = [94, 60, 61, 62, 63, 64, 64, 65]
EIK_HBA1C = [94, 70, 91, 93, 94, 95, 95, 95]


@dataclasses.dataclass(frozen=True)
class Fact:
    """Something that happened, and when an officer entered it in a live care group."""

    recorded: datetime
    record: Callable[[Scenario, bool], Any]


def facts() -> list[Fact]:
    def conversation(agb: str, kind: str, on: str, plan: dict[str, float] | None = None) -> Fact:
        day = date.fromisoformat(on)
        return Fact(datetime.combine(day, time(16, 0), tzinfo=AMSTERDAM),
                    lambda sc, live: sc.conversation(agb, kind, day, plan=plan))

    def figures(i: int) -> Fact:
        end = date.fromisoformat(QUARTERS[i])
        values = {LINDE: {**GOOD, "dm2/hba1c_measured": LINDE_HBA1C[i]},
                  EIK: {**GOOD, "dm2/hba1c_measured": EIK_HBA1C[i]}, ANKER: GOOD}
        return Fact(datetime.combine(end + timedelta(days=30), time(9, 0), tzinfo=AMSTERDAM),
                    lambda sc, live: sc.scores(end, values))

    def leave(agb: str, on: str) -> Fact:
        day = date.fromisoformat(on)
        return Fact(datetime.combine(day, time(16, 0), tzinfo=AMSTERDAM), lambda sc, live: sc.leave(agb, day))

    return sorted([
        conversation(LINDE, "start", "2024-01-15"), conversation(EIK, "start", "2024-01-16"),
        conversation(ANKER, "start", "2024-01-17"), *(figures(i) for i in range(len(QUARTERS))),
        conversation(LINDE, "extra", "2024-05-21", plan={"dm2/hba1c_measured": 85}),
        conversation(EIK, "extra", "2024-05-22"),
        conversation(LINDE, "annual", "2024-11-12"), conversation(ANKER, "annual", "2024-11-13"),
        leave(ANKER, "2025-02-14"),
    ], key=lambda f: f.recorded.timestamp())


def schedule_moments() -> list[tuple[datetime, Any]]:
    walked = [d for d in SCHEDULE if d.name not in NOT_WALKED]
    return sorted(((m, i, d) for i, d in enumerate(walked) for m in fire_times(d, datetime.combine(
        START, time(0), tzinfo=AMSTERDAM), UNTIL)), key=lambda x: (x[0].timestamp(), x[1]))  # type: ignore[misc]


def live(services: Services, settings: Settings) -> None:
    """Every scheduled moment as it came, each fact entered on its day as it happened."""
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sc.live = False  # decided as in production: live because the engine runs every working day
    pending = facts()
    for moment, _, duty in schedule_moments():
        while pending and pending[0].recorded.timestamp() <= moment.timestamp():
            fact = pending.pop(0)
            sc.clock.set(fact.recorded)
            fact.record(sc, False)
        sc.clock.set(moment)
        report = duty.run(services, moment, settings)
        assert not report.failures, (duty.name, moment, report.failures)


def brought_in(services: Services, settings: Settings, *, trajectories_only: bool = False) -> None:
    """The same facts all entered after the fact, then the backfill (of the trajectories alone, as a what-if
    walks: ``trajectories_only``)."""
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sc.live = False
    typed_in = datetime(2026, 1, 5, 10, 0, tzinfo=AMSTERDAM)
    for fact in facts():
        sc.clock = FixedClock(typed_in)
        fact.record(sc, False)
    report = backfill(services, settings, START, UNTIL, now=typed_in, trajectories_only=trajectories_only)
    assert not report.failures, report.failures


def trajectories(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every event but when it was written (and when its fact was typed in): those differ, by design."""
    with services.session() as s:
        return {agb: [(e.seq, e.trigger.value, e.at, e.from_state.value, e.to_state.value, e.reasons,
                       {k: v for k, v in e.details.items() if k != "fact_recorded_at"})
                      for e in repo.load_events(s, agb)] for agb in (LINDE, EIK, ANKER)}


def _message(row: OutboxRow) -> OutboxMessage:
    return OutboxMessage(key=row.key, kind=row.kind, agb_code=row.agb_code, recipient_name=row.recipient_name,
                         recipient_email=row.recipient_email, recipient_role=row.recipient_role,
                         subject=row.subject, payload=dict(row.payload))


def obligations(services: Services) -> list[tuple[Any, ...]]:
    with services.session() as s:
        return sorted((o.key, o.due_on, o.planned_on, o.status, o.closed_on) for o in store.obligations(s))


def empty(services: Services) -> None:
    with services.db.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    yield Settings(home=tmp_path / "var")


def test_a_backfill_takes_the_same_steps_at_the_same_moments_as_living_through_it_and_sends_nothing(
        db_url: str, settings: Settings, tmp_path: Path) -> None:
    services = Services.open(db_url, POLICY, upgrade=False)
    try:
        live(services, settings)
        lived, lived_obligations = trajectories(services), obligations(services)
        empty(services)
        brought_in(services, settings)
        replayed, replayed_obligations = trajectories(services), obligations(services)

        assert [e[1] for e in lived[LINDE]] == [
            "hold_start_conversation", "flag_deviation", "agree_improvement_plan", "hold_annual_conversation",
            "escalate", "report_progress", "report_progress"]
        assert [e[1] for e in lived[EIK]] == ["hold_start_conversation", "flag_deviation", "recover"]
        assert [e[1] for e in lived[ANKER]] == ["hold_start_conversation", "hold_annual_conversation", "leave"]
        for agb in (LINDE, EIK, ANKER):
            assert replayed[agb] == lived[agb], agb  # same triggers, moments and reasons, row for row
        assert replayed_obligations == lived_obligations

        # nothing of the past is sent: every message the backfill queued is about what lies before --until (no
        # conversation of this care group is planned after it) and historic, and a dispatch after it sends none
        messages = queries.outbox_messages(services)
        assert messages and {m.status for m in messages} == {"historic"}
        assert {m.kind for m in messages} >= {"board_escalation", "board_progress", "board_digest",
                                              "conversation_invitation", "conversation_reminder"}
        sent = dispatch_outbox(services, EmlFolderChannel(tmp_path / "outbox"), UNTIL + timedelta(hours=8),
                               mail_from="kwaliteit@cohaesie.example")
        assert sent.sent == [] and not list((tmp_path / "outbox").glob("*.eml"))
        assert all(queries.replay_practice(services, agb).agrees for agb in (LINDE, EIK, ANKER))
        with services.session() as s:
            assert repo.engine_horizon(s) is not None
        assert len(queries.all_events(services)) == sum(len(v) for v in lived.values())
    finally:
        services.db.dispose()


def test_a_what_if_walk_of_the_trajectories_alone_takes_every_step_of_the_whole_walk_and_queues_no_notice(
        db_url: str, settings: Settings) -> None:
    """What a what-if walks on its copies (``trajectories_only``): the sweep alone, without its notices. De Linde
    is still flagged, escalated and reported on, De Eik recovers and Het Anker leaves, at the same moments for the
    same reasons as in a walk of every duty; the practices' duties are planned alike; of the messages only those
    that come with a step (the board's) or a goal judged are there, no invitation, reminder or digest."""
    services = Services.open(db_url, POLICY, upgrade=False)
    try:
        brought_in(services, settings)
        whole, whole_obligations = trajectories(services), obligations(services)
        whole_kinds = {m.kind for m in queries.outbox_messages(services)}
        empty(services)
        brought_in(services, settings, trajectories_only=True)

        assert trajectories(services) == whole
        assert [e[1] for e in whole[LINDE]][-3:] == ["escalate", "report_progress", "report_progress"]
        meetings = {k.value for k in MEETING_KINDS}
        assert obligations(services) == [o for o in whole_obligations if o[0].split(":")[0] not in meetings]
        kinds = {m.kind for m in queries.outbox_messages(services)}
        assert kinds == {"board_escalation", "board_progress", "goal_judged"}
        assert whole_kinds > kinds | {"conversation_invitation", "conversation_reminder", "board_digest"}
    finally:
        services.db.dispose()


def test_an_invitation_to_a_conversation_still_ahead_of_the_backfill_goes_out_the_past_does_not(
        sqlite_services: Services, settings: Settings, tmp_path: Path) -> None:
    """Backfilled until 15 October 2025: De Linde's annual conversation is planned for 29 October, its invitation
    queued on 1 October. It concerns what lies ahead, so it is queued as usual and the next dispatch sends it;
    everything about the past stays historic."""
    services = dataclasses.replace(sqlite_services, policy=POLICY)
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sc.live = False
    sc.clock = FixedClock(datetime(2025, 10, 15, 10, 0, tzinfo=AMSTERDAM))
    for fact in facts():
        if fact.recorded < datetime(2025, 10, 15, tzinfo=AMSTERDAM):
            fact.record(sc, False)
    until = datetime(2025, 10, 15, 6, 0, tzinfo=AMSTERDAM)
    report = backfill(services, settings, START, until, now=until)
    assert not report.failures and report.historic > 0

    messages = queries.outbox_messages(services)
    ahead = [m for m in messages if m.status == "pending"]
    assert ahead and {m.kind for m in ahead} == {"conversation_invitation"}
    assert {m.payload["conversation"]["start"][:10] for m in ahead} == {"2025-10-29"}
    historic = [about(_message(m)) for m in messages if m.status == "historic"]
    assert historic and all(moment is None or moment < until for moment in historic)
    sent = dispatch_outbox(services, EmlFolderChannel(tmp_path / "outbox"), until + timedelta(hours=2),
                           mail_from="kwaliteit@cohaesie.example")
    assert sorted(sent.sent) == sorted(m.key for m in ahead)


def test_a_backfill_into_the_future_or_over_what_the_engine_judged_is_refused(
        sqlite_services: Services, settings: Settings) -> None:
    from flows.services.backfill import BackfillError

    Scenario.build(sqlite_services, DESCRIPTION, start="2024-01-01")
    now = datetime(2025, 1, 6, 9, 0, tzinfo=AMSTERDAM)
    with pytest.raises(BackfillError, match="ligt na nu"):
        backfill(sqlite_services, settings, START, now + timedelta(days=1), now=now)
    evaluation.run_due(sqlite_services, datetime(2024, 6, 3, 7, 0, tzinfo=AMSTERDAM))  # the engine judged June 2024
    with pytest.raises(BackfillError, match=r"al geoordeeld tot 2024-06-03 07:00.*--from 2024-06-04"):
        backfill(sqlite_services, settings, START, now, now=now)
    assert backfill(sqlite_services, settings, START, datetime(2024, 5, 1, tzinfo=AMSTERDAM), now=now).done_already
    assert not backfill(sqlite_services, settings, date(2024, 6, 4), datetime(2024, 7, 1, tzinfo=AMSTERDAM),
                        now=now).failures
