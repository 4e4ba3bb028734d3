"""Recording what an officer did with a practice: its conversations and its leaving the cycle.

Invariants:
- A conversation is recorded once it has been held, never before; the same conversation recorded again changes
  nothing, with other content it is refused (the first recording stands).
- A conversation and the step it asks of the trajectory are stored in one transaction; the step itself is taken
  by ``flows.services.steps``. A batch (``record_conversations``: an import) is one transaction: the first one
  refused stops the batch, nothing of it is stored, those before it are (recorded again in a fresh transaction).
- A plan's goals name indicators the catalogue knows; a refused plan stores nothing.
- A plan's goals (an extra conversation's plan, or a report's goals) are stored with the conversation, open until
  their day.
- A report's agreements are stored with the conversation, its evaluations close earlier agreements, and an annual
  conversation that leaves open agreements unevaluated is stored and flagged; a report that evaluates an unknown
  or closed agreement, or sets a due date before the conversation, is refused whole and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from domain.clock import as_amsterdam, fact_moment, future_fact
from domain.commands import LeaveProgramme, RecordConversation
from domain.conversations import ConversationReport, ImprovementPlan
from domain.errors import ConflictError, InFutureError, InputError, NotFoundError
from domain.inputs import check_date, check_text, checked
from domain.rules.agreements import OpenAgreement, report_problems, unevaluated
from domain.rules.attendance import attendance_gaps
from domain.trajectory import TrajectoryTransitioned, TrajectoryView, Trigger
from domain.vocabulary import ConversationKind
from flows.services.context import Services, UnknownPracticeError
from flows.services.steps import engine_reached, record_step
from flows.services.support import request_in
from storage import goals as goal_store
from storage import repository as repo
from storage.read_models import StoredAgreement, StoredConversation


class ConversationInFutureError(InFutureError):
    """A conversation is recorded once it has been held, not before."""


class ConversationConflictError(ConflictError):
    """A conversation recorded again with other content, or on a date the trajectory cannot take."""


def _same_conversation_or_raise(stored: StoredConversation, cmd: RecordConversation) -> None:
    """Recording the same conversation again is a no-op; recording it with other content is an error,
    not a silent drop (the first recording stands; correcting it is a deliberate act)."""
    attendees = [a.model_dump(mode="json") for a in cmd.attendees]
    plan = cmd.improvement_plan.model_dump(mode="json") if cmd.improvement_plan else None
    report = cmd.report.model_dump(mode="json") if cmd.report else None
    if stored.attendees != attendees or stored.plan != plan or stored.report != report:
        raise ConversationConflictError(
            f"{cmd.kind.value}gesprek van {cmd.agb_code} op {cmd.held_on.isoformat()} is al vastgelegd met "
            "andere aanwezigen of een ander verbeterplan; het eerder vastgelegde gesprek blijft staan")


class ReportRefusedError(InputError):
    """A report that says what it may not (``domain.rules.agreements.report_problems``): refused, nothing stored."""


class UnknownIndicatorError(NotFoundError):
    """A plan's goal on an indicator the catalogue does not know: refused, nothing stored."""


def _plan_indicators_known_or_raise(known: set[tuple[str, str]], plan: ImprovementPlan, source: str) -> None:
    for i, goal in enumerate(plan.goals):
        if (goal.programme.value, goal.indicator) not in known:
            same = sorted(ind for prog, ind in known if prog == goal.programme.value)
            raise UnknownIndicatorError(
                f"{source}, goals[{i}].indicator: indicator {goal.programme.value}/{goal.indicator} staat niet in de "
                f"indicatorcatalogus; er is niets vastgelegd (bekend voor {goal.programme.value}: "
                f"{', '.join(same) or 'geen'})")




@dataclass(frozen=True)
class ConversationRecorded:
    conversation_id: str
    agb_code: str
    kind: ConversationKind
    held_on: date
    already_recorded: bool
    attendance_gaps: tuple[str, ...]
    transition: TrajectoryTransitioned | None
    enrolled: str | None = None
    waiting: str | None = None  # the step not taken at once: until when, or why
    agreements: tuple[str, ...] = ()  # the ids of the agreements its report made
    agreement_gaps: tuple[str, ...] = ()  # open agreements an annual conversation left unevaluated


def _request_support(s: Session, cmd: RecordConversation, report: ConversationReport, made: list[str], now: datetime,
                     actor: str) -> None:
    """A report's support needs become requests on the day of the conversation: one per agreement that asks for
    support (linked to it), and one per need no agreement carries."""
    note = f"uit het verslag van {cmd.held_on.isoformat()}"
    linked = set()
    for agreement, key in zip(report.agreements, made, strict=True):
        if agreement.support is not None:
            request_in(s, cmd.agb_code, agreement.support, cmd.held_on, now, actor, agreement=key, note=note)
            linked.add(agreement.support)
    for need in report.support_needs:
        if need not in linked:
            request_in(s, cmd.agb_code, need, cmd.held_on, now, actor, note=note)


class _Batch:
    """What recording conversations at one moment in one transaction reads once, instead of once per conversation:
    the practices registered, the conversations already stored, the trajectories and agreements of the practices
    named, the catalogue, the policy versions and how far the engine has judged. A conversation recorded updates
    what it changed (its practice's view; its agreements are read again)."""

    def __init__(self, s: Session, services: Services, cmds: Sequence[RecordConversation], now: datetime,
                 actor: str, live: bool | None) -> None:
        self.s, self.now, self.actor = s, now, actor
        self.services = services.pinned(s)
        codes = sorted({cmd.agb_code for cmd in cmds})
        self.registered = repo.registered_of(s, codes)
        self.stored = repo.conversations_by_id(s, [_conversation_id(cmd) for cmd in cmds])
        self.views = repo.load_views(s, codes)
        self.agreements: dict[str, list[StoredAgreement]] = {
            code: [] for code in codes} | repo.agreements_of_practices(s, codes)
        self.reached = engine_reached(s, now, live)
        # the practices with a step not yet taken: any other's new step is the only one due (``record_step``)
        self.pending = repo.practices_with_due_steps(s, codes, None)
        self._known: set[tuple[str, str]] | None = None

    def known_indicators(self) -> set[tuple[str, str]]:
        if self._known is None:
            self._known = {(k.programme.value, k.indicator) for k in repo.load_catalogue(self.s)}
        return self._known

    def view(self, agb_code: str) -> TrajectoryView:
        return self.views.get(agb_code) or TrajectoryView(agb_code=agb_code)

    def agreements_of(self, agb_code: str) -> list[StoredAgreement]:
        found = self.agreements.get(agb_code)
        if found is None:
            found = self.agreements[agb_code] = repo.agreements_of(self.s, agb_code)
        return found


def _conversation_id(cmd: RecordConversation) -> str:
    return repo.conversation_id(cmd.agb_code, cmd.kind.value, cmd.held_on, cmd.programme.value if cmd.programme
                                else None)


def _record(batch: _Batch, cmd: RecordConversation, plan_source: str) -> ConversationRecorded:
    """One conversation and its step, in the batch's transaction; refused (raised) before anything is written."""
    now, s = batch.now, batch.s
    future = future_fact(f"gesprek van {cmd.agb_code} op", cmd.held_on, now.date(),
                         "leg een gesprek vast nadat het is gehouden")
    if future:
        raise ConversationInFutureError(future)
    checked(check_date, cmd.held_on, "datum van het gesprek")
    services = batch.services.in_force(cmd.held_on)  # its step is judged under the policy of the day it was held
    programme = cmd.programme.value if cmd.programme else None
    conv_id = _conversation_id(cmd)
    gaps = attendance_gaps(cmd.kind, cmd.attendees)
    if cmd.plan is not None and cmd.report is not None:
        raise ReportRefusedError(f"{plan_source}: een gesprek heeft een verbeterplan of een verslag met doelen, "
                                 "niet beide; er is niets vastgelegd")
    plan = cmd.improvement_plan
    if cmd.agb_code not in batch.registered:
        raise UnknownPracticeError(cmd.agb_code)
    if plan is not None:
        _plan_indicators_known_or_raise(batch.known_indicators(), plan, plan_source)
    stored = batch.stored.get(conv_id)
    if stored is not None:
        _same_conversation_or_raise(stored, cmd)
        return ConversationRecorded(conv_id, cmd.agb_code, cmd.kind, cmd.held_on, True, gaps, None,
                                    agreement_gaps=tuple(stored.agreement_gaps))
    # the practice's agreements matter to a report (what it may evaluate) and to an annual conversation (what
    # it leaves unevaluated)
    agreements = (batch.agreements_of(cmd.agb_code)
                  if cmd.report is not None or cmd.kind is ConversationKind.ANNUAL else [])
    if cmd.report is not None:
        problems = report_problems(cmd.report, cmd.held_on,
                                   {a.id: None if a.status == "open" else a.status for a in agreements})
        if problems:
            raise ReportRefusedError("; ".join(f"{plan_source}, {where}: {why}" for where, why in problems)
                                     + "; er is niets vastgelegd")
    left_open = unevaluated(cmd.kind, cmd.held_on, [OpenAgreement(a.id, a.text, a.made_on) for a in agreements
                                                    if a.status == "open"], cmd.report)
    view = batch.view(cmd.agb_code)
    details: dict[str, Any] = {"held_on": cmd.held_on.isoformat(), "conversation_id": conv_id}
    if gaps:
        details["attendance_gaps"] = list(gaps)
    trigger: Trigger | None = None
    enrolled: str | None = None
    if cmd.kind is ConversationKind.START:
        if cmd.programme is not None:
            details["programme"] = programme
            if repo.enrol(s, cmd.agb_code, cmd.programme, cmd.held_on):
                enrolled = programme
        # with a programme while the cycle runs it only starts the enrolment: decided when the step is
        # taken, from the state on that day (a start conversation of 2024 typed in before its cycle's)
        trigger = Trigger.HOLD_START_CONVERSATION
    elif cmd.kind is ConversationKind.ANNUAL:
        trigger = Trigger.HOLD_ANNUAL_CONVERSATION
    elif plan is not None:
        trigger = Trigger.AGREE_IMPROVEMENT_PLAN
        details["plan"] = plan.model_dump(mode="json")
    # an extra conversation without a plan is a recorded visit: it asks no step
    conversation = StoredConversation(
        id=conv_id, agb_code=cmd.agb_code, kind=cmd.kind.value, held_on=cmd.held_on, programme=programme,
        attendees=[a.model_dump(mode="json") for a in cmd.attendees], attendance_gaps=list(gaps),
        plan=plan.model_dump(mode="json") if plan else None, recorded_at=now, actor=batch.actor,
        report=cmd.report.model_dump(mode="json") if cmd.report else None, agreement_gaps=list(left_open))
    repo.add_conversation(s, conversation)
    if plan is not None:  # judged on their day (flows.services.follow_up)
        goal_store.add_goals(s, conversation, plan.goals)
    made: list[str] = []
    if cmd.report is not None:
        made = repo.add_agreements(s, conversation, cmd.report.agreements)
        repo.evaluate_agreements(s, cmd.report.evaluations, conversation)
        _request_support(s, cmd, cmd.report, made, now, batch.actor)
    outcome = record_step(s, services, view, cmd.agb_code, trigger, fact_moment(cmd.held_on), now, batch.actor,
                          details, (), source=f"conversation:{conv_id}", reached=batch.reached,
                          alone=cmd.agb_code not in batch.pending)
    if outcome.transition is None:  # its step may be waiting (or taken without a transition): read what is due
        batch.pending.add(cmd.agb_code)
    batch.stored[conv_id] = conversation
    if outcome.view is not None:
        batch.views[cmd.agb_code] = outcome.view
    if cmd.report is not None:  # its agreements made and evaluated: read again when the practice comes again
        batch.agreements.pop(cmd.agb_code, None)
    return ConversationRecorded(conv_id, cmd.agb_code, cmd.kind, cmd.held_on, False, gaps,
                                outcome.transition, enrolled, outcome.waiting, tuple(made), left_open)


@dataclass(frozen=True)
class RecordedBatch:
    """What ``record_conversations`` did: the conversations recorded (stored), in the order given, and the first
    one refused (its place in the batch and why), which stopped the batch."""

    recorded: tuple[ConversationRecorded, ...]
    refused: tuple[int, Exception] | None = None


def record_conversations(services: Services, cmds: Sequence[RecordConversation], now: datetime, actor: str,
                         plan_source: str = "verbeterplan", *, live: bool | None = None) -> RecordedBatch:
    """Record conversations, each as ``record_conversation`` would, in one transaction: what they read is read
    once (``_Batch``) and they commit together. In the order given (an import gives them in the order held); the
    first one refused stops the batch, and those before it are stored all the same: the transaction is rolled back
    and those before it recorded again in a fresh one (refusals are rare; a savepoint around every conversation
    cost two statements and SQLAlchemy's nesting each time, about a tenth of recording one)."""
    now = as_amsterdam(now)
    todo = list(cmds)
    refused: tuple[int, Exception] | None = None
    while True:
        recorded: list[ConversationRecorded] = []
        failed: tuple[int, Exception] | None = None
        with services.session() as s:
            if s.get_bind().dialect.name == "sqlite":
                # the write lock first: what the batch reads once stays true while it writes, and the savepoints
                # of the storage (a guarded update of many rows) are nested in a transaction (the driver begins
                # none before a write: the first SAVEPOINT would be the outermost, and releasing it would commit)
                s.connection().exec_driver_sql("BEGIN IMMEDIATE")
            batch = _Batch(s, services, todo, now, actor, live)
            for index, cmd in enumerate(todo):
                try:
                    recorded.append(_record(batch, cmd, plan_source))
                except sa.exc.OperationalError:
                    raise  # the database is gone: nothing of the batch is kept
                except Exception as exc:
                    failed = (index, exc)
                    break
            if failed is None:
                s.commit()
                return RecordedBatch(tuple(recorded), refused)
            s.rollback()
        # the first refused (in this pass: one before an earlier refusal, should another writer have changed what
        # it reads) stops the batch; those before it are recorded again, without it and what follows
        refused, todo = failed, todo[:failed[0]]
        if not todo:
            return RecordedBatch((), refused)


def record_conversation(services: Services, cmd: RecordConversation, now: datetime, actor: str,
                        plan_source: str = "verbeterplan", *, live: bool | None = None) -> ConversationRecorded:
    """Store a conversation, and the step it asks of the trajectory, in one transaction.

    start: opens the annual cycle (from ``start`` or after leaving); with a programme while the
    cycle already runs, it only starts that enrolment. annual: recorded in every active state.
    extra: with a plan it agrees the improvement plan; without one it is a recorded visit.
    The step is taken at once when the engine has reached the day it was held (``engine_reached``), else by the
    first run at or after it; a step its state cannot take waits, with why. Recording the same
    conversation again changes nothing.
    """
    done = record_conversations(services, [cmd], now, actor, plan_source, live=live)
    if done.refused is not None:
        raise done.refused[1]
    return done.recorded[0]


@dataclass(frozen=True)
class LeaveRecorded:
    agb_code: str
    on: date
    transition: TrajectoryTransitioned | None
    waiting: str | None = None


def leave(services: Services, cmd: LeaveProgramme, now: datetime, actor: str, *, live: bool | None = None
          ) -> LeaveRecorded:
    """Record that a practice leaves the quality cycle on a day: the step is taken as a conversation's is."""
    now = as_amsterdam(now)
    future = future_fact(f"vertrek van {cmd.agb_code} op", cmd.on, now.date(), "leg het vast op of na die dag")
    if future:
        raise ConversationInFutureError(future)
    checked(check_date, cmd.on, "datum van vertrek")
    reason = checked(check_text, cmd.reason, "reden van vertrek")
    services = services.in_force(cmd.on)
    with services.session() as s:
        practice = repo.get_practice(s, cmd.agb_code)
        if practice is None:
            raise UnknownPracticeError(cmd.agb_code)
        view = repo.load_view(s, cmd.agb_code)
        outcome = record_step(s, services, view, cmd.agb_code, Trigger.LEAVE, fact_moment(cmd.on), now, actor,
                              {"held_on": cmd.on.isoformat(), "reason": reason},
                              ({"explanation": reason},), source=f"leave:{cmd.agb_code}:{cmd.on.isoformat()}",
                              live=live)
        s.commit()
    return LeaveRecorded(cmd.agb_code, cmd.on, outcome.transition, outcome.waiting)
