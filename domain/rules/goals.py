"""The goals of an improvement plan, judged on their own day against the figures.

Seed, section 1: the extra conversation formulates a joint improvement plan ("een gezamenlijk verbeterplan/-traject
formuleren"), and the annual conversation sets joint goals at practice level ("gezamenlijke doelstellingen op
praktijkniveau"). A goal names an indicator, a target and the day by which it should be reached; on that day it is
judged against the indicator's latest figure known then.

Invariants:
- A goal is judged once, on or after its ``by`` date, by the latest figure whose period ended on or before that
  day and that counted by the day of judging (``IndicatorFigures.known_until``): a figure of a later period
  says nothing about the goal's day.
- Met means the figure reaches the target (every indicator in the catalogue counts higher as better). The 95%
  Wilson interval goes with the figure, so the officers see how firm it is; the judgement is on the figure.
- A figure over fewer than ``Policy.min_denominator`` patients is not judged (too few patients say little; VIPLive
  shows no group under 10); no figure at all is said as such. Neither is "not met".
- A goal's id is derived from the conversation that set it and its place there: recording the conversation again
  gives the same ids.
- Pure: no clock, no database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from domain.conversations import Goal
from domain.indicator_views import wilson_interval
from domain.indicators import IndicatorFigures, IndicatorKey
from domain.policy import Policy
from domain.vocabulary import GoalStatus

_NAMESPACE = uuid.UUID("7a1c2e4b-3d5f-5a6b-8c9d-1e2f3a4b5c6d")


def goal_id(conversation_id: str, position: int) -> str:
    """The stable id of the goal at ``position`` in the plan of ``conversation_id`` (12 hex digits)."""
    return uuid.uuid5(_NAMESPACE, f"{conversation_id}:goal:{position}").hex[:12]


def _pct(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") + "%"


@dataclass(frozen=True)
class GoalJudgement:
    """A goal's state on a day, with the figure it was judged by (none for ``no_figure``) and why, in Dutch."""

    status: GoalStatus
    reason: str
    score: float | None = None
    numerator: int | None = None
    denominator: int | None = None
    period_end: date | None = None
    interval: tuple[float, float] | None = None


def judge_goal(goal: Goal, figures: IndicatorFigures, on: date, policy: Policy) -> GoalJudgement:
    """Judge ``goal`` on ``on`` (its ``by`` date or later) by the latest figure of its indicator whose period ended
    by the goal's day and that counts on ``on``; ``status`` is ``met``, ``not_met``, ``not_judged`` or
    ``no_figure``."""
    key = IndicatorKey(programme=goal.programme, indicator=goal.indicator)
    score = figures.score_on_or_before(key, min(goal.by, figures.known_until(on)))
    if score is None:
        return GoalJudgement(GoalStatus.NO_FIGURE, f"{key}: geen cijfer bekend over een periode tot en met "
                                                   f"{goal.by.isoformat()}; doel {_pct(goal.target)} niet te "
                                                   "beoordelen")
    low, high = wilson_interval(score.numerator, score.denominator)
    measured = (f"{_pct(score.score)} ({score.numerator}/{score.denominator}, 95%-interval {_pct(low)}-{_pct(high)}) "
                f"over de periode tot en met {score.period_end.isoformat()}")
    if score.denominator < policy.min_denominator:
        status = GoalStatus.NOT_JUDGED
        why = f"{key}: {measured}; te weinig patiënten om te beoordelen (minder dan {policy.min_denominator})"
    elif score.score >= goal.target:
        status, why = GoalStatus.MET, f"{key}: {measured} haalt het doel {_pct(goal.target)}"
    else:
        status = GoalStatus.NOT_MET
        why = (f"{key}: {measured} blijft onder het doel {_pct(goal.target)} "
               f"({goal.target - score.score:.1f} procentpunt te weinig)".replace(".", ","))
    return GoalJudgement(status, why, round(score.score, 2), score.numerator, score.denominator, score.period_end,
                         (low, high))
