"""The engine's service functions: plain functions over domain, state machine and storage.

Every function takes the moment (``now``) as an argument and opens its own short
transactions: one per practice for transitions, so a state change, its event and the outbox
messages it causes commit together or not at all. The CLI, the demo, the scenario helper and
the tests call these directly; Prefect flows only wrap them.

Invariants:
- ``run_due`` is idempotent per moment: run twice for the same ``now`` and the second run
  changes nothing (each practice is driven to a fixpoint; outbox keys are unique).
- Two processes running at once cannot both transition a practice: the loser of the version
  check re-reads and decides again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session

from domain.calendar import Due, WorkingCalendar, next_due, next_evaluation_on
from domain.clock import as_amsterdam, fact_moment, future_fact
from domain.commands import LeaveProgramme, RecordConversation
from domain.conversations import ConversationKind, ImprovementPlan, attendance_gaps
from domain.errors import ConflictError, InFutureError, NotFoundError
from domain.indicator_views import IndicatorLine, indicator_lines, pool, references
from domain.indicators import (
    IndicatorDefinition,
    IndicatorFigures,
    IndicatorKey,
    IndicatorScore,
    NationalAverage,
    Target,
)
from domain.inputs import check_date, check_text, checked
from domain.messages import OutboxMessage, board_messages
from domain.policy import MissingAverage, Policy, PolicyVersion, in_force
from domain.registry import Person, Practice, Registry, Role
from domain.rules import assess_progress
from domain.trajectory import (
    STATE_NAMES_NL,
    TrajectoryState,
    TrajectoryTransitioned,
    TrajectoryView,
    Trigger,
    as_of,
    happened_by,
)
from notifications.charts import Series
from statemachines.trajectory import (
    EventBeforeLastError,
    Fired,
    GuardContext,
    GuardRejectedError,
    InvalidTransitionError,
    ReplayMismatchError,
    TrajectoryError,
    fire,
    replay,
    triggers_to_try,
)
from storage import repository as repo
from storage import review
from storage.database import create_db_engine, migrate
from storage.tables import ConversationRow, EngineRunRow, TrajectoryRow, TrajectoryStepRow

if TYPE_CHECKING:
    from readers.files import ConversationLine  # the readers (and YAML) are not loaded to run a service

ENGINE_ACTOR = "engine"
MAX_STEPS_PER_RUN = 5


class ConversationInFutureError(InFutureError):
    """A conversation is recorded once it has been held, not before."""


class ConversationConflictError(ConflictError):
    """A conversation recorded again with other content, or on a date the trajectory cannot take."""


def _same_conversation_or_raise(stored: ConversationRow, cmd: RecordConversation) -> None:
    """Recording the same conversation again is a no-op; recording it with other content is an error,
    not a silent drop (the first recording stands; correcting it is a deliberate act)."""
    attendees = [a.model_dump(mode="json") for a in cmd.attendees]
    plan = cmd.plan.model_dump(mode="json") if cmd.plan else None
    if stored.attendees != attendees or stored.plan != plan:
        raise ConversationConflictError(
            f"{cmd.kind.value}gesprek van {cmd.agb_code} op {cmd.held_on.isoformat()} is al vastgelegd met "
            "andere aanwezigen of een ander verbeterplan; het eerder vastgelegde gesprek blijft staan")


class UnknownIndicatorError(NotFoundError):
    """A plan's goal on an indicator the catalogue does not know: refused, nothing stored."""


def _plan_indicators_known_or_raise(s: Session, plan: ImprovementPlan, source: str) -> None:
    known = {(k.programme.value, k.indicator) for k in repo.load_catalogue(s)}
    for i, goal in enumerate(plan.goals):
        if (goal.programme.value, goal.indicator) not in known:
            same = sorted(ind for prog, ind in known if prog == goal.programme.value)
            raise UnknownIndicatorError(
                f"{source}, goals[{i}].indicator: indicator {goal.programme.value}/{goal.indicator} staat niet in de "
                f"indicatorcatalogus; er is niets vastgelegd (bekend voor {goal.programme.value}: "
                f"{', '.join(same) or 'geen'})")


class UnknownPracticeError(NotFoundError):
    def __init__(self, agb_code: str) -> None:
        super().__init__(f"praktijk met AGB-code {agb_code} is niet bekend; laad eerst het register")


@dataclass(frozen=True)
class Services:
    """What the service functions work with: a database, the policy and the working calendar.

    ``policy`` is the settings' policy until ``in_force(moment)`` gives these services with the policy version
    that applies on that day (``qualitycycle policy set``); every service function that judges or plans for a
    moment starts with it, so a decision is taken under the version of its own day and names it."""

    db: sa.Engine
    policy: Policy = field(default_factory=Policy)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    base_policy: Policy | None = None  # the settings' policy, once ``policy`` is a version's
    policy_version: PolicyVersion | None = None
    # a backfill's services: every message about what lies before this moment is stored historic when queued
    historic_before: datetime | None = None

    def in_force(self, moment: datetime | date) -> Services:
        """These services with the policy version that applies on the day of ``moment``."""
        on = moment.date() if isinstance(moment, datetime) and moment.tzinfo is None else (
            as_amsterdam(moment).date() if isinstance(moment, datetime) else moment)
        base = self.base_policy or self.policy
        with self.session() as s:
            versions = repo.policy_versions(s)
        version = in_force(versions, base, on)
        if version.policy is self.policy and self.policy_version == version:
            return self
        return replace(self, policy=version.policy, base_policy=base, policy_version=version)

    @property
    def policy_label(self) -> str:
        return (self.policy_version or PolicyVersion(0, None, self.policy)).label

    @classmethod
    def open(cls, url: str, policy: Policy | None = None, calendar: WorkingCalendar | None = None,
             upgrade: bool = True) -> Services:
        db = create_db_engine(url)
        if upgrade:
            migrate(db)
        return cls(db=db, policy=policy or Policy(), calendar=calendar or WorkingCalendar())

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.db, expire_on_commit=False) as session:
            if self.historic_before is not None:
                session.info[repo.HISTORIC_BEFORE] = self.historic_before
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed when the block ends normally, rolled back otherwise."""
        with self.session() as session:
            yield session
            session.commit()


# --- reference data ---------------------------------------------------------------------------


def load_registry(services: Services, registry: Registry) -> dict[str, int]:
    with services.transaction() as s:
        return repo.save_registry(s, registry)


def import_catalogue(services: Services, definitions: Sequence[IndicatorDefinition]) -> int:
    with services.transaction() as s:
        return repo.save_catalogue(s, definitions)


def import_targets(services: Services, targets: Sequence[Target]) -> int:
    with services.transaction() as s:
        return repo.save_targets(s, targets)


def import_averages(services: Services, averages: Sequence[NationalAverage]) -> int:
    with services.transaction() as s:
        return repo.save_averages(s, averages)


def import_scores(services: Services, scores: Sequence[IndicatorScore], *, source: str, now: datetime,
                  actor: str, sha256: str | None = None) -> repo.ScoreImport:
    """Store figures; a corrected figure keeps its old value as a revision, and the import is logged.

    ``sha256`` names the content (the file's bytes); without it, a digest of the figures is used."""
    digest = sha256 or hashlib.sha256(
        "\n".join(sorted(f"{x.agb_code},{x.key},{x.period_end},{x.numerator},{x.denominator}" for x in scores))
        .encode()).hexdigest()
    with services.transaction() as s:
        return repo.save_scores(s, scores, source=source, sha256=digest, at=as_amsterdam(now), actor=actor)


def recalculate_indicators(services: Services, extract: Path, period_end: date, *, now: datetime,
                           actor: str) -> repo.ScoreImport:
    """Recalculate every computable indicator per practice from a pseudonymised extract and store only
    the aggregates, as an import whose source names the extract and the period."""
    with services.session() as s:
        catalogue = repo.load_catalogue(s)
        codes = repo.practice_codes(s)
    from readers.extracts import recalculate  # Polars is loaded only when an extract is recalculated

    scores = recalculate(extract, catalogue, period_end, known_agb_codes=codes)
    digest = hashlib.sha256(extract.read_bytes() + period_end.isoformat().encode()).hexdigest()
    return import_scores(services, scores, source=f"herberekening {extract.name} tot {period_end.isoformat()}",
                         now=now, actor=actor, sha256=digest)


def ensure_default_catalogue(services: Services) -> int:
    """Seed the shipped catalogue into an empty database; a care group's own catalogue is left alone."""
    with services.transaction() as s:
        if not repo.catalogue_is_empty(s):
            return 0
        from readers.catalogue import default_catalogue  # read only for a new database

        return repo.save_catalogue(s, default_catalogue())


# --- conversations ----------------------------------------------------------------------------


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


def _messages_for(
    fired: Fired, practice: Practice, board: tuple[Person, ...], view: TrajectoryView, policy: Policy
) -> list[OutboxMessage]:
    messages: list[OutboxMessage] = []
    members = board or (Person(name="Bestuur", role=Role.BOARD, email=None),)
    plan = view.plan_agreed_on.isoformat() if view.plan_agreed_on else None
    for effect in fired.effects:
        messages.extend(board_messages(effect, fired.event, practice, members, plan,
                                       progress_every_months=policy.progress_report_every_months))
    return messages


def _commit_fired(s: Session, fired: Fired, view: TrajectoryView, practice: Practice | None,
                  board: tuple[Person, ...], now: datetime, policy: Policy) -> tuple[TrajectoryView, int]:
    """Append the event, move the projection and queue its messages, in the caller's transaction
    (``practice`` may be left out only when the transition tells no one)."""
    new_view = view.apply(fired.event)
    repo.append_transition(s, fired.event, new_view)
    if not fired.effects:
        return new_view, 0
    if practice is None:
        raise ValueError("a transition that notifies the board needs its practice")
    queued = repo.add_messages(s, _messages_for(fired, practice, board, view, policy), created_at=now)
    return new_view, queued


# How recently the engine must have run for the care group to count as live: a fact recorded then is taken at
# once (the runs still to come lie after it); in a care group bringing in history (no run yet, or the last one
# long ago) a fact waits until a run reaches the moment it happened, so runs for earlier moments still can come.
LIVE_WITHIN = timedelta(days=7)


def _reached(s: Session, now: datetime, live: bool | None = None) -> datetime | None:
    """Up to which moment a fact recorded now is taken at once: the engine's horizon, or now when the care
    group is live (the engine ran in the last week; ``live`` says so outright, as a scenario with the clock
    in hand does)."""
    horizon = repo.engine_horizon(s)
    if live:
        return now if horizon is None or now.timestamp() > horizon.timestamp() else horizon
    if live is None and horizon is not None and horizon.timestamp() >= (now - LIVE_WITHIN).timestamp():
        return now if now.timestamp() > horizon.timestamp() else horizon
    return horizon


class _StepWaits(Exception):
    """A step its practice's state cannot take now; the reason is what the officers read."""


class _StepNeedsNoTransition(Exception):
    """A fact whose step is done without a transition (a start conversation for one more programme while the
    cycle runs: its enrolment was stored with the conversation)."""


_STEP_NAMES_NL = {
    Trigger.HOLD_START_CONVERSATION: "startgesprek", Trigger.HOLD_ANNUAL_CONVERSATION: "kwaliteitsjaargesprek",
    Trigger.AGREE_IMPROVEMENT_PLAN: "extra gesprek met verbeterplan", Trigger.LEAVE: "vertrek uit de cyclus",
}


def step_text(step: TrajectoryStepRow) -> str:
    """``extra gesprek met verbeterplan van 29 april 2024``."""
    name = _STEP_NAMES_NL.get(Trigger(step.trigger), step.trigger)
    return f"{name} van {step.details.get('held_on') or as_amsterdam(step.happened_at).date().isoformat()}"


def step_waiting(step: TrajectoryStepRow) -> str:
    """Why a step is not taken: what its state lacks, or the run it waits for."""
    return step.waiting or f"wordt gezet door de eerste run op of na {as_amsterdam(step.happened_at):%Y-%m-%d %H:%M}"


def _step_fires(services: Services, view: TrajectoryView, step: TrajectoryStepRow, recorded_at: datetime) -> Fired:
    services = services.in_force(as_amsterdam(step.happened_at))  # judged under the policy of its own day
    trigger = Trigger(step.trigger)
    held_on = date.fromisoformat(step.details["held_on"])
    plan = ImprovementPlan.model_validate(step.details["plan"]) if step.details.get("plan") else None
    if trigger is Trigger.AGREE_IMPROVEMENT_PLAN and view.flagged_on is not None and held_on < view.flagged_on:
        raise _StepWaits(f"ligt voor de markering van de afwijking op {view.flagged_on.isoformat()}: een verbeterplan "
                         "volgt op de afwijking; corrigeer de datum of leg het gesprek opnieuw vast")
    if trigger is Trigger.HOLD_START_CONVERSATION and step.details.get("programme") and \
            view.state not in (TrajectoryState.START, TrajectoryState.LEFT):
        raise _StepNeedsNoTransition
    ctx = GuardContext(on=held_on, policy=services.policy, plan=plan, view=view)
    try:
        # the event is written now; when the officer entered the fact stays with it
        details = {**step.details, "fact_recorded_at": as_amsterdam(step.recorded_at).isoformat(),
                   "policy_version": services.policy_label}
        return fire(view, trigger, at=as_amsterdam(step.happened_at), actor=step.actor, ctx=ctx,
                    details=details, reasons=step.reasons, recorded_at=recorded_at, late_ok=True)
    except (InvalidTransitionError, GuardRejectedError) as exc:
        state = STATE_NAMES_NL[view.state]
        if view.state in (TrajectoryState.START, TrajectoryState.LEFT):
            raise _StepWaits(f"wacht op een startgesprek: het traject staat op '{state}'") from exc
        if trigger is Trigger.AGREE_IMPROVEMENT_PLAN and view.state is TrajectoryState.ANNUAL_CYCLE:
            raise _StepWaits(f"wacht: het traject staat op '{state}'; een verbeterplan volgt op de markering van "
                             "een afwijking") from exc
        why = f": {exc.why}" if isinstance(exc, GuardRejectedError) else ""
        raise _StepWaits(f"wacht: kan niet vanuit '{state}'{why}") from exc


def _take_steps(s: Session, services: Services, view: TrajectoryView, agb_code: str, upto: datetime,
                recorded_at: datetime) -> tuple[TrajectoryView, list[tuple[Fired, TrajectoryView]], int]:
    """Take every step of the practice whose fact happened by ``upto``, in the order they happened, in the
    caller's transaction; a step that cannot be taken yet keeps waiting (with why). Returns the new view, the
    steps taken (with the view before each) and the messages queued."""
    taken: list[tuple[Fired, TrajectoryView]] = []
    queued = 0
    practice: Practice | None = None
    board: tuple[Person, ...] = ()
    moved = True
    while moved:  # a step taken may let an earlier one that waited go
        moved = False
        for step in repo.due_steps(s, agb_code, upto):
            if step.waiting is not None:
                # it waited, and a fact that happened after it was taken since: taking it now would put it after
                # that one (a second leave taken after the practice started again); the officers decide
                later = repo.last_taken_step_at(s, agb_code)
                if later is not None and later.timestamp() > as_amsterdam(step.happened_at).timestamp():
                    repo.mark_step(s, step, attention=True, waiting=(
                        f"{step.waiting}; intussen is een later feit (van {later:%Y-%m-%d}) al verwerkt: controleer "
                        "de datum, of leg het opnieuw vast"))
                    continue
            try:
                fired = _step_fires(services, view, step, recorded_at)
            except _StepWaits as exc:
                repo.mark_step(s, step, waiting=str(exc))
                continue
            except _StepNeedsNoTransition:
                repo.mark_step(s, step, taken_as=0)
                continue
            if fired.effects and practice is None:
                practice, board = repo.get_practice(s, agb_code), repo.contacts(s, Role.BOARD)
            before = view
            policy = services.in_force(as_amsterdam(step.happened_at)).policy  # the policy of the step's day
            view, n = _commit_fired(s, fired, view, practice, board, recorded_at, policy)
            repo.mark_step(s, step, taken_as=fired.event.seq)
            taken.append((fired, before))
            queued += n
            moved = True
    return view, taken, queued


def record_conversation(services: Services, cmd: RecordConversation, now: datetime, actor: str,
                        plan_source: str = "verbeterplan", *, live: bool | None = None) -> ConversationRecorded:
    """Store a conversation, and the step it asks of the trajectory, in one transaction.

    start: opens the annual cycle (from ``start`` or after leaving); with a programme while the
    cycle already runs, it only starts that enrolment. annual: recorded in every active state.
    extra: with a plan it agrees the improvement plan; without one it is a recorded visit.
    The step is taken at once when the engine has reached the day it was held (``_reached``), else by the
    first run at or after it; a step its state cannot take waits, with why. Recording the same
    conversation again changes nothing.
    """
    now = as_amsterdam(now)
    future = future_fact(f"gesprek van {cmd.agb_code} op", cmd.held_on, now.date(),
                         "leg een gesprek vast nadat het is gehouden")
    if future:
        raise ConversationInFutureError(future)
    checked(check_date, cmd.held_on, "datum van het gesprek")
    services = services.in_force(cmd.held_on)  # its step is judged under the policy of the day it was held
    programme = cmd.programme.value if cmd.programme else None
    conv_id = repo.conversation_id(cmd.agb_code, cmd.kind.value, cmd.held_on, programme)
    gaps = attendance_gaps(cmd.kind, cmd.attendees)
    with services.session() as s:
        if not repo.is_registered(s, cmd.agb_code):
            raise UnknownPracticeError(cmd.agb_code)
        if cmd.plan is not None:
            _plan_indicators_known_or_raise(s, cmd.plan, plan_source)
        stored = repo.get_conversation(s, conv_id)
        if stored is not None:
            _same_conversation_or_raise(stored, cmd)
            return ConversationRecorded(conv_id, cmd.agb_code, cmd.kind, cmd.held_on, True, gaps, None)
        view = repo.load_view(s, cmd.agb_code)
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
        elif cmd.plan is not None:
            trigger = Trigger.AGREE_IMPROVEMENT_PLAN
            details["plan"] = cmd.plan.model_dump(mode="json")
        # an extra conversation without a plan is a recorded visit: it asks no step
        repo.add_conversation(s, ConversationRow(
            id=conv_id, agb_code=cmd.agb_code, kind=cmd.kind.value, held_on=cmd.held_on, programme=programme,
            attendees=[a.model_dump(mode="json") for a in cmd.attendees], attendance_gaps=list(gaps),
            plan=cmd.plan.model_dump(mode="json") if cmd.plan else None, recorded_at=now, actor=actor,
        ))
        outcome = _record_step(s, services, view, cmd.agb_code, trigger, fact_moment(cmd.held_on), now, actor,
                               details, (), source=f"conversation:{conv_id}", live=live)
        s.commit()
    return ConversationRecorded(conv_id, cmd.agb_code, cmd.kind, cmd.held_on, False, gaps,
                                outcome.transition, enrolled, outcome.waiting)


@dataclass(frozen=True)
class StepOutcome:
    """What became of a fact's step when it was recorded: taken (its event), waiting (why), or neither
    (no step asked, or the engine has not reached the day yet: ``waiting`` says so)."""

    transition: TrajectoryTransitioned | None = None
    waiting: str | None = None


def _record_step(s: Session, services: Services, view: TrajectoryView, agb_code: str, trigger: Trigger | None,
                 happened_at: datetime, now: datetime, actor: str, details: dict[str, Any],
                 reasons: tuple[dict[str, Any], ...], *, source: str, live: bool | None = None) -> StepOutcome:
    if trigger is None:
        return StepOutcome()
    step = TrajectoryStepRow(id=repo.step_id(source), agb_code=agb_code, trigger=trigger.value,
                             happened_at=happened_at, recorded_at=now, actor=actor, details=details,
                             reasons=list(reasons))
    repo.add_step(s, step)
    reached = _reached(s, now, live)
    if reached is None or happened_at.timestamp() > reached.timestamp():
        return StepOutcome(waiting=step_waiting(step))
    _, taken, _ = _take_steps(s, services, view, agb_code, reached, now)
    mine = [fired.event for fired, _ in taken if step.status == "taken" and fired.event.seq == step.event_seq]
    if mine:
        return StepOutcome(transition=mine[0])
    if step.status == "taken":  # taken without a transition (one more programme's start while the cycle runs)
        return StepOutcome()
    return StepOutcome(waiting=step.waiting or "wacht")


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
        outcome = _record_step(s, services, view, cmd.agb_code, Trigger.LEAVE, fact_moment(cmd.on), now, actor,
                               {"held_on": cmd.on.isoformat(), "reason": reason},
                               ({"explanation": reason},), source=f"leave:{cmd.agb_code}:{cmd.on.isoformat()}",
                               live=live)
        s.commit()
    return LeaveRecorded(cmd.agb_code, cmd.on, outcome.transition, outcome.waiting)


# --- the engine run ---------------------------------------------------------------------------


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
        name = _STEP_NAMES_NL.get(fired.event.trigger, fired.event.trigger.value)
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
                    view, steps, n = _take_steps(s, services, view, practice.agb_code, now, now)
                    queued += n
                    taken.extend(TransitionTaken(practice.agb_code, practice.name, f.event.trigger, before.state,
                                                 f.event.to_state, _summary(f)) for f, before in steps)
                    fired = _first_that_fires(services, view, practice, figures, on, now, actor)
                    if fired is None:
                        break
                    view_before = view
                    view, n = _commit_fired(s, fired, view, practice, board, now, services.policy)
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
        report.already_ran = repo.get_engine_run(s, now) is not None
        practices = repo.practices(s) if asked is None else repo.practices_of(s, asked)
        codes = [p.agb_code for p in practices]
        board = repo.contacts(s, Role.BOARD)
        catalogue, targets, averages = repo.load_catalogue(s), repo.load_targets(s), repo.load_averages(s)
        views = repo.load_views(s, codes) if only is not None else repo.load_views(s)
        with_steps = repo.practices_with_due_steps(s, codes, now)  # facts that happened by now, not yet taken
        next_steps = repo.next_step_days(s, codes, now) if review_basis is not None else {}
        if only is None or with_medians:
            scores = repo.load_scores(s)  # the medians are taken across every practice's figures
        else:  # only what the rules read: a practice's history matters only once it has a plan
            with_plan = {c for c, v in views.items() if v.state in (TrajectoryState.IMPROVEMENT_PLAN,
                                                                     TrajectoryState.UNDERPERFORMER_POLICY)}
            known_on = now.date() - timedelta(days=services.policy.figures_count_after_days)
            scores = repo.load_scores(s, codes, known_on=known_on, complete=with_plan) if codes else {}
    medians: dict[tuple[IndicatorKey, date], float] = {}
    if with_medians:
        medians = {k: r.median for k, r in references(x for group in scores.values() for x in group).items()}
    # the catalogue, targets, averages and medians as the rules read them, built once and shared by every
    # practice's figures (the rules only read them)
    shared = IndicatorFigures.build(catalogue, targets, averages, (), medians,
                                    count_after_days=services.policy.figures_count_after_days)
    on = now.date()
    marks: dict[str, tuple[tuple[int, int], date | None]] = {}
    for practice in practices:
        report.practices += 1
        own = scores.get(practice.agb_code, [])
        figures = shared.with_scores(own)
        view = views.get(practice.agb_code) or TrajectoryView(agb_code=practice.agb_code)
        if view.last_event_at is not None and view.last_event_at.timestamp() > now.timestamp():
            _later_step(report, practice.agb_code, view.last_event_at, now)
            continue  # not marked: the next sweep looks again
        try:
            # Most practices have nothing due: decide on the view read above, and open a transaction (which
            # reads the view again and decides again, as a concurrent writer may have moved it) only when
            # something fires. A practice with nothing to fire writes nothing either way.
            if practice.agb_code in with_steps or \
                    _first_that_fires(services, view, practice, figures, on, now, actor) is not None:
                taken, queued = evaluate_practice(services, practice, figures, board, now, actor)
                report.transitions.extend(taken)
                report.messages += queued
        except EventBeforeLastError as exc:  # a step recorded between reading the view and deciding
            _later_step(report, practice.agb_code, exc.last, now)
            continue
        except TrajectoryError as exc:
            report.skipped.append((practice.agb_code, str(exc)))
            continue  # not marked: tried again at the next sweep
        except sa.exc.OperationalError:
            raise  # the database is gone: every practice after this one would fail the same way
        except Exception as exc:  # one practice's fault must not stop the others; the run reports it
            if not isinstance(exc, repo.ConcurrentUpdateError):  # foreseen, and its message says what to do
                operations.error("praktijk %s", practice.agb_code, exc_info=exc)
            report.skipped.append((practice.agb_code, _failure_why(practice.agb_code, exc)))
            continue
        if review_basis is not None:
            # a transition taken above counted a change, so the next sweep looks again whatever this says
            # the next day time alone can change a decision, or a recorded fact's step comes due
            days = [d for d in (next_evaluation_on(view, (sc.period_end for sc in own), services.policy,
                                                   services.calendar, on), next_steps.get(practice.agb_code))
                    if d is not None]
            marks[practice.agb_code] = (stamps.get(practice.agb_code, (0, 0)), min(days) if days else None)
    with services.transaction() as s:
        if not report.already_ran:
            repo.record_engine_run(s, EngineRunRow(moment=now, started_at=now, finished_at=now,
                                                   transitions=len(report.transitions),
                                                   messages=report.messages, actor=actor))
        if review_basis is not None:
            review.mark_evaluated(s, marks, review_basis)
    return report


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusLine:
    agb_code: str
    name: str
    gp_group: str | None
    state: TrajectoryState
    since: datetime | None
    reasons: tuple[dict[str, Any], ...]
    next_due: Due | None
    held_messages: tuple[str, ...] = ()  # messages waiting for an address, with the reason
    # steps recorded facts ask that the trajectory has not taken: until when, or why it cannot (attention)
    waiting_steps: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "agb_code": self.agb_code,
            "name": self.name,
            "gp_group": self.gp_group,
            "state": self.state.value,
            "since": self.since.isoformat() if self.since else None,
            "reasons": list(self.reasons),
            "next_due": self.next_due.on.isoformat() if self.next_due else None,
            "next_due_kind": self.next_due.what if self.next_due else None,
            "held_messages": list(self.held_messages),
            "waiting_steps": list(self.waiting_steps),
        }


def status(services: Services, as_of: datetime | None = None, *, now: datetime | None = None) -> list[StatusLine]:
    """Where every practice stands: now (the stored projections, with the steps waiting and the messages held),
    or ``as_of`` a past moment (rebuilt from the events that happened by then; what waited then is not kept).
    Due dates follow the policy in force at that moment (``now``: the clock the caller reads)."""
    if as_of is not None:
        return _status_as_of(services.in_force(as_of), as_amsterdam(as_of))
    if now is not None:
        services = services.in_force(now)
    with services.session() as s:
        views = repo.load_views(s)
        practices = repo.practices(s)
        steps: dict[str, list[str]] = {}
        for step in repo.pending_steps(s):
            steps.setdefault(step.agb_code, []).append(f"{step_text(step)}: {step_waiting(step)}")
    held = held_messages_by_practice(services)
    lines = []
    for p in practices:
        view = views.get(p.agb_code) or TrajectoryView(agb_code=p.agb_code)
        lines.append(StatusLine(p.agb_code, p.name, p.gp_group, view.state,
                                as_amsterdam(view.since) if view.since else None, view.reasons,
                                next_due(view, services.policy, services.calendar),
                                tuple(held.get(p.agb_code, ())), tuple(steps.get(p.agb_code, ()))))
    return lines


def held_messages_by_practice(services: Services) -> dict[str | None, list[str]]:
    """Reasons messages wait for an address, per practice (None: care-group messages)."""
    found: dict[str | None, list[str]] = {}
    with services.session() as s:
        for row in repo.held_messages(s):
            found.setdefault(row.agb_code, []).append(f"{row.kind}: {row.last_error}")
    return found


def _status_as_of(services: Services, moment: datetime) -> list[StatusLine]:
    with services.session() as s:
        practices = repo.practices(s)
        events = repo.load_all_events(s)
    lines = []
    for p in practices:
        view = as_of(p.agb_code, events.get(p.agb_code, ()), moment)
        lines.append(StatusLine(p.agb_code, p.name, p.gp_group, view.state,
                                as_amsterdam(view.since) if view.since else None, view.reasons,
                                next_due(view, services.policy, services.calendar)))
    return lines


def history(services: Services, agb_code: str, as_of: datetime | None = None) -> list[TrajectoryTransitioned]:
    """A practice's events in the order they were recorded; ``as_of`` a moment: those that happened by then, in
    the order they happened."""
    with services.session() as s:
        if repo.get_practice(s, agb_code) is None:
            raise UnknownPracticeError(agb_code)
        events = repo.load_events(s, agb_code)
    return events if as_of is None else happened_by(events, as_amsterdam(as_of))


@dataclass(frozen=True)
class ReplayResult:
    agb_code: str
    events: int
    stored: dict[str, Any]
    rebuilt: dict[str, Any]
    error: str | None = None

    @property
    def differences(self) -> dict[str, tuple[Any, Any]]:
        keys = set(self.stored) | set(self.rebuilt)
        return {k: (self.stored.get(k), self.rebuilt.get(k)) for k in sorted(keys)
                if self.stored.get(k) != self.rebuilt.get(k)}

    @property
    def agrees(self) -> bool:
        return self.error is None and not self.differences


def replay_practice(services: Services, agb_code: str) -> ReplayResult:
    """Rebuild a practice's state from its events through the machine and compare with the stored projection."""
    with services.session() as s:
        if repo.get_practice(s, agb_code) is None:
            raise UnknownPracticeError(agb_code)
        events = repo.load_events(s, agb_code)
        row = s.get(TrajectoryRow, agb_code)
    stored = dict(row.view) if row and row.view else repo.view_as_json(TrajectoryView(agb_code=agb_code))
    if row is not None:  # the row's own columns must agree with its view too
        stored["_row"] = _row_columns(row.state, row.version, row.since)
    try:
        rebuilt_view = replay(agb_code, events)
    except ReplayMismatchError as exc:
        return ReplayResult(agb_code, len(events), stored, {}, error=str(exc))
    rebuilt = repo.view_as_json(rebuilt_view)
    rebuilt["_row"] = _row_columns(rebuilt_view.state.value, rebuilt_view.version, rebuilt_view.since)
    return ReplayResult(agb_code, len(events), stored, rebuilt)


def _row_columns(state: str, version: int, since: datetime | None) -> dict[str, Any]:
    return {"state": state, "version": version, "since": since.astimezone(UTC).isoformat() if since else None}


def known_practices(services: Services) -> set[str]:
    with services.session() as s:
        return repo.practice_codes(s)


def catalogue_keys(services: Services) -> set[IndicatorKey]:
    with services.session() as s:
        return repo.catalogue_keys(s)


def import_conversations(services: Services, lines: Sequence[ConversationLine], now: datetime, actor: str,
                         source: str) -> list[ConversationRecorded]:
    """Record conversations from a spreadsheet in the order they were held.

    Each is recorded as ``record_conversation`` would; a refused one stops the import with the
    file's row, and what was recorded before it stays (each conversation is its own fact).
    """
    results = []
    for line in sorted(lines, key=lambda item: (item.held_on, item.row)):
        cmd = RecordConversation(agb_code=line.agb_code, kind=line.kind, held_on=line.held_on,
                                 programme=line.programme)
        try:
            results.append(record_conversation(services, cmd, now, actor))
        except TrajectoryError as exc:
            raise ImportStoppedError(f"{source}, rij {line.row}: {exc} ({len(results)} eerdere rijen vastgelegd)") \
                from exc
    return results


class ImportStoppedError(ConflictError):
    """An import of conversations stopped at a row the trajectory refused."""


def event_as_json(event: TrajectoryTransitioned) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": as_amsterdam(event.at).isoformat(),
        "recorded_at": as_amsterdam(event.recorded).isoformat(),
        "trigger": event.trigger.value,
        "from_state": event.from_state.value,
        "to_state": event.to_state.value,
        "reasons": list(event.reasons),
        "actor": event.actor,
        "details": event.details,
    }


# --- indicator views --------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorView:
    scope: str  # "praktijk 01234567 De Linde", "huisartsengroep HAGRO-WEST", "zorggroep Cohaesie"
    period_end: date | None
    lines: list[IndicatorLine]


def indicator_view(services: Services, *, agb_code: str | None = None, gp_group: str | None = None,
                   period_end: date | None = None, on: date | None = None) -> IndicatorView:
    """A practice's, a GP group's (pooled) or the whole care group's (pooled, when neither is given)
    indicators for a period (default: the latest known on ``on``), each with the care group's own
    reference across its practices."""
    with services.session() as s:
        registry = repo.load_registry(s)
        catalogue, targets, averages = repo.load_catalogue(s), repo.load_targets(s), repo.load_averages(s)
        all_scores = [x for scores in repo.load_scores(s).values() for x in scores]
    members = {p.agb_code for p in registry.practices}
    if agb_code is not None:
        practice = next((p for p in registry.practices if p.agb_code == agb_code), None)
        if practice is None:
            raise UnknownPracticeError(agb_code)
        scope, members = f"praktijk {agb_code} {practice.name}", {agb_code}
    elif gp_group is not None:
        members = {p.agb_code for p in registry.practices if p.gp_group == gp_group}
        if not members:
            raise UnknownGpGroupError(gp_group)
        scope = f"huisartsengroep {gp_group}"
    else:
        scope = f"zorggroep {registry.care_group.name}"
    mine = [x for x in all_scores if x.agb_code in members]
    counts: dict[tuple[IndicatorKey, date], int] = {}
    for x in mine:
        counts[(x.key, x.period_end)] = counts.get((x.key, x.period_end), 0) + 1
    shown = mine if agb_code is not None else pool(mine)
    figures = IndicatorFigures.build(catalogue, targets, averages, shown)
    period = period_end or figures.latest_period(on or date.max)
    if period is None:
        return IndicatorView(scope, None, [])
    return IndicatorView(scope, period, indicator_lines(figures, period, references(all_scores), counts))


def chart_series(services: Services, agb_code: str, main_only: bool = True) -> tuple[str, list[Series]]:
    """A practice's score history per indicator, with its target and national averages, for a chart."""
    with services.session() as s:
        practice = repo.get_practice(s, agb_code)
        if practice is None:
            raise UnknownPracticeError(agb_code)
        catalogue = {d.key: d for d in repo.load_catalogue(s)}
        targets = {t.key: t.target for t in repo.load_targets(s)}
        averages = repo.load_averages(s)
        scores = repo.load_scores(s, [agb_code]).get(agb_code, [])
    by_key: dict[IndicatorKey, list[tuple[date, float]]] = {}
    for x in sorted(scores, key=lambda x: x.period_end):
        definition = catalogue.get(x.key)
        if main_only and (definition is None or not definition.main):
            continue
        by_key.setdefault(x.key, []).append((x.period_end, x.score))
    series = [
        Series(title=str(key), subtitle=catalogue[key].name if key in catalogue else "", points=points,
               target=targets.get(key),
               national={a.year: a.national_average for a in averages if a.key == key})
        for key, points in sorted(by_key.items())
    ]
    return f"{practice.name} ({agb_code})", series


class UnknownGpGroupError(NotFoundError):
    def __init__(self, code: str) -> None:
        super().__init__(f"huisartsengroep {code} is niet bekend of heeft geen praktijken")
