"""The board's periodic digest of every trajectory under the underperformer policy, with the counts around the
cycle (``flows.services.around_the_cycle.around_counts``).

Invariants:
- Every complete period since the last digest sent is sent once, as it stood at the period's end (a digest sent
  late does not list later escalations or plans).
- Before any digest was sent, only the last complete period.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlmodel import Session

from domain.clock import AMSTERDAM, as_amsterdam
from domain.registry import Person, Role
from domain.rules.escalation import assess_progress
from domain.trajectory import TrajectoryState, as_of
from domain.vocabulary import date_nl
from flows.services.around_the_cycle import around_counts
from flows.services.context import ENGINE_ACTOR, Services
from flows.services.duties import DutyReport, day_of, finish_duty
from notifications.compose import TrajectoryFacts, digest_messages
from storage import repository as repo


def digest_period(on: date, months: int) -> tuple[date, date]:
    """The last complete period of ``months`` (periods counted from 1 January) before ``on``."""
    current = date(on.year, ((on.month - 1) // months) * months + 1, 1)
    start = current - relativedelta(months=months)
    return start, current - relativedelta(days=1)


def digest_periods(first: date, on: date, months: int) -> list[tuple[date, date]]:
    """Every complete period of ``months`` (counted from 1 January) from the one holding ``first`` up to the
    last one before ``on``, oldest first."""
    start = date(first.year, ((first.month - 1) // months) * months + 1, 1)
    last_start, _ = digest_period(on, months)
    periods = []
    while start <= last_start:
        following = start + relativedelta(months=months)
        periods.append((start, following - relativedelta(days=1)))
        start = following
    return periods


def board_digest(services: Services, now: datetime, *, actor: str = ENGINE_ACTOR) -> DutyReport:
    """Queue the board's digest of every complete period since the last one sent, each once: every trajectory
    under the underperformer policy with where its flagged indicators stand (issue: default quarterly). A
    period in which no run happened is not lost: the next run sends it (a care group's machine off for a
    quarter). Before the first digest ever sent, only the last complete period."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    on = now.date()
    report = DutyReport("board_digest", now)
    months = services.policy.board_digest_every_months
    with services.transaction() as s:
        first = repo.first_event_at(s)
        periods = digest_periods(day_of(first), on, months) if first is not None else []
        # the periods after the last one sent (all of them, once each); before any was sent only the last
        # complete one: a care group that starts the digest does not get a digest for every past quarter
        last = repo.last_digest_period(s)
        periods = [p for p in periods if p[0] > last] if last else periods[-1:]
        if last and not periods:
            start, end = digest_period(on, months)
            report.line("zorggroep", "overzicht bestuur", f"{date_nl(start)} t/m {date_nl(end)}: al eerder verstuurd")
            return finish_duty(services, report, actor)
        if not periods:
            report.line("zorggroep", "overzicht bestuur",
                        "nog geen trajecten in een afgesloten periode: geen overzicht")
            return finish_duty(services, report, actor)
        board, care_group = repo.contacts(s, Role.BOARD), repo.care_group_name(s)
        for start, end in periods:
            # each member's digest has a key per period: when every member has a period's, there is nothing to
            # gather (the duty runs each working day and finds every period done on all but the first)
            keys = {m.key for m in digest_messages(start, end, months, [], board, care_group)}
            if keys and repo.queued_keys(s, keys) == keys:
                continue
            around = [c.as_payload() for c in around_counts(services, start, end)]
            _digest_of_period(s, start, end, months, board, care_group, now, report,
                              services.policy.figures_count_after_days, services.policy.min_denominator, around)
        if not report.lines:
            start, end = periods[-1]
            report.line("zorggroep", "overzicht bestuur", f"{date_nl(start)} t/m {date_nl(end)}: al eerder verstuurd")
    return finish_duty(services, report, actor)


def _trajectories_at(s: Session, end: date, tz: Any, count_after_days: int = 0) -> list[TrajectoryFacts]:
    """Every trajectory under the underperformer policy at the end of ``end``, each as it stood then."""
    # who was under the policy at the period's end (a digest sent late must not list later escalations)
    end_moment = datetime.combine(end + relativedelta(days=1), datetime.min.time(), tzinfo=tz)
    under = set(repo.states_at(s, end_moment, TrajectoryState.UNDERPERFORMER_POLICY))
    # each trajectory as it stood at the period's end (a digest sent late must not show a later plan or policy)
    views = [as_of(code, repo.load_events(s, code), end_moment) for code in sorted(under)]
    codes = [v.agb_code for v in views]
    practices = {p.agb_code: p for p in repo.practices_of(s, codes)} if codes else {}
    shared = repo.reference_figures(s, count_after_days)
    scores = repo.load_scores(s, codes) if codes else {}
    trajectories = []
    for view in sorted(views, key=lambda v: v.agb_code):
        figures = shared.with_scores(scores.get(view.agb_code, []))
        progress = assess_progress(figures, view.flagged, view.plan_agreed_on, end)
        trajectories.append(TrajectoryFacts(practices[view.agb_code], view, figures, progress))
    return trajectories


def digest_payload(services: Services, start: date, end: date) -> dict[str, Any]:
    """The digest of a period as the board reads it (the payload of ``board_digest``), without sending anything:
    what the board's report of that period prints."""
    services = services.in_force(end)
    policy = services.policy
    around = [c.as_payload() for c in around_counts(services, start, end)]
    with services.session() as s:
        trajectories = _trajectories_at(s, end, AMSTERDAM, policy.figures_count_after_days)
        care_group = repo.care_group_name(s)
    (message, *_) = digest_messages(start, end, policy.board_digest_every_months, trajectories, [], care_group,
                                    policy.min_denominator, around)
    return dict(message.payload)


def _digest_of_period(s: Session, start: date, end: date, months: int, board: Sequence[Person], care_group: str,
                      now: datetime, report: DutyReport, count_after_days: int = 0,
                      min_denominator: int | None = None, around: Sequence[dict[str, Any]] = ()) -> None:
    trajectories = _trajectories_at(s, end, now.tzinfo, count_after_days)
    messages = digest_messages(start, end, months, trajectories, board, care_group, min_denominator, around)
    new = repo.add_messages(s, messages, created_at=now)
    if new:
        report.queued["board_digest"] += new
    report.practices = max(report.practices, len(trajectories))
    report.line("zorggroep", "overzicht bestuur",
                f"{date_nl(start)} t/m {date_nl(end)}: {len(trajectories)} traject(en) onder het beleid, "
                + (f"{new} bericht(en) klaargezet" if new else "al eerder verstuurd"))
