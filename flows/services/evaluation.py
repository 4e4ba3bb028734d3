"""The engine run: every practice's trajectory driven to a fixpoint at a moment, by its facts and its figures.

Invariants:
- ``run_due`` is idempotent per moment: run twice for the same ``now`` and the second run changes nothing (each
  practice is driven to a fixpoint; outbox keys are unique).
- Two processes running at once cannot both transition a practice: the loser of the version check re-reads and
  decides again.
- One practice's failure does not stop the others; the run reports it and fails (``RunReport.skipped``).
- A sweep's batch is looked at as a whole first (``_quiet``): a practice left out of the trajectory machine is one
  no rule could move on that day (``deviation_limits`` and ``repository.below_limits`` answer a superset of the
  deviation rule's practices), so leaving it out never changes a decision, only what is read.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from domain.clock import as_amsterdam
from domain.indicator_views import references
from domain.indicators import IndicatorFigures, IndicatorKey
from domain.policy import MissingAverage
from domain.registry import Person, Practice, Role
from domain.rules.escalation import assess_progress, deviation_limits
from domain.rules.timing import next_evaluation_on
from domain.trajectory import TrajectoryState, TrajectoryView, Trigger
from flows.services.context import ENGINE_ACTOR, Services
from flows.services.steps import STEP_NAMES_NL, commit_fired, take_steps
from statemachines.trajectory import (
    EventBeforeLastError,
    Fired,
    GuardContext,
    GuardRejectedError,
    TrajectoryError,
    fire,
    triggers_to_try,
)
from storage import repository as repo
from storage import review

MAX_STEPS_PER_RUN = 5




@dataclass(frozen=True)
class TransitionTaken:
    agb_code: str
    name: str
    trigger: Trigger
    from_state: TrajectoryState
    to_state: TrajectoryState
    summary: str


@dataclass
class RunReport:
    moment: datetime
    practices: int = 0
    transitions: list[TransitionTaken] = field(default_factory=list)
    messages: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # failures: (agb_code, why), Dutch
    # practices whose trajectory took a step after this run's moment (an officer recorded a conversation
    # while the run was due or under way): not judged now, not a failure; the next run judges them
    deferred: list[tuple[str, str]] = field(default_factory=list)
    already_ran: bool = False


def _summary(fired: Fired) -> str:
    if fired.decision is not None:
        return fired.decision.summary()
    explained = "; ".join(str(r.get("explanation", "")) for r in fired.event.reasons)
    held_on = fired.event.details.get("held_on")
    if held_on:  # a recorded fact's step: what it was, when it happened and by whom it was recorded
        name = STEP_NAMES_NL.get(fired.event.trigger, fired.event.trigger.value)
        late = ", later vastgelegd dan de laatste stap" if fired.event.details.get("late") else ""
        what = f"{name} van {held_on} (vastgelegd door {fired.event.actor}{late})"
        return f"{what}: {explained}" if explained else what
    return explained or fired.event.trigger.value


def evaluate_practice(
    services: Services, practice: Practice, figures: IndicatorFigures, board: tuple[Person, ...],
    now: datetime, actor: str = ENGINE_ACTOR,
) -> tuple[list[TransitionTaken], int]:
    """Drive one practice to a fixpoint at ``now`` in one transaction; retry once on a lost race."""
    on = now.date()
    attempt = 0
    while True:
        attempt += 1
        taken: list[TransitionTaken] = []
        queued = 0
        try:
            with services.transaction() as s:
                view = repo.load_view(s, practice.agb_code)
                for _ in range(MAX_STEPS_PER_RUN):
                    # first the steps of the facts that happened by now (in their order), then the rules
                    view, steps, n = take_steps(s, services, view, practice.agb_code, now, now)
                    queued += n
                    taken.extend(TransitionTaken(practice.agb_code, practice.name, f.event.trigger, before.state,
                                                 f.event.to_state, _summary(f)) for f, before in steps)
                    fired = _first_that_fires(services, view, practice, figures, on, now, actor)
                    if fired is None:
                        break
                    view_before = view
                    view, n = commit_fired(s, fired, view, practice, board, now, services.policy, figures)
                    queued += n
                    taken.append(TransitionTaken(practice.agb_code, practice.name, fired.event.trigger,
                                                 view_before.state, view.state, _summary(fired)))
            return taken, queued
        except repo.ConcurrentUpdateError as exc:
            if attempt == 3:  # another process keeps winning, or the stored state is off: let the operator see it
                raise repo.ConcurrentUpdateError(
                    f"{exc}; drie pogingen mislukt: blijft dit terugkomen, vergelijk dan de opgeslagen stand met "
                    f"de gebeurtenissen (qualitycycle replay {practice.agb_code})") from exc


def _first_that_fires(services: Services, view: TrajectoryView, practice: Practice, figures: IndicatorFigures,
                      on: date, now: datetime, actor: str) -> Fired | None:
    ctx = GuardContext(on=on, policy=services.policy, figures=figures, enrolments=practice.programmes, view=view)
    for trigger in triggers_to_try(view, on, services.policy, services.calendar):
        reasons: list[dict[str, Any]] = []
        if trigger is Trigger.REPORT_PROGRESS:  # the board hears where the flagged indicators stand now
            progress = assess_progress(figures, view.flagged, view.plan_agreed_on, on)
            reasons = [r.model_dump(mode="json") for r in progress.reasons]
            reasons += [{"explanation": note} for note in progress.notes]
        try:
            return fire(view, trigger, at=now, actor=actor, ctx=ctx, reasons=reasons,
                        details={"policy_version": services.policy_label})
        except GuardRejectedError:
            continue
    return None


def _quiet(s: Session, services: Services, reference: IndicatorFigures, codes: Sequence[str],
           views: Mapping[str, TrajectoryView], with_steps: Collection[str], on: date) -> set[str]:
    """The practices of a batch with nothing to fire on ``on``, found over the whole batch at once: no fact's step
    due, a state whose only rule that moves it alone is the strong deviation (or none: not started, left), and no
    score below the limits that rule can never flag at (``deviation_limits``: a superset of the practices it flags,
    asked of the database, ``repository.below_limits``). The rest go to the trajectory machine one by one."""
    policy = services.policy
    flaggable, quiet = [], set()
    for code in codes:
        if code in with_steps:
            continue
        tried = set(triggers_to_try(views.get(code) or TrajectoryView(agb_code=code), on, policy, services.calendar))
        if not tried:
            quiet.add(code)
        elif tried == {Trigger.FLAG_DEVIATION}:
            flaggable.append(code)
    suspects = repo.below_limits(s, flaggable, deviation_limits(reference, policy)) if flaggable else set()
    return quiet | {c for c in flaggable if c not in suspects}


def _failure_why(agb_code: str, exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if text.startswith(f"praktijk {agb_code}") else f"praktijk {agb_code}: {text}"


operations = logging.getLogger("qualitycycle.operations")  # tracebacks for operations staff (flows/run_report)

# How far after a run's moment a practice's last step may lie and still count as an officer's work done while
# the run was due or under way (a run starts seconds to hours after its scheduled time). A step further ahead
# is no such thing: a run for a moment long past, or a step recorded with a wrong date. Deferring it would
# leave the practice unjudged run after run without anything going red, so it fails the run instead.
DEFER_WITHIN = timedelta(days=1)


def _later_step(report: RunReport, agb_code: str, last: datetime, now: datetime) -> None:
    """A practice whose trajectory stepped after the run's moment: deferred to the next run, or a failure."""
    step, moment = f"{as_amsterdam(last):%Y-%m-%d %H:%M:%S}", f"{as_amsterdam(now):%Y-%m-%d %H:%M:%S}"
    if last.timestamp() - now.timestamp() <= DEFER_WITHIN.total_seconds():
        report.deferred.append((agb_code, f"niet beoordeeld: het traject zette op {step} een stap, na het moment "
                                          f"van deze run ({moment}); de volgende run beoordeelt de praktijk"))
    else:
        report.skipped.append((agb_code, (
            f"praktijk {agb_code}: niet beoordeeld: het traject zette op {step} een stap, meer dan een dag na het "
            f"moment van deze run ({moment}); een run voor een moment zo ver terug kan de praktijk niet beoordelen, "
            f"of die stap is met een verkeerde datum vastgelegd (qualitycycle history {agb_code})")))


def run_due(services: Services, now: datetime, actor: str = ENGINE_ACTOR,
            only: Sequence[str] | None = None, review_basis: str | None = None) -> RunReport:
    """Everything due at ``now``: evaluate indicators, transition trajectories, queue messages.

    With ``review_basis`` (the sweep), each practice evaluated is recorded in ``practice_review`` with the
    counters read before its facts and the next day time alone can change a decision, so the next sweep
    skips it until something changes."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    report = RunReport(moment=now)
    # Only the practices asked for, and their scores: a sweep calls this per batch, and loading the whole
    # registry and every score for each batch made a sweep quadratic in the practices. Every score is
    # still read when the care group's medians are needed (they are taken across all practices).
    with_medians = services.policy.without_national_average is not MissingAverage.NONE
    with services.session() as s:
        # the review counters before any fact they stamp (a fact written in between leaves them behind)
        asked = None if only is None else sorted(set(only))
        stamps = review.stamps(s, asked) if review_basis is not None else {}
        report.already_ran = repo.engine_ran(s, now)
        # a practice's people and programmes are read only for those the rules may move (below): most of a batch
        # is quiet, and reading 5,000 practices' people was a quarter of a sweep after an import (issue 16)
        codes = sorted(repo.practice_codes(s)) if asked is None else sorted(repo.registered_of(s, asked))
        board = repo.contacts(s, Role.BOARD)
        reference = repo.reference_figures(s, count_after_days=services.policy.figures_count_after_days)
        views = repo.load_views(s, codes) if only is not None else repo.load_views(s)
        with_steps = repo.practices_with_due_steps(s, codes, now)  # facts that happened by now, not yet taken
        next_steps = repo.next_step_days(s, codes, now) if review_basis is not None else {}
        quiet: set[str] = set()
        judged = codes  # the practices the rules may move: all of them, or those not found quiet below
        unseen: dict[str, date] = {}
        if only is None or with_medians:
            scores = repo.load_scores(s)  # the medians are taken across every practice's figures
        else:  # only what the rules read: a practice's history matters only once it has a plan
            with_plan = {c for c, v in views.items() if v.state in (TrajectoryState.IMPROVEMENT_PLAN,
                                                                     TrajectoryState.UNDERPERFORMER_POLICY)}
            known_on = now.date() - timedelta(days=services.policy.figures_count_after_days)
            quiet = _quiet(s, services, reference, codes, views, with_steps, now.date())
            judged = [c for c in codes if c not in quiet]
            scores = repo.load_scores(s, judged, known_on=known_on, complete=with_plan) if judged else {}
            # of a quiet practice, only when its next figures come into view (``next_evaluation_on``)
            unseen = repo.first_periods_after(s, sorted(quiet), known_on) if quiet else {}
        practices = {p.agb_code: p for p in repo.practices_of(s, judged)} if judged else {}
    medians: dict[tuple[IndicatorKey, date], float] = {}
    if with_medians:
        medians = {k: r.median for k, r in references((x.key, x.period_end, x.numerator, x.denominator)
                                                           for group in scores.values() for x in group).items()}
    # the catalogue, targets, averages and medians as the rules read them, built once and shared by every
    # practice's figures (the rules only read them)
    shared = replace(reference, care_group_medians=medians)
    on = now.date()
    marks: dict[str, tuple[tuple[int, int], date | None]] = {}
    for code in codes:
        report.practices += 1
        own = scores.get(code, [])
        view = views.get(code) or TrajectoryView(agb_code=code)
        if view.last_event_at is not None and view.last_event_at.timestamp() > now.timestamp():
            _later_step(report, code, view.last_event_at, now)
            continue  # not marked: the next sweep looks again
        try:
            # Most practices have nothing due: decide on the view read above, and open a transaction (which
            # reads the view again and decides again, as a concurrent writer may have moved it) only when
            # something fires. A practice with nothing to fire writes nothing either way; a quiet one was found so
            # over the whole batch at once (``_quiet``).
            if code not in quiet:
                practice, figures = practices[code], shared.with_scores(own)
                if code in with_steps or _first_that_fires(services, view, practice, figures, on, now,
                                                           actor) is not None:
                    taken, queued = evaluate_practice(services, practice, figures, board, now, actor)
                    report.transitions.extend(taken)
                    report.messages += queued
        except EventBeforeLastError as exc:  # a step recorded between reading the view and deciding
            _later_step(report, code, exc.last, now)
            continue
        except TrajectoryError as exc:
            report.skipped.append((code, str(exc)))
            continue  # not marked: tried again at the next sweep
        except sa.exc.OperationalError:
            raise  # the database is gone: every practice after this one would fail the same way
        except Exception as exc:  # one practice's fault must not stop the others; the run reports it
            if not isinstance(exc, repo.ConcurrentUpdateError):  # foreseen, and its message says what to do
                operations.error("praktijk %s", code, exc_info=exc)
            report.skipped.append((code, _failure_why(code, exc)))
            continue
        if review_basis is not None:
            # a transition taken above counted a change, so the next sweep looks again whatever this says
            # the next day time alone can change a decision, or a recorded fact's step comes due
            periods = ([unseen[code]] if code in unseen else []) \
                if code in quiet else [sc.period_end for sc in own]
            days = [d for d in (next_evaluation_on(view, periods, services.policy, services.calendar, on),
                                next_steps.get(code))
                    if d is not None]
            marks[code] = (stamps.get(code, (0, 0)), min(days) if days else None)
    with services.transaction() as s:
        if not report.already_ran:
            repo.record_engine_run(s, now, transitions=len(report.transitions), messages=report.messages,
                                   actor=actor)
        if review_basis is not None:
            review.mark_evaluated(s, marks, review_basis)
    return report
