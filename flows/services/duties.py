"""The care group's recurring duties as plain service functions, each taking the moment it runs for.

- ``plan_obligations``: bring every practice's open duties (start, annual and extra conversations,
  instruction kits, mandatory courses) in line with the facts, the policy and the working calendar:
  new duties are planned, moved ones rescheduled with the reason, met ones closed.
- ``sweep_due``: for the practices whose facts, figures, shared inputs or deadlines moved
  (``storage.review``), advance trajectories and plan duties; then queue the invitations, reminders,
  overdue notices and course reminders whose day has come.
- ``plan_meetings``: the POH meetings and practice-manager meetings of this year and the next, and
  their invitations.
- ``refresh_kits``: the instruction kits falling due and the notices to their practices.
- ``board_digest``: the board's periodic digest of every trajectory under the underperformer policy.
- ``recalculate_from_inbox``: recalculate indicators from new extracts, then evaluate the practices
  whose figures changed.

Invariants:
- Idempotent per moment: a retry or a second run for the same ``now`` adds no rows and no messages
  (deterministic keys, ``INSERT ... ON CONFLICT DO NOTHING``, version-guarded updates). A run killed
  half-way committed whole batches only; the rerun completes the rest.
- Two workers sweeping at once do not double-plan or double-notify: they race on unique keys and
  version checks, and the loser does nothing.
- Practices are rows swept in batches, never one schedule or one task per practice; a sweep reviews
  only the practices that need it, and ends exactly where reviewing all of them ends (``full=True``).
- Nothing here reads the clock or knows of Prefect or APScheduler; ``flows/runners/prefect_flows.py`` and
  ``flows/runners/embedded.py`` wrap these functions.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlmodel import Session

from domain.clock import as_amsterdam, future_fact
from domain.errors import InFutureError, NotFoundError
from domain.indicators import IndicatorFigures, IndicatorScore
from domain.inputs import check_date, checked
from domain.messages import OutboxMessage
from domain.obligations import (
    CONVERSATION_KINDS,
    MEETING_KINDS,
    NOTICE_STAGE_NAMES_NL,
    KitKind,
    Obligation,
    ObligationKind,
    ObligationStatus,
    PracticeFacts,
    basis_change_reason,
    calendar_fingerprint,
    fulfilled_on,
    meeting_obligations,
    next_notice_on,
    practice_obligations,
    stages_to_send,
)
from domain.policy import MissingAverage
from domain.registry import Person, Practice, Role
from domain.rules import assess_progress
from domain.trajectory import TrajectoryState, TrajectoryView, Trigger, as_of
from flows.services.engine import (
    ENGINE_ACTOR,
    Services,
    TransitionTaken,
    UnknownPracticeError,
    recalculate_indicators,
    run_due,
)
from notifications.notices import (
    CONVERSATION_OF,
    conversation_messages,
    digest_messages,
    kit_messages,
    meeting_messages,
    officers_for,
    training_messages,
)
from notifications.wording import date_nl, state_nl
from storage import obligations as store
from storage import repository as repo
from storage import review
from storage.tables import (
    CareGroupRow,
    ConversationRow,
    ObligationRow,
)

PRACTICE_KINDS = frozenset(ObligationKind) - MEETING_KINDS
SWEEP_KINDS = CONVERSATION_KINDS | {ObligationKind.MANDATORY_COURSE}
DEFAULT_BATCH = 500


@dataclass
class DutyReport:
    """What a duty did for a moment: what the CLI prints, the duty run records and the artifact shows."""

    duty: str
    moment: datetime
    already_ran: bool = False
    practices: int = 0
    planned: int = 0
    rescheduled: int = 0
    done: int = 0
    cancelled: int = 0
    transitions: list[TransitionTaken] = field(default_factory=list)
    queued: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (what, why), Dutch: the run failed
    deferred: list[tuple[str, str]] = field(default_factory=list)  # (practice, why): left to the next run
    lines: list[dict[str, str]] = field(default_factory=list)  # the artifact's table: praktijk, wat, details
    delivery: Delivery | None = None  # what a dispatch sent, held, retried and gave up

    @property
    def messages(self) -> int:
        return sum(self.queued.values())

    @property
    def escalated(self) -> list[str]:
        return [t.agb_code for t in self.transitions if t.trigger is Trigger.ESCALATE]

    def merge(self, other: DutyReport) -> None:
        self.practices += other.practices
        self.planned += other.planned
        self.rescheduled += other.rescheduled
        self.done += other.done
        self.cancelled += other.cancelled
        self.transitions.extend(other.transitions)
        self.queued.update(other.queued)
        self.failures.extend(other.failures)
        self.deferred.extend(other.deferred)
        self.lines.extend(other.lines)

    def line(self, practice: str, what: str, details: str) -> None:
        self.lines.append({"praktijk": practice, "wat": what, "details": details})

    def summary(self) -> dict[str, Any]:
        return {
            "duty": self.duty, "moment": self.moment.isoformat(), "already_ran": self.already_ran,
            "practices": self.practices, "planned": self.planned, "rescheduled": self.rescheduled,
            "done": self.done, "cancelled": self.cancelled, "transitions": len(self.transitions),
            "escalated": self.escalated, "messages": self.messages, "queued": dict(sorted(self.queued.items())),
            "failures": [{"what": w, "why": y} for w, y in self.failures],
            "deferred": [{"practice": p, "why": y} for p, y in self.deferred],
            **({"delivery": self.delivery.summary()} if self.delivery is not None else {}),
        }

    @property
    def failed(self) -> bool:
        return bool(self.failures)


@dataclass
class Delivery:
    """What one dispatch of the outbox did: counted per message kind, with the reason for each problem."""

    channel: str
    sent: Counter[str] = field(default_factory=Counter)  # per kind
    resent: int = 0  # of those: found half-sent after an interruption, sent again with the same Message-ID
    held: list[tuple[str, str]] = field(default_factory=list)  # (kind, why): waiting for an address
    retrying: list[tuple[str, str]] = field(default_factory=list)  # (kind, why): tried again later
    given_up: list[tuple[str, str]] = field(default_factory=list)  # (kind, why): failed for good

    def summary(self) -> dict[str, Any]:
        return {"channel": self.channel, "sent": dict(sorted(self.sent.items())), "resent": self.resent,
                "held": len(self.held), "retrying": len(self.retrying), "given_up": len(self.given_up)}


# --- helpers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewBasis:
    """What every practice's review shares, as digests: a review made under another basis is stale.

    ``planning``: the policy and the working calendar. ``evaluation``: those, the indicator catalogue,
    the targets and national averages, and (when the policy falls back to the care group's median) every
    import of scores, since a median moves with any practice's figures."""

    evaluation: str
    planning: str

    @classmethod
    def load(cls, services: Services) -> ReviewBasis:
        planning = _digest(services.policy.fingerprint(), calendar_fingerprint(services.calendar))
        parts = [planning]
        with services.session() as s:
            # without a national average the judgement depends on when figures came in: the imports count too
            parts.extend(repo.reference_rows(
                s, with_imports=services.policy.without_national_average is not MissingAverage.NONE))
        return cls(evaluation=_digest(*parts), planning=planning)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _batches(codes: Sequence[str], size: int) -> list[list[str]]:
    return [list(codes[i:i + size]) for i in range(0, len(codes), size)]


def practice_batches(services: Services, size: int = DEFAULT_BATCH) -> list[list[str]]:
    """The care group's practices in batches of ``size`` AGB codes, in a stable order."""
    with services.session() as s:
        return _batches(sorted(repo.practice_codes(s)), size)


def _care_group(s: Session) -> str:
    row = s.get(CareGroupRow, 1)
    return row.name if row else "de zorggroep"


def _day(moment: datetime) -> date:
    return as_amsterdam(moment).date()


def _facts(s: Session, practices: Sequence[Practice], rows: Sequence[ObligationRow], on: date
           ) -> dict[str, PracticeFacts]:
    codes = [p.agb_code for p in practices]
    views = repo.load_views(s, codes)
    starts = store.start_conversations(s, codes, on)
    kits = store.kit_refreshes(s, codes, on)
    courses = store.course_completions(s, codes, on)
    first: dict[str, dict[str, date]] = {}
    for r in rows:
        first.setdefault(r.agb_code or "", {})[r.key] = _day(r.created_at)
    out = {}
    for p in practices:
        view = views.get(p.agb_code) or repo.load_view(s, p.agb_code)
        out[p.agb_code] = PracticeFacts(
            agb_code=p.agb_code, view=view, programmes=p.programmes,
            people=tuple((person.name, person.role) for person in p.people),
            start_conversations=starts.get(p.agb_code, {}), kit_refreshes=kits.get(p.agb_code, {}),
            course_completions=courses.get(p.agb_code, {}),
            first_planned=first.get(p.agb_code, {}))
    return out


def _notices_after_reschedule(row: ObligationRow, wanted: Obligation) -> list[str]:
    """Which queued notices still hold once the dates move: a new day needs a new invitation and reminder,
    a new due date a new overdue notice or kit/course notice."""
    keep = set(row.notices_done)
    if wanted.planned_on != row.planned_on:
        keep -= {"invitation", "reminder"}
    if wanted.due_on != row.due_on:
        keep -= {"overdue", "notice"}
    return sorted(keep)


def _withdrawn_prefixes(row: ObligationRow, wanted: Obligation) -> list[str]:
    """Keys of the messages a move makes wrong: invitations and reminders for the old day."""
    if row.planned_on is None or wanted.planned_on == row.planned_on:
        return []
    old = row.planned_on.isoformat()
    if row.kind in {k.value for k in MEETING_KINDS}:
        return [f"meeting_invitation:{row.kind}:{old}:"]
    kind = CONVERSATION_OF[ObligationKind(row.kind)].value
    return [f"conversation_{stage}:{row.agb_code}:{kind}:{old}:" for stage in ("invitation", "reminder")]


def _sync(s: Session, services: Services, rows: Sequence[ObligationRow], desired: dict[str, Obligation],
          facts: dict[str, PracticeFacts], report: DutyReport, now: datetime, actor: str, reason: str | None,
          on: date, create_before: date | None = None) -> set[str]:
    """Bring stored open obligations in line with the desired ones: close met ones, reschedule moved ones
    (and withdraw what was queued for the old day), cancel ones no longer owed, add new ones.

    Returns the practices (``""`` for the care group's meetings) with an update that another writer beat:
    the row changed under us (a notice queued, another planner), so this planning is not complete for
    them and they must not be recorded as planned; the next sweep plans them again."""
    policy = services.policy
    lost: set[str] = set()
    for row in rows:
        ob = store.as_obligation(row)
        met = fulfilled_on(ob, facts.get(row.agb_code or ""), on)
        if met is not None:  # checked first: a held meeting is still "desired" by this year's plan
            desired.pop(row.key, None)
            if store.close(s, row, ObligationStatus.DONE, met, now=now, actor=actor,
                           reason=f"voldaan op {met.isoformat()}"):
                report.done += 1
            else:
                lost.add(row.agb_code or "")
            continue
        want = desired.pop(row.key, None)
        if want is not None:
            if (want.due_on, want.planned_on, dict(want.basis)) == (row.due_on, row.planned_on, row.basis):
                continue
            if want.kind in MEETING_KINDS and want.due_on < on:
                continue  # a coming meeting is never moved into the past (a new count per year mid-year)
            why = basis_change_reason(row.basis, want.basis) + (f"; {reason}" if reason else "")
            done = _notices_after_reschedule(row, want)
            notice_on = next_notice_on(want, policy, frozenset(done))
            if (want.due_on, want.planned_on, notice_on) == (row.due_on, row.planned_on, row.next_notice_on):
                if not store.refresh_basis(s, row, want, now):  # the rule's inputs changed, its dates did not
                    lost.add(row.agb_code or "")
                continue
            old_due, withdrawn = row.due_on, _withdrawn_prefixes(row, want)
            if store.reschedule(s, row, want, notices_done=done, next_notice_on=notice_on,
                                now=now, actor=actor, reason=why):
                store.withdraw_messages(s, withdrawn, f"vervangen: verplaatst naar {want.planned_on}")
                report.rescheduled += 1
                report.line(row.agb_code or "zorggroep", f"{want.title_nl} verplaatst",
                            f"{date_nl(old_due)} -> {date_nl(want.due_on)}: {why}")
            else:
                lost.add(row.agb_code or "")
            continue
        view = facts[row.agb_code].view if row.agb_code in facts else None
        why = (f"niet meer verschuldigd: traject staat op {state_nl(view.state.value)}" if view is not None
               else "niet meer verschuldigd volgens beleid en kalender")
        if reason:
            why += f"; {reason}"
        if store.close(s, row, ObligationStatus.CANCELLED, on, now=now, actor=actor, reason=why):
            report.cancelled += 1
            report.line(row.agb_code or "zorggroep", f"{ob.title_nl} vervallen", why)
        else:
            lost.add(row.agb_code or "")
    fresh = [o for o in desired.values() if create_before is None or o.due_on >= create_before]
    next_notice = {o.key: next_notice_on(o, policy, frozenset()) for o in fresh}
    added = set(store.add_obligations(s, fresh, next_notice=next_notice, now=now, actor=actor,
                                      reason=reason or "gepland"))
    report.planned += len(added)
    for o in fresh:
        if o.key in added and len(report.lines) < 2000:
            report.line(o.agb_code or "zorggroep", f"{o.title_nl} gepland",
                        f"uiterlijk {date_nl(o.due_on)}" + (f", op {date_nl(o.planned_on)}" if o.planned_on else ""))
    return lost


# --- planning ---------------------------------------------------------------------------------


def plan_batch(services: Services, now: datetime, codes: Sequence[str], *, actor: str = ENGINE_ACTOR,
               reason: str | None = None, basis: ReviewBasis | None = None) -> DutyReport:
    """Plan one batch of practices' duties in one transaction, and record them as planned under ``basis``
    (so a sweep skips them until a fact of theirs, the policy or the calendar changes)."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    on = now.date()
    report = DutyReport("plan_obligations", now)
    if not codes:
        return report
    basis = basis or ReviewBasis.load(services)
    with services.transaction() as s:
        stamps = review.stamps(s, list(codes))  # before the facts they stamp
        practices = repo.practices_of(s, list(codes))
        report.practices = len(practices)
        rows = store.open_obligations(s, kinds=PRACTICE_KINDS, agb_codes=list(codes))
        # a course never completed counts from the day it was first planned, also once closed and replanned
        facts = _facts(s, practices, rows, on)
        desired: dict[str, Obligation] = {}
        failed: set[str] = set()
        for p in practices:  # one practice's impossible dates must not leave the others unplanned
            try:
                desired.update((o.key, o) for o in practice_obligations(facts[p.agb_code], services.policy,
                                                                         services.calendar, on))
            except (ValueError, OverflowError) as exc:
                failed.add(p.agb_code)
                report.failures.append((p.agb_code, f"praktijk {p.agb_code}: taken niet te plannen ({exc}); "
                                                    "controleer de data van de praktijk in het register"))
        rows = [r for r in rows if r.agb_code not in failed]
        lost = _sync(s, services, rows, desired, facts, report, now, actor, reason, on) | failed
        review.mark_planned(s, {p.agb_code: stamps.get(p.agb_code, (0, 0)) for p in practices
                                if p.agb_code not in lost}, basis.planning)
    return report


def plan_obligations(services: Services, now: datetime, *, actor: str = ENGINE_ACTOR, reason: str | None = None,
                     batch_size: int = DEFAULT_BATCH) -> DutyReport:
    """Plan every practice's duties, whether or not anything changed (the operator's ``qualitycycle plan``);
    after a change of calendar or policy, ``reason`` says why."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    report = DutyReport("plan_obligations", now)
    basis = ReviewBasis.load(services)
    for codes in practice_batches(services, batch_size):
        report.merge(plan_batch(services, now, codes, actor=actor, reason=reason, basis=basis))
    return _finish(services, report, actor)


# --- the sweep --------------------------------------------------------------------------------


@dataclass
class _Reference:
    """What the messages of a chunk of obligations read besides the obligations: loaded once per chunk, for
    every practice in it, instead of once per message (the chunk's transaction changes none of it)."""

    shared: IndicatorFigures  # catalogue, targets and averages; no scores
    scores: dict[str, list[IndicatorScore]]
    views: dict[str, TrajectoryView]
    plans: dict[str, ConversationRow]  # per practice, its last conversation that agreed a plan

    @classmethod
    def load(cls, s: Session, codes: Sequence[str], on: date, count_after_days: int = 0) -> _Reference:
        codes = sorted(set(codes))
        plans = repo.latest_plans(s, codes, on)
        return cls(IndicatorFigures.build(repo.load_catalogue(s), repo.load_targets(s), repo.load_averages(s), (),
                                          count_after_days=count_after_days),
                   repo.load_scores(s, codes, known_on=on - timedelta(days=count_after_days)) if codes else {},
                   repo.load_views(s, codes) if codes else {}, plans)

    def view(self, agb_code: str) -> TrajectoryView:
        return self.views.get(agb_code) or TrajectoryView(agb_code=agb_code)


def _prepare(practice: Practice, on: date, reference: _Reference) -> dict[str, Any]:
    """What a practice prepares for a conversation: its main indicators against target and national
    average, and the agreements of its last plan (seed 1: agreements are evaluated the next time)."""
    figures = reference.shared.with_scores(reference.scores.get(practice.agb_code, []))
    latest = figures.latest_scores(on)
    lines = []
    for key, score in sorted(latest.items(), key=lambda kv: str(kv[0])):
        definition = figures.catalogue.get(key)
        if definition is None or not definition.main:
            continue
        average = figures.national_average(key, score.period_end)
        lines.append({"programme": key.programme.value, "indicator": key.indicator, "name": definition.name,
                      "score": round(score.score, 1), "numerator": score.numerator, "denominator": score.denominator,
                      "target": figures.targets.get(key), "national_average": average[1] if average else None,
                      "national_average_year": average[0] if average else None})
    period = figures.latest_period(on)
    prepare: dict[str, Any] = {"period_end": period.isoformat() if period else None, "indicators": lines,
                               "agreements": []}
    planned = reference.plans.get(practice.agb_code)
    if planned is not None and planned.plan:
        prepare["agreements"] = list(planned.plan.get("agreements", []))
        prepare["agreements_from"] = planned.held_on.isoformat()
    return prepare


def _queue_notices(s: Session, services: Services, rows: Sequence[ObligationRow], report: DutyReport,
                   now: datetime) -> None:
    """Queue the messages the given obligations owe today, and mark them, in the caller's transaction."""
    on = now.date()
    policy = services.policy
    codes = sorted({r.agb_code for r in rows if r.agb_code})
    practices = {p.agb_code: p for p in repo.practices_of(s, codes)} if codes else {}
    officers = repo.contacts(s, Role.OFFICER)
    care_group = _care_group(s)
    all_practices: list[Practice] | None = None
    reference: _Reference | None = None
    owed: list[tuple[ObligationRow, Obligation, list[str], list[str], list[OutboxMessage]]] = []
    for row in rows:
        ob = store.as_obligation(row)
        done = frozenset(row.notices_done)
        send, skip = stages_to_send(ob, policy, done, on)
        messages: list[OutboxMessage] = []
        practice = practices.get(row.agb_code or "")
        for stage in send:
            if ob.kind in CONVERSATION_KINDS and practice is not None:
                if reference is None:
                    reference = _Reference.load(s, [r.agb_code for r in rows if r.agb_code in practices
                                                    and ObligationKind(r.kind) in CONVERSATION_KINDS], on,
                                                policy.figures_count_after_days)
                view = reference.view(practice.agb_code)
                prepare = _prepare(practice, on, reference) if stage != "overdue" else None
                messages += conversation_messages(stage, ob, practice, officers, care_group, policy, prepare,
                                                  state=view.state.value, last_held_on=view.last_annual_conversation_on,
                                                  sequence=row.version)
            elif ob.kind in MEETING_KINDS:
                if all_practices is None:  # practices that left the cycle are not invited
                    left = {v.agb_code for v in repo.load_views(s).values() if v.state is TrajectoryState.LEFT}
                    all_practices = [p for p in repo.practices(s) if p.agb_code not in left]
                organizer = officers_for("meeting", officers)
                messages += meeting_messages(ob, all_practices, organizer[0] if organizer else None, care_group,
                                             policy, sequence=row.version)
            elif ob.kind is ObligationKind.INSTRUCTION_KIT and practice is not None:
                contact = officers_for(practice.agb_code, officers)
                messages += kit_messages(ob, practice, contact[0] if contact else None, care_group)
            elif ob.kind is ObligationKind.MANDATORY_COURSE and practice is not None:
                messages += training_messages(ob, practice, policy, care_group)
        owed.append((row, ob, send, skip, messages))
    # every message of the chunk in one insert; a message of an obligation another worker marks first is
    # queued all the same (the same key: the other worker's copy or ours, never both)
    new_keys = repo.queue_messages(s, [m for *_, messages in owed for m in messages], created_at=now)
    for row, ob, send, skip, messages in owed:
        after = frozenset(row.notices_done) | set(send) | set(skip)
        if not store.mark_notices(s, row, sorted(after), next_notice_on(ob, policy, after), now):
            continue  # another worker marked it first; its messages and ours share keys
        new_by_kind = Counter(m.kind for m in messages if m.key in new_keys)
        new = sum(new_by_kind.values())
        if new:
            report.queued.update(new_by_kind)
            report.line(row.agb_code or "zorggroep", ob.title_nl,
                        f"{', '.join(NOTICE_STAGE_NAMES_NL.get(x, x) for x in send)}: {new} bericht(en) klaargezet, "
                        f"datum {date_nl(ob.planned_on or ob.due_on)}")


def _advance(services: Services, now: datetime, codes: Sequence[str], actor: str, report: DutyReport,
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
                   full: bool = False) -> list[list[str]]:
    """The practices a sweep at ``now`` must look at, in batches: those whose facts, scores or shared
    inputs changed since they were last reviewed, or whose next time-based decision falls due (``full``:
    every practice)."""
    if full:
        return practice_batches(services, batch_size)
    on = as_amsterdam(now).date()
    with services.session() as s:
        codes = sorted(set(review.due_for_evaluation(s, basis.evaluation, on))
                       | set(review.due_for_planning(s, basis.planning)))
    return _batches(codes, batch_size)


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
    _advance(services, now, evaluate, actor, report, basis)
    with services.session() as s:  # after the transitions, which count as changes to plan from
        plan = list(codes) if full else review.due_for_planning(s, basis.planning, codes)
    report.merge(plan_batch(services, now, plan, actor=actor, basis=basis))
    report.practices = len(set(evaluate) | set(plan))
    return report


def queue_due_notices(services: Services, now: datetime, kinds: Iterable[ObligationKind], report: DutyReport,
                      *, chunk: int = DEFAULT_BATCH) -> None:
    """Queue every message of the given kinds whose day has come, for every practice, ``chunk`` obligations
    per transaction (read through the ``next_notice_on`` index: only the rows with something due)."""
    kinds = list(kinds)
    services = services.in_force(now)
    after: str | None = None
    while True:
        with services.transaction() as s:
            rows = store.notices_due(s, now.date(), kinds=kinds, after_key=after, limit=chunk)
            if not rows:
                return
            _queue_notices(s, services, rows, report, now)
            after = rows[-1].key


def sweep_due(services: Services, now: datetime, *, actor: str = ENGINE_ACTOR,
              batch_size: int = DEFAULT_BATCH, full: bool = False) -> DutyReport:
    """Everything due at ``now``: the practices that need it reviewed batch by batch, then every message
    whose day has come, ``batch_size`` obligations per transaction. ``full`` reviews every practice (the
    same result, only slower)."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    report = DutyReport("sweep_due", now)
    basis = ReviewBasis.load(services)
    for codes in review_batches(services, now, basis, batch_size=batch_size, full=full):
        report.merge(sweep_batch(services, now, codes, actor=actor, basis=basis, full=full))
    queue_due_notices(services, now, SWEEP_KINDS, report, chunk=batch_size)
    report.duty = "sweep_due"
    return _finish(services, report, actor)


# --- meetings, kits, courses ------------------------------------------------------------------


def plan_meetings(services: Services, now: datetime, *, actor: str = ENGINE_ACTOR, reason: str | None = None
                  ) -> DutyReport:
    """Plan this year's and next year's POH and practice-manager meetings, close held ones, invite."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    on = now.date()
    report = DutyReport("plan_meetings", now)
    with services.transaction() as s:
        rows = store.open_obligations(s, kinds=MEETING_KINDS)
        desired = {o.key: o for year in (on.year, on.year + 1)
                   for o in meeting_obligations(year, services.policy, services.calendar)}
        _sync(s, services, rows, desired, {}, report, now, actor, reason, on, create_before=on)
        due = store.notices_due(s, on, kinds=MEETING_KINDS)
        _queue_notices(s, services, due, report, now)
    return _finish(services, report, actor)


def refresh_kits(services: Services, now: datetime, *, actor: str = ENGINE_ACTOR,
                 batch_size: int = DEFAULT_BATCH, full: bool = False) -> DutyReport:
    """Plan the duties of practices whose facts changed (``full``: of every practice; the kits among them,
    by ``plan_obligations``' rules) and notify the practices whose kits fall due for their two-yearly
    refresh."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    report = DutyReport("refresh_kits", now)
    basis = ReviewBasis.load(services)
    if full:
        batches = practice_batches(services, batch_size)
    else:
        with services.session() as s:
            batches = _batches(review.due_for_planning(s, basis.planning), batch_size)
    for codes in batches:
        report.merge(plan_batch(services, now, codes, actor=actor, basis=basis))
    queue_due_notices(services, now, [ObligationKind.INSTRUCTION_KIT], report)
    report.duty = "refresh_kits"
    return _finish(services, report, actor)


def _practice_or_raise(s: Session, agb_code: str) -> Practice:
    practice = repo.get_practice(s, agb_code)
    if practice is None:
        raise UnknownPracticeError(agb_code)
    return practice


def _not_in_future(on: date, now: datetime, what: str) -> None:
    checked(check_date, on, what)
    future = future_fact(f"{what} op", on, as_amsterdam(now).date(), "leg het vast op of na die dag")
    if future:
        raise RecordedInFutureError(future)


def record_kit_refresh(services: Services, agb_code: str, kit: KitKind, on: date, now: datetime, actor: str) -> bool:
    """Record that a practice's instruction kit was refreshed; its next refresh is planned from it."""
    _not_in_future(on, now, f"actualisatie van de koffer {kit.value}")
    with services.transaction() as s:
        _practice_or_raise(s, agb_code)
        new = store.record_kit_refresh(s, agb_code, kit, on, as_amsterdam(now), actor)
    plan_batch(services, now, [agb_code], actor=actor)
    return new


def record_course_completion(services: Services, agb_code: str, person: str, course: str, on: date, now: datetime,
                             actor: str) -> bool:
    """Record that a person of a practice completed a mandatory course."""
    _not_in_future(on, now, f"scholing {course} van {person}")
    services = services.in_force(on)
    with services.transaction() as s:
        practice = _practice_or_raise(s, agb_code)
        if not any(p.name == person for p in practice.people):
            raise UnknownPersonError(f"{person} staat niet in het register van praktijk {agb_code}")
        if not any(c.code == course for c in services.policy.mandatory_courses):
            codes = ", ".join(c.code for c in services.policy.mandatory_courses)
            raise UnknownCourseError(f"scholing {course!r} is onbekend; bekend zijn: {codes}")
        new = store.record_course_completion(s, agb_code, person, course, on, as_amsterdam(now), actor)
    plan_batch(services, now, [agb_code], actor=actor)
    return new


class UnknownPersonError(NotFoundError):
    """A person the practice's register does not know."""


class UnknownCourseError(UnknownPersonError):
    """A course the policy's mandatory courses do not know (a subclass: one refusal for the CLI)."""


class RecordedInFutureError(InFutureError):
    """A refresh or completion is recorded once it has happened, not before."""


# --- the board's digest -----------------------------------------------------------------------


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
        periods = digest_periods(_day(first), on, months) if first is not None else []
        # the periods after the last one sent (all of them, once each); before any was sent only the last
        # complete one: a care group that starts the digest does not get a digest for every past quarter
        last = repo.last_digest_period(s)
        periods = [p for p in periods if p[0] > last] if last else periods[-1:]
        if last and not periods:
            start, end = digest_period(on, months)
            report.line("zorggroep", "overzicht bestuur", f"{date_nl(start)} t/m {date_nl(end)}: al eerder verstuurd")
            return _finish(services, report, actor)
        if not periods:
            report.line("zorggroep", "overzicht bestuur",
                        "nog geen trajecten in een afgesloten periode: geen overzicht")
            return _finish(services, report, actor)
        board, care_group = repo.contacts(s, Role.BOARD), _care_group(s)
        for start, end in periods:
            # each member's digest has a key per period: when every member has a period's, there is nothing to
            # gather (the duty runs each working day and finds every period done on all but the first)
            keys = {m.key for m in digest_messages(start, end, months, [], board, care_group)}
            if keys and repo.queued_keys(s, keys) == keys:
                continue
            _digest_of_period(s, start, end, months, board, care_group, now, report,
                              services.policy.figures_count_after_days)
        if not report.lines:
            start, end = periods[-1]
            report.line("zorggroep", "overzicht bestuur", f"{date_nl(start)} t/m {date_nl(end)}: al eerder verstuurd")
    return _finish(services, report, actor)


def _digest_of_period(s: Session, start: date, end: date, months: int, board: Sequence[Person], care_group: str,
                      now: datetime, report: DutyReport, count_after_days: int = 0) -> None:
    # who was under the policy at the period's end (a digest sent late must not list later escalations)
    end_moment = datetime.combine(end + relativedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
    under = set(repo.states_at(s, end_moment, TrajectoryState.UNDERPERFORMER_POLICY))
    # each trajectory as it stood at the period's end (a digest sent late must not show a later plan or policy)
    views = [as_of(code, repo.load_events(s, code), end_moment) for code in sorted(under)]
    codes = [v.agb_code for v in views]
    practices = {p.agb_code: p for p in repo.practices_of(s, codes)} if codes else {}
    shared = IndicatorFigures.build(repo.load_catalogue(s), repo.load_targets(s), repo.load_averages(s), (),
                                    count_after_days=count_after_days)
    scores = repo.load_scores(s, codes) if codes else {}
    trajectories = []
    for view in sorted(views, key=lambda v: v.agb_code):
        practice = practices[view.agb_code]
        figures = shared.with_scores(scores.get(view.agb_code, []))
        progress = assess_progress(figures, view.flagged, view.plan_agreed_on, end)
        indicators = []
        for r in progress.reasons:
            key = next(k for k in view.flagged if k.programme == r.programme and k.indicator == r.indicator)
            average = figures.national_average(key, r.period_end) if r.period_end else None
            definition = figures.catalogue.get(key)
            indicators.append({
                "programme": key.programme.value, "indicator": key.indicator,
                "name": definition.name if definition else None,
                "period_end": r.period_end.isoformat() if r.period_end else None, "score": r.score,
                "national_average": average[1] if average else None,
                "national_average_year": average[0] if average else None,
                "baseline_score": r.baseline_score, "improvement_points": r.improvement_points})
        trajectories.append({
            "practice": {"agb_code": practice.agb_code, "name": practice.name, "gp_group": practice.gp_group},
            "entered_policy_at": view.entered_policy_at.isoformat() if view.entered_policy_at else None,
            "plan_agreed_on": view.plan_agreed_on.isoformat() if view.plan_agreed_on else None,
            "indicators": indicators})
    messages = digest_messages(start, end, months, trajectories, board, care_group)
    new = repo.add_messages(s, messages, created_at=now)
    if new:
        report.queued["board_digest"] += new
    report.practices = max(report.practices, len(trajectories))
    report.line("zorggroep", "overzicht bestuur",
                f"{date_nl(start)} t/m {date_nl(end)}: {len(trajectories)} traject(en) onder het beleid, "
                + (f"{new} bericht(en) klaargezet" if new else "al eerder verstuurd"))


# --- indicators -------------------------------------------------------------------------------


def _extract_digest(path: Path, period_end: date) -> str:
    """The digest ``engine.recalculate_indicators`` logs an extract's import under."""
    return hashlib.sha256(path.read_bytes() + period_end.isoformat().encode()).hexdigest()


def _extracts(inbox: Path) -> Iterator[tuple[Path, date]]:
    """Extracts waiting in the inbox, named ``<anything>_<period end YYYY-MM-DD>`` with a suffix ``recalculate``
    reads (``.csv``, ``.parquet``, ``.pq``)."""
    from readers.extracts import EXTRACT_SUFFIXES  # the reader's own list: what it reads, the inbox takes

    for path in sorted(inbox.iterdir()) if inbox.is_dir() else []:
        if path.suffix.lower() in EXTRACT_SUFFIXES:
            try:
                yield path, date.fromisoformat(path.stem.rsplit("_", 1)[-1])
            except ValueError:
                continue


def recalculate_from_inbox(services: Services, now: datetime, inbox: Path, *, actor: str = ENGINE_ACTOR
                           ) -> DutyReport:
    """Recalculate indicators from every new extract in ``inbox`` (an extract already imported, by its
    SHA-256, is skipped), then evaluate every practice. A malformed extract is rejected whole and
    reported; the others still go in."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    report = DutyReport("recalculate_indicators", now)
    with services.session() as s:
        seen = repo.imported_digests(s)
    imported = 0
    for path, period_end in _extracts(inbox):
        why = future_fact("periode-einde in de bestandsnaam", period_end, now.date(),
                          "hernoem het bestand naar het echte einde van de periode")
        if why:  # as import-indicators refuses it: figures of a period not yet ended
            report.failures.append((path.name, why))
            report.line("zorggroep", f"extract {path.name} geweigerd", why)
            continue
        if _extract_digest(path, period_end) in seen:
            continue
        try:
            result = recalculate_indicators(services, path, period_end, now=now, actor=actor)
        except Exception as exc:  # a bad file must not stop the others; the operator sees why
            report.failures.append((path.name, str(exc)))
            report.line("zorggroep", f"extract {path.name} geweigerd", str(exc))
            continue
        imported += 1
        report.line("zorggroep", f"extract {path.name}", f"periode t/m {date_nl(period_end)}: {result}")
    if imported:  # new figures: judge the practices they concern now rather than at the next sweep
        basis = ReviewBasis.load(services)
        with services.session() as s:
            due = review.due_for_evaluation(s, basis.evaluation, now.date())
        for codes in _batches(due, DEFAULT_BATCH):
            _advance(services, now, codes, actor, report, basis)
    return _finish(services, report, actor)


# --- bookkeeping ------------------------------------------------------------------------------


def _finish(services: Services, report: DutyReport, actor: str) -> DutyReport:
    """Record the duty's run for its moment (the first recorder wins; a rerun says it already ran)."""
    with services.transaction() as s:
        report.already_ran = store.get_duty_run(s, report.duty, report.moment) is not None
        if not report.already_ran:
            store.record_duty_run(s, report.duty, report.moment, started_at=report.moment,
                                  finished_at=report.moment, summary=report.summary(), actor=actor)
    return report
