"""The sweep: for the practices whose facts, figures, shared inputs or deadlines moved (``storage.review``),
advance their trajectories and plan their duties; then queue every notice whose day has come. Before the
practices, what conversations left behind (``flows.services.follow_up``): goals judged, agreements past due; after
the notices, the practices still behind on the instruction cards once a set's weeks have passed
(``flows.services.cards``).

Invariants:
- A sweep reviews only the practices that need it, and ends exactly where reviewing all of them ends
  (``full=True``).
- A run killed half-way committed whole batches only; the rerun completes the rest.
- Spread over worker processes (``workers``), a sweep leaves the same rows as in one process, and reports the same
  (its lines in the order of its batches, which workers divide so that each has one: ``workers.divide``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.clock import as_amsterdam
from domain.obligations import CONVERSATION_KINDS, ObligationKind
from domain.vocabulary import state_nl
from flows.services.cards import report_cards_behind
from flows.services.context import ENGINE_ACTOR, Services
from flows.services.due_notices import queue_due_notices
from flows.services.duties import DEFAULT_BATCH, DutyReport, ReviewBasis, finish_duty
from flows.services.evaluation import run_due
from flows.services.follow_up import follow_up
from flows.services.planning import plan_batch
from flows.services.workers import divide, spread
from storage import repository as repo
from storage import review

SWEEP_KINDS = CONVERSATION_KINDS | {ObligationKind.MANDATORY_COURSE, ObligationKind.MIRROR_MEETING,
                                    ObligationKind.PRACTICE_CHECKLIST, ObligationKind.NHG_ACCREDITATION,
                                    ObligationKind.NETWORK_PLAN_EVALUATION}


def evaluate_batch(services: Services, now: datetime, codes: Sequence[str], actor: str, report: DutyReport,
                   basis: ReviewBasis | None = None) -> None:
    if not codes:
        return
    result = run_due(services, now, actor, only=codes, review_basis=basis.evaluation if basis else None)
    report.transitions.extend(result.transitions)
    report.queued["board"] += result.messages
    if not result.messages:
        del report.queued["board"]
    for agb, why in result.skipped:
        report.failures.append((agb, why))
        report.line(agb, "fout", why)
    for agb, why in result.deferred:
        report.deferred.append((agb, why))
        report.line(agb, "uitgesteld", why)
    for t in result.transitions:
        report.line(f"{t.agb_code} {t.name}", f"{state_nl(t.from_state.value)} -> {state_nl(t.to_state.value)}",
                    t.summary)


def review_batches(services: Services, now: datetime, basis: ReviewBasis, *, batch_size: int = DEFAULT_BATCH,
                   full: bool = False, workers: int = 1) -> list[list[str]]:
    """The practices a sweep at ``now`` must look at, in batches: those whose facts, scores or shared
    inputs changed since they were last reviewed, or whose next time-based decision falls due (``full``:
    every practice); with ``workers``, as many batches as workers when there would be fewer (``workers.divide``)."""
    on = as_amsterdam(now).date()
    with services.session() as s:
        codes = sorted(repo.practice_codes(s)) if full else sorted(
            set(review.due_for_evaluation(s, basis.evaluation, on)) | set(review.due_for_planning(s, basis.planning)))
    return divide(codes, batch_size, workers)


def sweep_batch(services: Services, now: datetime, codes: Sequence[str], *, actor: str = ENGINE_ACTOR,
                basis: ReviewBasis | None = None, full: bool = False) -> DutyReport:
    """One batch of practices: evaluate the trajectories and plan the duties of those that need it (all
    of them with ``full``), each in its own transaction, and record the review."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    on = now.date()
    report = DutyReport("sweep_due", now)
    basis = basis or ReviewBasis.load(services)
    with services.session() as s:
        evaluate = list(codes) if full else review.due_for_evaluation(s, basis.evaluation, on, codes)
    evaluate_batch(services, now, evaluate, actor, report, basis)
    with services.session() as s:  # after the transitions, which count as changes to plan from
        plan = list(codes) if full else review.due_for_planning(s, basis.planning, codes)
    report.merge(plan_batch(services, now, plan, actor=actor, basis=basis))
    report.practices = len(set(evaluate) | set(plan))
    return report


def sweep_due(services: Services, now: datetime, *, actor: str = ENGINE_ACTOR,
              batch_size: int = DEFAULT_BATCH, full: bool = False, workers: int = 1) -> DutyReport:
    """Everything due at ``now``: the practices that need it reviewed batch by batch, then every message
    whose day has come, ``batch_size`` obligations per transaction. ``full`` reviews every practice (the
    same result, only slower); ``workers`` spreads the batches, and then the chunks of notices, over that many
    processes (``flows.services.workers``: the same result)."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    report = DutyReport("sweep_due", now)
    basis = ReviewBasis.load(services)
    # goals judged before the trajectories are: a progress notice of today shows the goals of today's judgement
    follow_up(services, now, report, chunk=batch_size)
    batches = review_batches(services, now, basis, batch_size=batch_size, full=full, workers=workers)
    for part in spread(lambda codes: sweep_batch(services, now, codes, actor=actor, basis=basis, full=full),
                       batches, workers, services.db):
        report.merge(part)
    if not services.trajectories_only:  # a what-if's walk: nothing it compares reads a notice
        queue_due_notices(services, now, SWEEP_KINDS, report, chunk=batch_size, workers=workers)
        # the practices still behind on a set of instruction cards whose weeks have passed, to the officers, once
        report_cards_behind(services, now, report)
    report.duty = "sweep_due"
    return finish_duty(services, report, actor)
