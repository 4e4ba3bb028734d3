"""Following up what conversations left behind: goals judged on their day, agreements past due reminded once, and
the lines in which the invitation, the board and the views show them.

Seed, section 1: the annual conversation sets joint goals and makes agreements, "de gemaakte afspraken worden in
een verslag vastgelegd en in een volgend gesprek geëvalueerd"; the board is told of the progress of an improvement
trajectory. What the goals and agreements say is decided by ``domain.rules.goals`` and ``domain.rules.agreements``;
this module finds what is due, stores the outcome and queues the messages.

Invariants:
- A goal is judged once, on the first sweep on or after its ``by`` date, under the policy in force then; the
  judgement and its messages (to the practice and its officers) are stored in one transaction, keyed by the goal,
  so a rerun or a second worker adds nothing.
- An open agreement past its due date reminds its owner once (the practice's own address, or the practice's
  officers for the care group's agreements); the reminder is marked with the messages in one transaction. An
  agreement whose support was given (an outcome proposed) is not late: it waits for its evaluation.
- Nothing here reads the clock: the moment comes in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol, TypeVar

from sqlmodel import Session

from domain.clock import as_amsterdam
from domain.conversations import Goal
from domain.indicators import IndicatorFigures
from domain.messages import OutboxMessage
from domain.registry import Programme, Role
from domain.rules.goals import judge_goal
from domain.vocabulary import GOAL_STATUS_NAMES_NL
from flows.services.agreements import agreement_line, goal_line, open_agreement_lines
from flows.services.context import Services
from flows.services.duties import DEFAULT_BATCH, DutyReport
from flows.services.officers import officers_of
from notifications.compose import agreement_overdue_messages, goal_judged_messages
from storage import goals as goal_store
from storage import repository as repo


def _figures(s: Session, services: Services, codes: Sequence[str]) -> dict[str, IndicatorFigures]:
    shared = repo.reference_figures(s, services.policy.figures_count_after_days)
    scores = repo.load_scores(s, list(codes)) if codes else {}
    return {code: shared.with_scores(scores.get(code, [])) for code in codes}


class _Keyed(Protocol):
    @property
    def id(self) -> str: ...


_Due = TypeVar("_Due", bound=_Keyed)


def _chunks(services: Services, due: Callable[[Session, str | None], Sequence[_Due]]
            ) -> Iterator[tuple[Session, Sequence[_Due]]]:
    """What ``due`` finds, a chunk at a time (by id, after the last one), each in a transaction of its own that
    commits once the caller is done with it."""
    after: str | None = None
    while True:
        with services.transaction() as s:
            found = due(s, after)
            if not found:
                return
            after = found[-1].id
            yield s, found


def _queue(s: Session, messages: list[OutboxMessage], report: DutyReport, now: datetime) -> None:
    new = repo.queue_messages(s, messages, created_at=now)
    report.queued.update(m.kind for m in messages if m.key in new)


def judge_goals_due(services: Services, now: datetime, report: DutyReport, *, chunk: int = DEFAULT_BATCH) -> None:
    """Judge every open goal whose day has come, ``chunk`` goals per transaction; tell the practice and its
    officers."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    on = now.date()
    for s, due in _chunks(services, lambda s, after: goal_store.goals_due(s, on, after_id=after, limit=chunk)):
        codes = sorted({g.agb_code for g in due})
        practices = {p.agb_code: p for p in repo.practices_of(s, codes)}
        figures = _figures(s, services, codes)
        officers = officers_of(s, codes, repo.contacts(s, Role.OFFICER), now)
        care_group = repo.care_group_name(s)
        messages: list[OutboxMessage] = []
        for goal in due:
            judgement = judge_goal(Goal(programme=Programme(goal.programme), indicator=goal.indicator,
                                        target=goal.target, by=goal.by), figures[goal.agb_code], on,
                                   services.policy)
            if not goal_store.judge(s, goal, judgement, on, now):
                continue  # another worker judged it first; its messages are queued under the same keys
            low, high = judgement.interval or (None, None)
            line = goal_line(replace(goal, status=judgement.status.value, judged_on=on, score=judgement.score,
                                     numerator=judgement.numerator, denominator=judgement.denominator,
                                     period_end=judgement.period_end, interval_low=low, interval_high=high,
                                     reason=judgement.reason), figures[goal.agb_code], on)
            practice = practices.get(goal.agb_code)
            if practice is not None:
                messages += goal_judged_messages(line, judgement.reason, goal.set_on, goal.id, practice,
                                                 officers.get(goal.agb_code, ()), care_group)
            report.line(goal.agb_code, f"doel {goal.programme}/{goal.indicator} beoordeeld",
                        f"{GOAL_STATUS_NAMES_NL[judgement.status]}: {judgement.reason}")
        _queue(s, messages, report, now)


def remind_overdue_agreements(services: Services, now: datetime, report: DutyReport, *,
                              chunk: int = DEFAULT_BATCH) -> None:
    """Remind the owner of every open agreement past its due date, once, ``chunk`` agreements per transaction."""
    now = as_amsterdam(now)
    on = now.date()
    for s, due in _chunks(services, lambda s, after: repo.overdue_agreements(s, on, after_id=after, limit=chunk)):
        codes = sorted({a.agb_code for a in due})
        practices = {p.agb_code: p for p in repo.practices_of(s, codes)}
        lines = {line.id: line for lines in open_agreement_lines(s, codes).values() for line in lines}
        care_group_owned = sorted({a.agb_code for a in due if a.owner != "practice"})
        officers = officers_of(s, care_group_owned, repo.contacts(s, Role.OFFICER), now)
        care_group = repo.care_group_name(s)
        messages: list[OutboxMessage] = []
        for agreement in due:
            practice = practices.get(agreement.agb_code)
            line = lines.get(agreement.id) or agreement_line(agreement)
            if line.proposed_outcome is not None:
                continue  # the support it asked for was given: the next conversation evaluates, nobody is late
            if practice is None or not repo.mark_reminded(s, agreement, on):
                continue
            messages += agreement_overdue_messages(line, practice, officers.get(agreement.agb_code, ()),
                                                   care_group)
            report.line(agreement.agb_code, "afspraak over tijd",
                        f"{agreement.text} (uiterlijk {agreement.due}); eigenaar herinnerd")
        _queue(s, messages, report, now)


def follow_up(services: Services, now: datetime, report: DutyReport, *, chunk: int = DEFAULT_BATCH) -> None:
    """Everything conversations left behind that falls due at ``now``: goals judged, agreements past due reminded."""
    judge_goals_due(services, now, report, chunk=chunk)
    remind_overdue_agreements(services, now, report, chunk=chunk)

