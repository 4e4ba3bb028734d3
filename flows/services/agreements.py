"""A practice's agreements and goals as messages and views show them: an open agreement with the outcome the support
given for it proposes, a goal with the figure it was judged by or, still open, its latest figure.

Read-only: nothing here changes a row. Used by the invitation (``flows.services.due_notices``), the board's notices
(``flows.services.steps``), the follow-up (``flows.services.follow_up``) and the views (``flows.services.queries``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session

from domain.indicator_views import wilson_interval
from domain.indicators import IndicatorFigures, IndicatorKey
from domain.registry import Programme
from domain.rules.agreements import LinkedSupport, proposed_outcome
from domain.vocabulary import GoalStatus
from notifications.payloads import AgreementLine, GoalLine, Visit
from storage import goals as goal_store
from storage import repository as repo
from storage import support as support_store
from storage.read_models import StoredAgreement, StoredGoal


def goal_line(goal: StoredGoal, figures: IndicatorFigures, on: date) -> GoalLine:
    """A goal as a message shows it: judged, with the figure it was judged by; still open, with the latest figure
    known on ``on``."""
    key = IndicatorKey(Programme(goal.programme), goal.indicator)
    definition = figures.catalogue.get(key)
    common = {"programme": goal.programme, "indicator": goal.indicator, "name": definition.name if definition else None,
              "target": goal.target, "by": goal.by, "status": goal.status}
    if goal.status != GoalStatus.OPEN.value:
        return GoalLine(**common, score=goal.score, numerator=goal.numerator, denominator=goal.denominator,
                        period_end=goal.period_end, interval_low=goal.interval_low, interval_high=goal.interval_high)
    latest = figures.latest_scores(on).get(key)
    if latest is None:
        return GoalLine(**common)
    low, high = wilson_interval(latest.numerator, latest.denominator)
    return GoalLine(**common, score=latest.score, numerator=latest.numerator, denominator=latest.denominator,
                    period_end=latest.period_end, interval_low=low, interval_high=high)


def goal_lines(s: Session, agb_code: str, since: date | None, figures: IndicatorFigures, on: date) -> list[GoalLine]:
    """The goals a practice set from ``since`` up to ``on`` (none without ``since``), as lines."""
    if since is None:
        return []
    return [goal_line(g, figures, on) for g in goal_store.goals_of(s, agb_code, set_since=since) if g.set_on <= on]


def agreement_line(agreement: StoredAgreement, supports: Sequence[LinkedSupport] = (),
                   given: Sequence[Visit] = ()) -> AgreementLine:
    """An open agreement as a message shows it, with the outcome its support proposes (if any)."""
    proposed = proposed_outcome(supports)
    return AgreementLine(id=agreement.id, text=agreement.text, owner=agreement.owner, due=agreement.due,
                         made_on=agreement.made_on, proposed_outcome=proposed.value if proposed else None,
                         support_done=list(given) if proposed and given else None)


def open_agreement_lines(s: Session, codes: Sequence[str]) -> dict[str, tuple[AgreementLine, ...]]:
    """Per practice, its open agreements as lines, each with the outcome the support given for it proposes."""
    out: dict[str, tuple[AgreementLine, ...]] = {}
    # one read for the practices of a batch of notices (most have no open agreement)
    for code, agreements in sorted(repo.agreements_of_practices(s, codes, open_only=True).items()):
        linked: dict[str, list[LinkedSupport]] = {}
        given: dict[str, list[Visit]] = {}
        for v in support_store.of_practice(s, code):
            if v.agreement is None:
                continue
            linked.setdefault(v.agreement, []).append(LinkedSupport(v.status.value, v.done_on))
            if v.done_on is not None and v.kind is not None:
                given.setdefault(v.agreement, []).append(Visit(what="support", kind=v.kind.value, on=v.done_on,
                                                               half_days=v.half_days))
        out[code] = tuple(agreement_line(a, linked.get(a.id, ()), given.get(a.id, ())) for a in agreements)
    return out


def proposals(s: Session, agb_code: str | None = None) -> dict[str, str]:
    """Per open agreement (of a practice, or of all), the outcome the support given for it proposes."""
    codes = [agb_code] if agb_code else sorted({a.agb_code for a in repo.agreements_of(s, open_only=True)})
    return {line.id: line.proposed_outcome for lines in open_agreement_lines(s, codes).values() for line in lines
            if line.proposed_outcome}
