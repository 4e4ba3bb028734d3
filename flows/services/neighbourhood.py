"""The neighbourhood (seed 5, "Verbinding binnen de wijk"): recording each practice's core team for elderly care, its
GPO cadence and its GPO and MDO counts per quarter; each GP group's network plan with its partners (agreed,
evaluated yearly, ended) and the network meetings and case discussions held; and reading them back as one line per
practice and as the board's counts.

Invariants:
- What happened is recorded once it has happened: a core team formed, a plan agreed or evaluated, a meeting held on
  a day to come, a count for a quarter not yet begun, is refused (``NeighbourhoodInFutureError``). A refusal stores
  nothing.
- GPOs and MDOs are counts: nothing about a patient is asked or stored; notes and minutes are checked like all free
  text (no BSN).
- A core team lacking a GP, a POH or nurse, or a district nurse is stored and flagged (``CoreTeam.missing``), not
  refused: the care group supports forming it (seed 5, "We ondersteunen bij het formeren van een kernteam").
- Every change of a plan is an event of its lifecycle (``statemachines.network_plan``) stored with its projection,
  in the same transaction as its evaluation duty: a plan agreed opens it, an evaluation closes it as done and opens
  the next, a new plan or its end cancels the open one. The sweep sends the notice before it falls due.
- Nothing here reads the clock: ``now`` and ``actor`` come from the caller.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from domain.clock import as_amsterdam, future_fact
from domain.errors import InFutureError, InputError, NotFoundError
from domain.inputs import check_date, check_minutes, check_name, check_text, checked
from domain.neighbourhood import (
    NETWORK_MEETING_NAMES_NL,
    CoreTeam,
    CountKind,
    GpoCadence,
    Neighbourhood,
    NetworkMeetingKind,
    NetworkPlanState,
    NetworkPlanTrigger,
    NetworkPlanView,
    Partner,
    Quarter,
    UnknownCoreTeamRoleError,
    core_team_role,
    last_closed_quarter,
)
from domain.obligations import Obligation, ObligationKind, ObligationStatus, next_notice_on
from domain.registry import Practice
from flows.services.context import Services, UnknownPracticeError
from flows.services.meetings import check_attendees
from flows.services.mirror_meetings import gp_group_or_raise
from statemachines.network_plan import fire, replay
from storage import neighbourhood as store
from storage import obligations as obligation_store
from storage import repository as repo

MOST_PER_QUARTER = 500  # GPOs or MDOs of one practice in a quarter: far above any real count, a typo's guard
MOST_WEEKS = 26


class NeighbourhoodInFutureError(InFutureError):
    """A neighbourhood fact dated after the moment it is recorded."""


class UnknownNetworkAttendeeError(NotFoundError):
    """A partner at a network meeting who is not one of the plan's partners."""


def _past(day: date, now: datetime, what: str, option: str) -> None:
    checked(check_date, day, option)
    future = future_fact(f"{option}: {what} op", day, as_amsterdam(now).date(), "leg het vast op of na die dag; "
                         "er is niets vastgelegd")
    if future:
        raise NeighbourhoodInFutureError(future)


def _practice_or_raise(s: Session, agb_code: str) -> None:
    if repo.get_practice(s, agb_code) is None:
        raise UnknownPracticeError(agb_code)


# --- the practice: core team, GPO, MDO -----------------------------------------------------------------------------

def record_core_team(services: Services, agb_code: str, members: Sequence[tuple[str, str]], on: date,
                     now: datetime, actor: str) -> CoreTeam:
    """Store the practice's core team for elderly care as it stands from ``on``: members as (role, name); an
    incomplete team is stored and flagged."""
    if not members:
        raise InputError("--member: geef minstens één lid als ROL=NAAM (bijv. district_nurse='W. de Vries')")
    checked_members = []
    for role, name in members:
        try:
            known_role = core_team_role(role)
        except UnknownCoreTeamRoleError as exc:
            raise UnknownCoreTeamRoleError(f"--member: {exc}; er is niets vastgelegd") from None
        checked_members.append((known_role, checked(check_name, name, f"--member {known_role.value}")))
    _past(on, now, "kernteam gevormd", "--on")
    now = as_amsterdam(now)
    team = CoreTeam(agb_code, on, tuple(checked_members))
    with services.transaction() as s:
        _practice_or_raise(s, agb_code)
        store.add_core_team(s, team, now, actor)
    return team


def set_gpo_cadence(services: Services, agb_code: str, every_weeks: int, since: date, now: datetime,
                    actor: str) -> GpoCadence:
    """Store how often the practice's core team holds its GPO (structured periodic consultation)."""
    if not 1 <= every_weeks <= MOST_WEEKS:
        raise InputError(f"--every-weeks {every_weeks}: verwacht 1 tot en met {MOST_WEEKS} weken; er is niets "
                         "vastgelegd")
    checked(check_date, since, "--since")
    cadence = GpoCadence(every_weeks, since)
    with services.transaction() as s:
        _practice_or_raise(s, agb_code)
        store.add_cadence(s, agb_code, cadence, as_amsterdam(now), actor)
    return cadence


def record_count(services: Services, agb_code: str, quarter: Quarter, kind: CountKind, count: int, now: datetime,
                 actor: str) -> int:
    """Store how many GPOs or MDOs the practice held in ``quarter`` (so far, for the quarter under way): a count,
    never who they were about. A later count for the same quarter replaces it."""
    option = "--held" if kind is CountKind.GPO else "--count"
    if not 0 <= count <= MOST_PER_QUARTER:
        raise InputError(f"{option} {count}: verwacht 0 tot en met {MOST_PER_QUARTER} in een kwartaal; er is niets "
                         "vastgelegd")
    today = as_amsterdam(now).date()
    if quarter.start > today:
        raise NeighbourhoodInFutureError(f"--quarter {quarter.nl} is nog niet begonnen (vandaag is "
                                         f"{today.isoformat()}); tel wat er gehouden is, er is niets vastgelegd")
    with services.transaction() as s:
        _practice_or_raise(s, agb_code)
        store.add_count(s, agb_code, quarter, kind, count, as_amsterdam(now), actor)
    return count


# --- the GP group's network plan -----------------------------------------------------------------------------------

def _evaluation(view: NetworkPlanView, services: Services) -> Obligation | None:
    due = view.evaluation_due(services.policy.network_plan_evaluation_every_months, services.calendar)
    if due is None or view.agreed_on is None:
        return None
    last = view.last_evaluated_on
    return Obligation(
        f"network_plan_evaluation:{view.gp_group}:{view.agreed_on.isoformat()}:{len(view.evaluations) + 1}",
        ObligationKind.NETWORK_PLAN_EVALUATION, None, view.gp_group, last or view.agreed_on, due, None,
        {"every_months": services.policy.network_plan_evaluation_every_months},
        {"agreed_on": view.agreed_on.isoformat(), **({"last_evaluated_on": last.isoformat()} if last else {})})


def _change(s: Session, services: Services, gp_group: str, trigger: NetworkPlanTrigger, on: date, now: datetime,
            actor: str, details: dict[str, object], close_as: ObligationStatus | None, reason: str
            ) -> NetworkPlanView:
    view = store.load(s, gp_group) or NetworkPlanView(gp_group=gp_group)
    event = fire(view, trigger, on=on, recorded_at=now, actor=actor, details=details)
    view = view.apply(event)
    store.append(s, event, view)
    if close_as is not None:
        for row in obligation_store.open_obligations(s, kinds=[ObligationKind.NETWORK_PLAN_EVALUATION]):
            if row.subject == gp_group:
                obligation_store.close(s, row, close_as, on, now=now, actor=actor, reason=reason)
        following = _evaluation(view, services)
        if following is not None:
            obligation_store.add_obligations(
                s, [following], now=now, actor=actor, reason=reason,
                next_notice={following.key: next_notice_on(following, services.policy, frozenset())})
    return view


def agree_network_plan(services: Services, gp_group: str, partners: Sequence[Partner], on: date, now: datetime,
                       actor: str) -> NetworkPlanView:
    """The GP group agreed a (new) plan with its partners on ``on``; its yearly evaluation is planned from it."""
    if not partners:
        raise InputError("--partners: het plan heeft geen samenwerkingspartners; er is niets vastgelegd")
    _past(on, now, "netwerkplan afgesproken", "--agreed-on")
    now = as_amsterdam(now)
    services = services.in_force(on)
    with services.transaction() as s:
        gp_group_or_raise(s, gp_group)
        return _change(s, services, gp_group, NetworkPlanTrigger.AGREE, on, now, actor,
                       {"partners": [p.model_dump(mode="json", exclude_none=True) for p in partners]},
                       ObligationStatus.CANCELLED, f"netwerkplan afgesproken op {on.isoformat()}")


def evaluate_network_plan(services: Services, gp_group: str, on: date, note: str, now: datetime,
                          actor: str) -> NetworkPlanView:
    """The GP group evaluated its plan with its partners on ``on``: the duty is met, the next one planned."""
    note = checked(check_text, note, "--note")
    _past(on, now, "netwerkplan geëvalueerd", "--evaluated-on")
    now = as_amsterdam(now)
    services = services.in_force(on)
    with services.transaction() as s:
        gp_group_or_raise(s, gp_group)
        known = store.load(s, gp_group)
        if known is not None and known.evaluations and known.evaluations[-1] == (on, note):
            return known  # the same evaluation again changes nothing
        return _change(s, services, gp_group, NetworkPlanTrigger.EVALUATE, on, now, actor, {"note": note},
                       ObligationStatus.DONE, f"geëvalueerd op {on.isoformat()}")


def end_network_plan(services: Services, gp_group: str, on: date, reason: str, now: datetime,
                     actor: str) -> NetworkPlanView:
    """The GP group stopped its plan; its open evaluation is no longer owed."""
    reason = checked(check_text, reason, "--reason")
    _past(on, now, "netwerkplan beëindigd", "--ended-on")
    now = as_amsterdam(now)
    with services.transaction() as s:
        gp_group_or_raise(s, gp_group)
        return _change(s, services, gp_group, NetworkPlanTrigger.END, on, now, actor, {"reason": reason},
                       ObligationStatus.CANCELLED, f"netwerkplan beëindigd: {reason}")


def hold_network_meeting(services: Services, gp_group: str, kind: NetworkMeetingKind, on: date,
                         attended: Sequence[tuple[str, str]], partners: Sequence[str], now: datetime, actor: str, *,
                         minutes: str | None = None) -> NetworkPlanView:
    """Record a network meeting or case discussion the GP group held on ``on``: who of which practice came
    (``(agb_code, name)``, people of the registry), which partners (of its plan, when it has one), the minutes."""
    _past(on, now, f"{NETWORK_MEETING_NAMES_NL[kind]} gehouden", "--on")
    minutes = checked(check_minutes, minutes, "--minutes") if minutes else None
    partners = [checked(check_name, p, "--partner") for p in partners]
    now = as_amsterdam(now)
    with services.transaction() as s:
        gp_group_or_raise(s, gp_group)
        check_attendees(s, attended)
        plan = store.load(s, gp_group)
        in_plan = {p.name for p in plan.partners} if plan is not None and plan.status is NetworkPlanState.AGREED \
            else None
        for name in partners:
            if in_plan is not None and name not in in_plan:
                raise UnknownNetworkAttendeeError(
                    f"--partner {name}: geen partner in het netwerkplan van {gp_group} (partners: "
                    f"{', '.join(sorted(in_plan))}); er is niets vastgelegd")
        return _change(s, services, gp_group, NetworkPlanTrigger.HOLD, on, now, actor,
                       {"kind": kind.value, "attended": [{"agb_code": a, "name": n} for a, n in attended],
                        "partners": list(partners), **({"minutes": minutes} if minutes else {})}, None, "")


@dataclass(frozen=True)
class NetworkPlanLine:
    """A GP group's plan as officers see it: where it stands, its partners, its next evaluation."""

    view: NetworkPlanView
    evaluation_due: date | None

    def overdue(self, on: date) -> bool:
        return self.evaluation_due is not None and self.evaluation_due < on


def network_plans(services: Services, gp_group: str | None = None, on: date | None = None) -> list[NetworkPlanLine]:
    """Every GP group's plan (or the one's) as it stands, or as it stood on ``on``, with its next evaluation."""
    with services.session() as s:
        if gp_group is not None:
            gp_group_or_raise(s, gp_group)
        views = store.views_on(s, on) if on is not None else store.load_all(s)
    every = services.policy.network_plan_evaluation_every_months
    return [NetworkPlanLine(v, v.evaluation_due(every, services.calendar)) for code, v in sorted(views.items())
            if gp_group is None or code == gp_group]


def replay_network_plan(services: Services, gp_group: str) -> tuple[NetworkPlanView | None, NetworkPlanView]:
    """A plan's stored projection and the one its events rebuild."""
    with services.session() as s:
        return store.load(s, gp_group), replay(gp_group, store.events(s, gp_group))


# --- reading it back -----------------------------------------------------------------------------------------------

def neighbourhoods(services: Services, on: date, codes: Sequence[str] | None = None, *,
                   counts_known_later: bool = False, registry: Sequence[Practice] | None = None
                   ) -> dict[str, Neighbourhood]:
    """Per practice (``codes``, else all), its neighbourhood as it stood on ``on``: its core team, its GPO cadence
    and the counts of the latest quarter counted (the quarter under way, the last that ended or the one before it;
    else the last that ended, none held), and its GP group's plan with the day its evaluation falls due.

    A quarter's counts are tallied after it ends; ``counts_known_later`` reads them as recorded since (the board's
    digest of a period, like the indicator scores it shows), otherwise as recorded by ``on`` (a status of a day).
    ``registry``: every practice, as the caller read them (else read here)."""
    with services.session() as s:
        if registry is not None:
            wanted_codes = None if codes is None else set(codes)
            practices = {p.agb_code: p for p in registry if wanted_codes is None or p.agb_code in wanted_codes}
        else:
            practices = {p.agb_code: p for p in repo.practices_of(s, list(codes) if codes is not None else None)}
        wanted = sorted(practices)
        teams = store.core_teams(s, wanted, on)
        cadences = store.cadences(s, wanted, on)
        counted = store.counts(s, wanted, None if counts_known_later else on)
        plans = store.views_on(s, on)
    every = services.policy.network_plan_evaluation_every_months
    closed = last_closed_quarter(on)
    out = {}
    quarters_counted: dict[str, set[Quarter]] = defaultdict(set)  # per practice (not a scan of all, per practice)
    for agb, q, _ in counted:
        quarters_counted[agb].add(q)
    for code in wanted:
        # a quarter's counts come in after it ends: the latest quarter counted, if it is the last one that ended or
        # the one before (the tally of the last may not be in yet), else the last one that ended (none counted)
        own = {q for q in quarters_counted.get(code, ()) if closed.previous <= q <= Quarter.of(on)}
        quarter = max(own) if own else closed
        cadence = cadences.get(code)
        gpo = counted.get((code, quarter, CountKind.GPO))
        mdo = counted.get((code, quarter, CountKind.MDO))
        group = practices[code].gp_group
        plan = plans.get(group) if group else None
        has_counts = gpo is not None or mdo is not None
        out[code] = Neighbourhood(
            code, teams.get(code), cadence, quarter if cadence or has_counts else None,
            gpo if gpo is not None or cadence is None else 0,
            cadence.expected(quarter, on) if cadence else None, mdo,
            plan if plan is not None and plan.status is not NetworkPlanState.NONE else None,
            plan.evaluation_due(every, services.calendar) if plan is not None else None, on)
    return out


def held_network_meetings(services: Services, start: date, end: date) -> Counter[str]:
    """How many network meetings and case discussions the GP groups held from ``start`` to ``end`` (by kind)."""
    with services.session() as s:
        plans = store.views_on(s, end)
    return Counter(m.kind.value for v in plans.values() for m in v.meetings if start <= m.held_on <= end)


def mdos_in(services: Services, start: date, end: date) -> int:
    """The MDOs counted in the quarters that lie wholly within ``start`` .. ``end`` (as tallied since: a quarter's
    count is recorded after it ends)."""
    with services.session() as s:
        counted = store.counts(s)
    return sum(n for (_, q, kind), n in counted.items() if kind is CountKind.MDO and start <= q.start
               and q.end <= end)
