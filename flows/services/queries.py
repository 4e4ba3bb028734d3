"""Reading where the care group stands: status, a practice's history and replay, indicator views and charts.

Invariants:
- Nothing here writes.
- ``status`` now reads the stored projections; ``as_of`` a past moment rebuilds them from the events that
  happened by then. ``replay_practice`` rebuilds a practice from its events through the machine and says where
  the stored state differs.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from domain.cards import FolderStanding
from domain.clock import as_amsterdam
from domain.errors import NotFoundError
from domain.indicator_views import IndicatorLine, indicator_lines, pool, too_few
from domain.indicators import IndicatorKey
from domain.quality_system import summary_nl
from domain.registry import Practice
from domain.rules.timing import Due, next_due
from domain.trajectory import TrajectoryState, TrajectoryTransitioned, TrajectoryView, as_of, happened_by
from domain.vocabulary import GoalStatus
from flows.services.agreements import goal_line, proposals
from flows.services.context import Services, UnknownPracticeError
from flows.services.steps import step_text, step_waiting
from notifications.charts import Series
from notifications.payloads import GoalLine
from statemachines.trajectory import ReplayMismatchError, replay
from storage import goals as goal_store
from storage import quality_system as quality_store
from storage import repository as repo
from storage.cards import folder_standings
from storage.database import current_revision
from storage.read_models import ImportLogEntry, ScoreRevision, StoredAgreement, StoredConversation
from storage.tables import OutboxRow

if TYPE_CHECKING:
    from flows.services.around_the_cycle import AroundTheCycle
    from storage.read_models import DutyRun, ObligationChange, StoredObligation


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
    min_denominator: int | None = None  # the policy's: a reason's figure over fewer patients is marked
    quality_system: str | None = None  # its own quality system in one line (seed 003: checklist, NHG, peer review)
    folder: FolderStanding | None = None  # its quality folder against the instruction cards published
    around: AroundTheCycle | None = None  # each part around the cycle in one line (issue 14), when a day was given

    def small_numbers(self, reason: dict[str, Any]) -> bool:
        """Whether a reason's figure counts fewer patients than the policy now judges (a reason given under an
        earlier policy, or before the minimum existed)."""
        return "indicator" in reason and too_few(reason.get("denominator"), self.min_denominator)

    def as_json(self) -> dict[str, Any]:
        return {
            "agb_code": self.agb_code,
            "name": self.name,
            "gp_group": self.gp_group,
            "state": self.state.value,
            "since": self.since.isoformat() if self.since else None,
            "reasons": [r | {"small_numbers": self.small_numbers(r), "judged": not self.small_numbers(r)}
                        if "indicator" in r else r for r in self.reasons],
            "next_due": self.next_due.on.isoformat() if self.next_due else None,
            "next_due_kind": self.next_due.what if self.next_due else None,
            "held_messages": list(self.held_messages),
            "waiting_steps": list(self.waiting_steps),
            "quality_system": self.quality_system,
            "cards_version": self.folder.version if self.folder else None,
            "cards_behind_since": (self.folder.behind_since.isoformat()
                                   if self.folder and self.folder.behind_since else None),
            "around_the_cycle": self.around.as_json() if self.around is not None else None,
        }


def status(services: Services, as_of: datetime | None = None, *, now: datetime | None = None,
           agb_codes: Sequence[str] | None = None, states: Collection[TrajectoryState] | None = None
           ) -> list[StatusLine]:
    """Where every practice (or those of ``agb_codes``, or those in ``states``) stands: now (the stored projections,
    with the steps waiting and the messages held), or ``as_of`` a past moment (rebuilt from the events that happened
    by then; what waited then is not kept). Due dates follow the policy in force at that moment (``now``: the clock
    the caller reads)."""
    if as_of is not None:
        lines = _status_as_of(services.in_force(as_of), as_amsterdam(as_of), agb_codes)
        return [x for x in lines if states is None or x.state in states]
    if now is not None:
        services = services.in_force(now)
    codes = list(agb_codes) if agb_codes is not None else None
    with services.session() as s:
        if states is not None:  # by the projections' state column: the board's page reads its few practices alone
            found = set().union(*(repo.in_state(s, state) for state in states))
            codes = sorted(found if codes is None else found & set(codes))
        views = repo.load_views(s, codes)
        practices = repo.practice_heads(s, codes)
        checklists = quality_store.latest_checklists(s, codes)
        accreditations = quality_store.accreditations(s, codes)
        groups = quality_store.peer_review_groups(s, codes)
        steps: dict[str, list[str]] = {}
        for step in repo.pending_steps(s, codes):
            steps.setdefault(step.agb_code, []).append(f"{step_text(step)}: {step_waiting(step)}")
        folders = folder_standings(s, [agb_code for agb_code, _, _ in practices],
                                   as_amsterdam(now).date() if now is not None else date.max)
    held = held_messages_by_practice(services, codes)
    from flows.services.around_the_cycle import around_the_cycle  # its readers: only when a day is given

    around = around_the_cycle(services, as_amsterdam(now).date(), codes) if now is not None else {}
    lines = []
    for agb_code, name, gp_group in practices:
        view = views.get(agb_code) or TrajectoryView(agb_code=agb_code)
        if states is not None and view.state not in states:
            continue  # moved on between the two reads (a sweep committed a step): no longer in ``states``
        lines.append(StatusLine(agb_code, name, gp_group, view.state,
                                as_amsterdam(view.since) if view.since else None, view.reasons,
                                next_due(view, services.policy, services.calendar),
                                tuple(held.get(agb_code, ())), tuple(steps.get(agb_code, ())),
                                services.policy.min_denominator,
                                _quality_line(checklists.get(agb_code), accreditations.get(agb_code),
                                              groups.get(agb_code)), folders[agb_code], around.get(agb_code)))
    return lines


def held_messages_by_practice(services: Services, codes: Sequence[str] | None = None
                              ) -> dict[str | None, list[str]]:
    """Reasons messages wait for an address, per practice (None: care-group messages); of the practices of
    ``codes`` only, when given."""
    found: dict[str | None, list[str]] = {}
    with services.session() as s:
        for agb_code, kind, error in repo.held_messages(s, codes):
            found.setdefault(agb_code, []).append(f"{kind}: {error}")
    return found


def _status_as_of(services: Services, moment: datetime, agb_codes: Sequence[str] | None = None
                  ) -> list[StatusLine]:
    wanted = None if agb_codes is None else set(agb_codes)
    with services.session() as s:
        practices = [p for p in repo.practices(s) if wanted is None or p.agb_code in wanted]
        events = repo.load_all_events(s)
        folders = folder_standings(s, [p.agb_code for p in practices], moment.date(), recorded_by=moment)
        # the quality system as it stood: the checklists filled in and accreditations valid by then (the peer
        # review group is kept as it is now: it has no day of its own)
        checklists = quality_store.latest_checklists(s, on=moment.date())
        accreditations = quality_store.accreditations(s, on=moment.date())
        groups = quality_store.peer_review_groups(s)
    # the parts around the cycle as recorded by then (the mandatory courses' duties are kept as they are now only)
    from flows.services.around_the_cycle import around_the_cycle

    around = around_the_cycle(services, moment.date(), with_training=False)
    lines = []
    for p in practices:
        view = as_of(p.agb_code, events.get(p.agb_code, ()), moment)
        lines.append(StatusLine(p.agb_code, p.name, p.gp_group, view.state,
                                as_amsterdam(view.since) if view.since else None, view.reasons,
                                next_due(view, services.policy, services.calendar),
                                min_denominator=services.policy.min_denominator,
                                quality_system=_quality_line(checklists.get(p.agb_code), accreditations.get(p.agb_code),
                                                          groups.get(p.agb_code)),
                                folder=folders[p.agb_code], around=around.get(p.agb_code)))
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
        row = repo.stored_projection(s, agb_code)
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
        # the practices in scope by their codes and names alone: a page names one practice or one group
        members: list[str] | None
        if agb_code is not None:
            heads = repo.practice_heads(s, [agb_code])
            if not heads:
                raise UnknownPracticeError(agb_code)
            scope, members = f"praktijk {agb_code} {heads[0][1]}", [agb_code]
        elif gp_group is not None:
            members = repo.group_practice_codes(s, gp_group)
            if not members:
                raise UnknownGpGroupError(gp_group)
            scope = f"huisartsengroep {gp_group}"
        else:
            scope, members = f"zorggroep {repo.care_group_name(s)}", None
        reference = repo.reference_figures(s)
        mine = [x for scores in repo.load_scores(s, members).values() for x in scores]
        counts: dict[tuple[IndicatorKey, date], int] = {}
        for x in mine:
            counts[(x.key, x.period_end)] = counts.get((x.key, x.period_end), 0) + 1
        shown = mine if agb_code is not None else pool(mine)
        figures = reference.with_scores(shown)
        period = period_end or figures.latest_period(on or date.max)
        if period is None:
            return IndicatorView(scope, None, [])
        # the care group's spread over every practice, of the period shown only, as the imports keep it
        spread = repo.period_spread(s, period)
    return IndicatorView(scope, period, indicator_lines(figures, period, spread, counts,
                                                        services.policy.min_denominator))


def chart_series(services: Services, agb_code: str, main_only: bool = True) -> tuple[str, list[Series]]:
    """A practice's score history per indicator, with its target and national averages, for a chart."""
    with services.session() as s:
        practice = repo.get_practice(s, agb_code)
        if practice is None:
            raise UnknownPracticeError(agb_code)
        reference = repo.reference_figures(s)
        scores = repo.load_scores(s, [agb_code]).get(agb_code, [])
    catalogue = reference.catalogue
    minimum = services.policy.min_denominator
    by_key: dict[IndicatorKey, list[tuple[date, float]]] = {}
    few: dict[IndicatorKey, dict[date, tuple[int, int]]] = {}  # figures over too few patients to judge
    for x in sorted(scores, key=lambda x: x.period_end):
        definition = catalogue.get(x.key)
        if main_only and (definition is None or not definition.main):
            continue
        by_key.setdefault(x.key, []).append((x.period_end, x.score))
        if too_few(x.denominator, minimum):
            few.setdefault(x.key, {})[x.period_end] = (x.numerator, x.denominator)
    series = [
        Series(title=str(key), subtitle=catalogue[key].name if key in catalogue else "", points=points,
               target=reference.targets.get(key),
               national={year: value for (of, year), value in reference.averages.items() if of == key},
               small=few.get(key, {}), min_denominator=minimum)
        for key, points in sorted(by_key.items())
    ]
    return f"{practice.name} ({agb_code})", series


class UnknownGpGroupError(NotFoundError):
    def __init__(self, code: str) -> None:
        super().__init__(f"huisartsengroep {code} is niet bekend of heeft geen praktijken")


def import_log(services: Services, agb_code: str | None = None
               ) -> tuple[list[ImportLogEntry], list[ScoreRevision]]:
    """Every import of figures, and the figures a correction replaced (of one practice, or of all)."""
    with services.session() as s:
        return repo.imports(s), repo.revisions(s, agb_code)


def outbox_messages(services: Services, status: str | None = None, *, agb_code: str | None = None,
                    latest: int | None = None) -> list[OutboxRow]:
    """The outbox's messages, of one status or all, about one practice or all; ``latest``: the newest so many,
    newest first."""
    with services.session() as s:
        return repo.outbox(s, status, agb_code=agb_code, latest=latest)


def obligations(services: Services, agb_code: str | None = None, status: str | None = None, *,
                due_until: date | None = None, due_from: date | None = None, limit: int | None = None,
                agb_codes: Sequence[str] | None = None) -> list[StoredObligation]:
    """The duties of a practice (or of some, or of all and the care group's meetings), of one status or all (due or
    planned from ``due_from`` and by ``due_until``, when given; the first ``limit``)."""
    from storage import obligations as store  # the duties' store: not loaded to show the status

    with services.session() as s:
        return store.obligations(s, agb_code=agb_code, agb_codes=agb_codes, status=status, due_until=due_until,
                                 due_from=due_from, limit=limit)


def overdue_count(services: Services, on: date, agb_codes: Sequence[str] | None = None) -> int:
    """How many open duties (of these practices) were due before ``on``."""
    from storage import obligations as store

    with services.session() as s:
        return store.count_overdue(s, on, agb_codes)


def obligation_changes(services: Services, key: str | None = None) -> list[ObligationChange]:
    """What happened to one duty (or to all): planned, moved (from, to, why), closed."""
    from storage import obligations as store  # the duties' store: not loaded to show the status

    with services.session() as s:
        return store.changes(s, key)


def duty_runs(services: Services, duty: str | None = None) -> list[DutyRun]:
    """The latest runs of the duties (of one duty, or of all) and what they did."""
    from storage import obligations as store  # the duties' store: not loaded to show the status

    with services.session() as s:
        return store.duty_runs(s, duty)


def schema_revision(services: Services) -> str | None:
    """The database's schema revision."""
    return current_revision(services.db)


def all_events(services: Services) -> list[TrajectoryTransitioned]:
    """Every practice's events, per practice in the order they were recorded."""
    with services.session() as s:
        events = repo.load_all_events(s)
    return [e for code in sorted(events) for e in events[code]]


def enrolments(services: Services) -> dict[str, set[str]]:
    """Per practice, the programmes it is enrolled in."""
    with services.session() as s:
        return repo.enrolments(s)


def group_practice_codes(services: Services, gp_group: str) -> list[str]:
    """The AGB codes of a GP group's practices (none: the group is not known or has none)."""
    with services.session() as s:
        return repo.group_practice_codes(s, gp_group)


def practices(services: Services) -> list[Practice]:
    """Every practice as registered."""
    with services.session() as s:
        return repo.practices(s)


def practice(services: Services, agb_code: str) -> Practice:
    """A practice as registered, with its people and the day each programme started."""
    with services.session() as s:
        found = repo.get_practice(s, agb_code)
    if found is None:
        raise UnknownPracticeError(agb_code)
    return found


def practice_chart(services: Services, agb_code: str, main_only: bool = True) -> tuple[str, int]:
    """A practice's indicators through time against target and national average, as an SVG image, and how many
    indicators it shows."""
    from notifications.charts import practice_chart_svg  # drawn only when asked

    title, series = chart_series(services, agb_code, main_only)
    return practice_chart_svg(title, series), len(series)


def trajectory_diagram() -> str:
    """The trajectory's state machine as a Mermaid diagram."""
    from statemachines.trajectory import mermaid

    return mermaid()


def _quality_line(checklist: Any, accreditation: Any, group: Any) -> str | None:
    """The practice's quality system in one line, or None when nothing of it is recorded (a care group that does not
    keep it sees no column of "nothing")."""
    if checklist is None and accreditation is None and group is None:
        return None
    return summary_nl(checklist, accreditation, group)


def conversations(services: Services, agb_code: str | None = None) -> list[StoredConversation]:
    """The conversations recorded (of one practice, or of all), by the day they were held."""
    with services.session() as s:
        if agb_code is not None and not repo.is_registered(s, agb_code):
            raise UnknownPracticeError(agb_code)
        return repo.conversations_of(s, agb_code)


@dataclass(frozen=True)
class AgreementState(StoredAgreement):
    """An agreement with the outcome the support given for it proposes for its evaluation (open ones only)."""

    proposed_outcome: str | None = None


def agreements(services: Services, agb_code: str | None = None, *, open_only: bool = False) -> list[AgreementState]:
    """The agreements made in conversations' reports (of one practice, or of all), open or evaluated; an open one
    whose support was given carries the outcome that proposes (``domain.rules.agreements.proposed_outcome``)."""
    with services.session() as s:
        if agb_code is not None and not repo.is_registered(s, agb_code):
            raise UnknownPracticeError(agb_code)
        found = repo.agreements_of(s, agb_code, open_only=open_only)
        proposed = proposals(s, agb_code) if any(a.status == "open" for a in found) else {}
    return [AgreementState(**{f.name: getattr(a, f.name) for f in fields(a)}, proposed_outcome=proposed.get(a.id))
            for a in found]


@dataclass(frozen=True)
class GoalState:
    """A goal and where it stands: judged (with the figure), or open with the latest figure known."""

    id: str
    agb_code: str
    set_on: date
    line: GoalLine
    reason: str | None


def goals(services: Services, agb_code: str | None = None, on: date | None = None, *,
          agb_codes: Sequence[str] | None = None) -> list[GoalState]:
    """The goals set in conversations (of one practice, of the practices of ``agb_codes``, or of all): judged ones
    with the figure they were judged by, open ones with the latest figure known on ``on`` (every figure known, when
    not given)."""
    with services.session() as s:
        if agb_code is not None and not repo.is_registered(s, agb_code):
            raise UnknownPracticeError(agb_code)
        if agb_codes is not None:  # one read for a page of practices (the board's)
            found = [g for of in goal_store.goals_of_practices(s, agb_codes).values() for g in of]
        else:
            found = goal_store.goals_of(s, agb_code)
        if not found:
            return []
        day = on or date.max
        # an open goal shows its indicator's latest figure (a judged one the figure it was judged by): only those
        # are read, not every figure of the practices (the board's page names every goal of some hundreds)
        open_goals = [g for g in found if g.status == GoalStatus.OPEN.value]
        codes = sorted({g.agb_code for g in found})
        shared = repo.reference_figures(s, services.policy.figures_count_after_days)
        scores = repo.load_scores(s, sorted({g.agb_code for g in open_goals}),
                                  indicators={(g.programme, g.indicator) for g in open_goals}) if open_goals else {}
        figures = {c: shared.with_scores(scores.get(c, [])) for c in codes}
    return [GoalState(g.id, g.agb_code, g.set_on, goal_line(g, figures[g.agb_code], day), g.reason) for g in found]
