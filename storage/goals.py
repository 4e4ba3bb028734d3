"""The goals set in conversations, and their judgement: stored when the conversation is, judged once.

Invariants:
- A goal row is written with the conversation that set it (same transaction), ``open``.
- A judgement is written with ``WHERE status = 'open'``: two sweeps judging the same goal leave one judgement; the
  loser learns it lost (``judge`` returns False) and queues nothing of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.conversations import Goal
from domain.rules.goals import GoalJudgement, goal_id
from storage.read_models import StoredConversation, StoredGoal, value_of
from storage.tables import GoalRow


def add_goals(session: Session, conversation: StoredConversation, goals: Sequence[Goal]) -> list[str]:
    """Store the goals a conversation set (ids derived from the conversation and their place)."""
    ids = [goal_id(conversation.id, position) for position in range(len(goals))]
    for position, (goal, key) in enumerate(zip(goals, ids, strict=True)):
        session.add(GoalRow(id=key, agb_code=conversation.agb_code, conversation_id=conversation.id,
                            position=position, programme=goal.programme.value, indicator=goal.indicator,
                            target=goal.target, by=goal.by, set_on=conversation.held_on,
                            recorded_at=conversation.recorded_at))
    session.flush()
    return ids


def goals_of(session: Session, agb_code: str | None = None, *, set_since: date | None = None) -> list[StoredGoal]:
    """The goals of a practice (or of all), set on or after ``set_since``, by the day they were set and place."""
    query = select(GoalRow)
    if agb_code is not None:
        query = query.where(col(GoalRow.agb_code) == agb_code)
    if set_since is not None:
        query = query.where(col(GoalRow.set_on) >= set_since)
    order = (col(GoalRow.agb_code), col(GoalRow.set_on), col(GoalRow.conversation_id), col(GoalRow.position))
    return [value_of(StoredGoal, r) for r in session.exec(query.order_by(*order))]


def goals_of_practices(session: Session, codes: Sequence[str], *, set_since: date | None = None
                       ) -> dict[str, list[StoredGoal]]:
    """Per practice of ``codes``, its goals (set on or after ``set_since``, when given; one query for a chunk of
    practices)."""
    if not codes:
        return {}
    query = select(GoalRow).where(col(GoalRow.agb_code).in_(list(codes)))
    if set_since is not None:
        query = query.where(col(GoalRow.set_on) >= set_since)
    out: dict[str, list[StoredGoal]] = {}
    order = (col(GoalRow.agb_code), col(GoalRow.set_on), col(GoalRow.conversation_id), col(GoalRow.position))
    for row in session.exec(query.order_by(*order)):
        out.setdefault(row.agb_code, []).append(value_of(StoredGoal, row))
    return out


def goals_due(session: Session, on: date, *, after_id: str | None = None, limit: int = 500) -> list[StoredGoal]:
    """Open goals whose day has come (``by`` on or before ``on``), by id, ``limit`` from after ``after_id``."""
    query = select(GoalRow).where(col(GoalRow.status) == "open", col(GoalRow.by) <= on)
    if after_id is not None:
        query = query.where(col(GoalRow.id) > after_id)
    return [value_of(StoredGoal, r) for r in session.exec(query.order_by(col(GoalRow.id)).limit(limit))]


def judge(session: Session, goal: StoredGoal, judgement: GoalJudgement, on: date, at: datetime) -> bool:
    """Record ``judgement`` of ``goal`` on ``on`` (recorded ``at``), if it is still open; False when another
    writer judged it first."""
    t = GoalRow.__table__  # type: ignore[attr-defined]
    low, high = judgement.interval or (None, None)
    result = session.execute(sa.update(t).where(t.c.id == goal.id, t.c.status == "open").values(
        status=judgement.status.value, judged_on=on, judged_at=at, score=judgement.score,
        numerator=judgement.numerator, denominator=judgement.denominator, period_end=judgement.period_end,
        interval_low=low, interval_high=high, reason=judgement.reason))
    return bool(result.rowcount)  # type: ignore[attr-defined]
