"""Queuing the invitations, reminders, overdue notices, kit, course, checklist and accreditation notices whose day
has come.

Invariants:
- A notice is queued and its duty marked in one transaction; a message has a deterministic key, so two workers
  queuing the same notice leave one message.
- What a chunk of messages reads besides its duties (figures, views, plans) is loaded once per chunk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlmodel import Session

from domain.cards import Leaflet, leaflets_for
from domain.indicators import IndicatorFigures, IndicatorScore
from domain.meetings import attendance
from domain.messages import OutboxMessage
from domain.obligations import (
    CONVERSATION_KINDS,
    MEETING_KINDS,
    NOTICE_STAGE_NAMES_NL,
    Obligation,
    ObligationKind,
    next_notice_on,
    stages_to_send,
)
from domain.policy import Policy
from domain.quality_system import FilledChecklist
from domain.registry import Person, Practice, Role
from domain.rules.attendance import MEETING_ROLES
from domain.trajectory import TrajectoryView
from domain.vocabulary import MEETING_NAMES_NL, date_nl
from flows.services.agreements import goal_line, open_agreement_lines
from flows.services.context import Services
from flows.services.duties import DEFAULT_BATCH, DutyReport
from flows.services.mirror_meetings import pack_of
from flows.services.officers import officers_of
from flows.services.workers import divide, spread
from notifications.compose import (
    PreparationFacts,
    accreditation_messages,
    checklist_messages,
    conversation_messages,
    kit_messages,
    meeting_messages,
    meeting_organizer,
    mirror_meeting_messages,
    network_plan_messages,
    training_messages,
    training_overdue_messages,
)
from notifications.payloads import AgreementLine
from storage import cards as card_store
from storage import goals as goal_store
from storage import meetings as meeting_store
from storage import neighbourhood as neighbourhood_store
from storage import obligations as store
from storage import quality_system as quality_store
from storage import repository as repo
from storage.read_models import StoredConversation, StoredGoal, StoredObligation


def _absence(s: Session, practices: Sequence[Practice], years: Sequence[int]) -> dict[str, tuple[str, ...]]:
    """Per practice, the kinds of meeting held in each of ``years`` (last year, and this year so far) it was
    invited to and came to none of (Dutch)."""
    if not practices:
        return {}
    invited = {p.agb_code: frozenset(kind.value for kind in MEETING_KINDS
                                     if any(person.role in MEETING_ROLES[kind] for person in p.people))
               for p in practices}
    out: dict[str, tuple[str, ...]] = {}
    views = list(meeting_store.load_many(s).values())
    for a in [a for year in years for a in attendance(views, invited, year)]:
        if a.absent_all_year:
            out[a.agb_code] = (*out.get(a.agb_code, ()), f"{MEETING_NAMES_NL[a.kind]} {a.year} ({a.held} gehouden)")
    return out


@dataclass
class _Reference:
    """What the messages of a chunk of obligations read besides the obligations: loaded once per chunk, for
    every practice in it, instead of once per message (the chunk's transaction changes none of it)."""

    shared: IndicatorFigures  # catalogue, targets and averages; no scores
    scores: dict[str, list[IndicatorScore]]
    views: dict[str, TrajectoryView]
    plans: dict[str, StoredConversation]  # per practice, its last conversation that agreed a plan
    agreements: dict[str, tuple[AgreementLine, ...]]  # per practice, its open agreements
    goals: dict[str, list[StoredGoal]]  # per practice, the goals it set in the past year
    absence: dict[str, tuple[str, ...]]  # per practice, the meetings of last year it came to none of
    checklists: dict[str, FilledChecklist]  # per practice, its latest checklist of its own quality system
    leaflets: list[Leaflet]  # the register of patient leaflets, every programme

    @classmethod
    def load(cls, s: Session, codes: Sequence[str], on: date, policy: Policy,
             practices: Sequence[Practice] | None = None) -> _Reference:
        """``practices``: those of ``codes`` as the caller read them (else read here)."""
        codes = sorted(set(codes))
        if practices is None:
            practices = repo.practices_of(s, codes) if codes else []
        wanted = set(codes)
        count_after_days = policy.figures_count_after_days
        plans = repo.latest_plans(s, codes, on)
        year_ago = on - relativedelta(months=policy.annual_conversation_every_months)
        return cls(repo.reference_figures(s, count_after_days),
                   repo.load_scores(s, codes, known_on=on - timedelta(days=count_after_days)) if codes else {},
                   repo.load_views(s, codes) if codes else {}, plans, open_agreement_lines(s, codes),
                   goal_store.goals_of_practices(s, codes, set_since=year_ago),
                   _absence(s, [p for p in practices if p.agb_code in wanted], (on.year - 1, on.year)),
                   quality_store.latest_checklists(s, codes, on) if codes else {},
                   card_store.leaflets(s))

    def view(self, agb_code: str) -> TrajectoryView:
        return self.views.get(agb_code) or TrajectoryView(agb_code=agb_code)

    def preparation(self, agb_code: str, on: date, min_denominator: int | None = None) -> PreparationFacts:
        """What the practice prepares a conversation from: its figures (those over fewer than ``min_denominator``
        patients marked), its last plan's agreements, the agreements still open and the past year's goals with
        their current figures, and its latest checklist of its own quality system (seed 003)."""
        figures = self.shared.with_scores(self.scores.get(agb_code, []))
        checklist = self.checklists.get(agb_code)
        agreements = self.agreements.get(agb_code, ())
        goals = tuple(goal_line(g, figures, on) for g in self.goals.get(agb_code, []) if g.set_on <= on)
        planned = self.plans.get(agb_code)
        if planned is None or not planned.plan:
            return PreparationFacts(figures, on, min_denominator=min_denominator, open_agreements=agreements,
                                    goals=goals, checklist=checklist, meeting_absence=self.absence.get(agb_code, ()))
        return PreparationFacts(figures, on, tuple(planned.plan.get("agreements", [])), planned.held_on,
                                min_denominator=min_denominator, open_agreements=agreements, goals=goals,
                                checklist=checklist, meeting_absence=self.absence.get(agb_code, ()))


def _mirror_invitations(s: Session, services: Services, ob: Obligation, officers: Sequence[Person],
                        care_group: str, sequence: int, on: date) -> list[OutboxMessage]:
    """A GP group's mirror meeting: its practices (those still in the cycle) invited with the group's pack, computed
    from the figures known on ``on`` against the care group's spread (``mirror_meetings.pack_of``)."""
    group = next((g for g in repo.gp_groups(s) if g.code == ob.subject), None)
    if group is None:
        return []
    members = repo.practices_in_cycle(s, group.code)
    pack = pack_of(s, services, group, members, on)
    return mirror_meeting_messages(ob, group, members, pack, meeting_organizer(ob.key, officers), care_group,
                                   services.policy, sequence)


def _network_plan_notices(s: Session, ob: Obligation, care_group: str) -> list[OutboxMessage]:
    """A GP group's network plan falling due for its yearly evaluation: each of its practices still in the cycle
    hears of it, with the plan's partners."""
    group = next((g for g in repo.gp_groups(s) if g.code == ob.subject), None)
    plan = neighbourhood_store.load(s, ob.subject)
    if group is None or plan is None:
        return []
    members = repo.practices_in_cycle(s, group.code)
    return network_plan_messages(ob, group, members, [(p.name, p.kind.value) for p in plan.partners], care_group)


# the notices that name the practice's two officers (the invitation's attendees, the kit's contacts)
_WITH_OFFICERS = frozenset(k.value for k in (*CONVERSATION_KINDS, ObligationKind.INSTRUCTION_KIT))


def queue_notices(s: Session, services: Services, rows: Sequence[StoredObligation], report: DutyReport,
                  now: datetime, early: frozenset[str] = frozenset()) -> None:
    """Queue the messages the given obligations owe today (and the ``early`` stages, though their day has not
    come: ``domain.obligations.stages_to_send``), and mark them, in the caller's transaction."""
    on = now.date()
    policy = services.policy
    codes = sorted({r.agb_code for r in rows if r.agb_code})
    practices = {p.agb_code: p for p in repo.practices_of(s, codes)} if codes else {}
    officers = repo.contacts(s, Role.OFFICER)
    care_group = repo.care_group_name(s)
    all_practices: list[Practice] | None = None
    reference: _Reference | None = None
    # the two officers of each practice with a conversation or kit notice: kept once chosen (flows.services.officers)
    held = officers_of(s, sorted({r.agb_code for r in rows if r.agb_code in practices and r.kind in _WITH_OFFICERS}),
                       officers, now)
    owed: list[tuple[StoredObligation, Obligation, list[str], list[str], list[OutboxMessage]]] = []
    for row in rows:
        ob = row.obligation
        done = frozenset(row.notices_done)
        send, skip = stages_to_send(ob, policy, done, on, early)
        messages: list[OutboxMessage] = []
        practice = practices.get(row.agb_code or "")
        for stage in send:
            if ob.kind in CONVERSATION_KINDS and practice is not None:
                if reference is None:
                    asked = sorted({r.agb_code for r in rows if r.agb_code in practices
                                    and ObligationKind(r.kind) in CONVERSATION_KINDS})
                    reference = _Reference.load(s, asked, on, policy, [practices[code] for code in asked])
                view = reference.view(practice.agb_code)
                prepare = (reference.preparation(practice.agb_code, on, policy.min_denominator)
                           if stage != "overdue" else None)
                if stage == "invitation" and prepare is not None:  # the leaflets of its programmes (seed 3)
                    prepare = replace(prepare, leaflets=tuple(leaflets_for(
                        reference.leaflets, [p for p in practice.programmes if practice.enrolled_in(p, on)])))
                messages += conversation_messages(stage, ob, practice, held[practice.agb_code], care_group, policy,
                                                  prepare, state=view.state.value,
                                                  last_held_on=view.last_annual_conversation_on, sequence=row.version)
            elif ob.kind in MEETING_KINDS:
                if all_practices is None:  # practices that left the cycle are not invited
                    all_practices = repo.practices_in_cycle(s)
                happened = meeting_store.load(s, ob.key)  # the topics officers added to its agenda
                messages += meeting_messages(ob, all_practices, officers, care_group, policy, sequence=row.version,
                                             topics=happened.topics if happened else ())
            elif ob.kind is ObligationKind.INSTRUCTION_KIT and practice is not None:
                messages += kit_messages(ob, practice, held[practice.agb_code], care_group)
            elif ob.kind is ObligationKind.MANDATORY_COURSE and practice is not None:
                messages += (training_overdue_messages(ob, practice, care_group) if stage == "overdue"
                             else training_messages(ob, practice, care_group))
            elif ob.kind is ObligationKind.MIRROR_MEETING:
                messages += _mirror_invitations(s, services, ob, officers, care_group, row.version, on)
            elif ob.kind is ObligationKind.PRACTICE_CHECKLIST and practice is not None:
                last = quality_store.latest_checklists(s, [practice.agb_code], on).get(practice.agb_code)
                messages += checklist_messages(ob, practice, last, care_group)
            elif ob.kind is ObligationKind.NHG_ACCREDITATION and practice is not None:
                messages += accreditation_messages(ob, practice, care_group)
            elif ob.kind is ObligationKind.NETWORK_PLAN_EVALUATION:
                messages += _network_plan_notices(s, ob, care_group)
        owed.append((row, ob, send, skip, messages))
    # every message of the chunk in one insert; a message of an obligation another worker marks first is
    # queued all the same (the same key: the other worker's copy or ours, never both)
    new_keys = repo.queue_messages(s, [m for *_, messages in owed for m in messages], created_at=now)
    marks = []
    for row, ob, send, skip, _ in owed:
        after = frozenset(row.notices_done) | set(send) | set(skip)
        marks.append((row, sorted(after), next_notice_on(ob, policy, after)))
    for (row, ob, send, _, messages), marked in zip(owed, store.mark_notices_many(s, marks, now), strict=True):
        if not marked:
            continue  # another worker marked it first; its messages and ours share keys
        new_by_kind = Counter(m.kind for m in messages if m.key in new_keys)
        new = sum(new_by_kind.values())
        if new:
            report.queued.update(new_by_kind)
            report.line(row.agb_code or "zorggroep", ob.title_nl,
                        f"{', '.join(NOTICE_STAGE_NAMES_NL.get(x, x) for x in send)}: {new} bericht(en) klaargezet, "
                        f"datum {date_nl(ob.planned_on or ob.due_on)}")


def key_ranges(keys: Sequence[str], chunk: int, workers: int) -> list[tuple[str | None, str | None]]:
    """The due obligations' keys (in order) as ranges ``(after, until]`` for workers (``workers.divide``): each from
    the last key of the range before it, the last open-ended (a row due by now with a key beyond the last read is
    queued too, as the loop in one process queues it)."""
    chunks = divide(keys, chunk, workers)
    return [(chunks[i - 1][-1] if i else None, part[-1] if i < len(chunks) - 1 else None)
            for i, part in enumerate(chunks)]


def queue_due_notices(services: Services, now: datetime, kinds: Iterable[ObligationKind], report: DutyReport,
                      *, chunk: int = DEFAULT_BATCH, workers: int = 1) -> None:
    """Queue every message of the given kinds whose day has come, for every practice, ``chunk`` obligations
    per transaction (read through the ``next_notice_on`` index: only the rows with something due; their keys read
    first and divided into ranges), the chunks over ``workers`` processes (``flows.services.workers``)."""
    kinds = list(kinds)
    services = services.in_force(now)
    naming = [k for k in kinds if k.value in _WITH_OFFICERS]
    with services.session() as s:
        keys = store.notice_keys_due(s, now.date(), kinds=kinds)
        asked = store.practices_with_notices_due(s, now.date(), kinds=naming) if keys and naming else []
    if asked:
        # the officers of every practice a notice will name, chosen (and kept) before the chunks, in the order of
        # the practices: a chunk that chose them wrote first and held the database's write lock while it composed,
        # so a second worker waited for all of it (issue 16); and a sweep spread over workers now chooses as one
        # process does. A chunk reads them (``officers_of`` writes only for a practice still without them).
        with services.transaction() as s:
            officers_of(s, sorted(repo.registered_of(s, asked)), repo.contacts(s, Role.OFFICER), now)

    def one(bound: tuple[str | None, str | None]) -> DutyReport:
        part = DutyReport(report.duty, report.moment)
        with services.transaction() as s:
            rows = store.notices_due(s, now.date(), kinds=kinds, after_key=bound[0], until_key=bound[1])
            queue_notices(s, services, rows, part, now)
        return part

    for part in spread(one, key_ranges(keys, chunk, workers), workers, services.db):
        report.merge(part)
