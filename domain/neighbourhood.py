"""The neighbourhood (seed section 5, "Verbinding binnen de wijk"): per practice its core team for elderly care, its
structured periodic consultation (GPO) and the MDOs around frail elderly patients; per GP group its network plan
with partners, evaluated yearly, and the network meetings and case discussions held under it.

Seed: "Het kernteam bestaat minimaal uit een huisarts en POH-/verpleegkundige en wijkverpleegkundige" (a core team
is complete with at least those three), "het opzetten van een gestructureerd periodiek overleg (GPO)" (a cadence),
"een multidisciplinair overleg (MDO) rondom de kwetsbare oudere" (counted, never named), and for the GP group "het
maken en jaarlijks evalueren van een gezamenlijk plan met samenwerkingspartners" (the plan's lifecycle,
``statemachines.network_plan``).

Invariants:
- GPOs and MDOs are counts per practice and quarter, never patients: there is no field a patient could go in.
- A core team is stored as given and flagged when incomplete (``CoreTeam.missing``), like attendance: the care
  group supports its forming, it does not refuse a team that is still forming.
- A network plan's view is exactly the fold of its events (``NetworkPlanView.apply``); its evaluation falls due
  ``every_months`` after it was agreed or last evaluated, on a working day.
- The rules here are pure: the day is always an argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict

from domain.calendar import WorkingCalendar
from domain.errors import InputError
from domain.inputs import Email, Name, shown
from domain.vocabulary import Role

# --- the practice's core team --------------------------------------------------------------------------------------

# what a core team needs at least (seed 5), each need met by any of its roles
CORE_TEAM_NEEDS: tuple[tuple[str, frozenset[Role]], ...] = (
    ("huisarts", frozenset({Role.GP_PRINCIPAL, Role.GP})),
    ("POH of verpleegkundige", frozenset({Role.POH_ELDERLY, Role.POH_CHRONIC, Role.NURSE_PRACTITIONER, Role.NURSE})),
    ("wijkverpleegkundige", frozenset({Role.DISTRICT_NURSE})),
)
# who else may sit in it (the seed says "minimaal": a core team may be larger)
CORE_TEAM_ROLES = frozenset().union(*(roles for _, roles in CORE_TEAM_NEEDS)) | {
    Role.GP_SPECIALIST, Role.PRACTICE_MANAGER, Role.DOCTORS_ASSISTANT, Role.COACH}
# the Dutch words staff type as well as the role names
CORE_TEAM_ROLE_ALIASES: dict[str, Role] = {
    **{r.value: r for r in CORE_TEAM_ROLES}, "huisarts": Role.GP, "praktijkhouder": Role.GP_PRINCIPAL,
    "poh": Role.POH_ELDERLY, "poh_ouderenzorg": Role.POH_ELDERLY, "verpleegkundige": Role.NURSE,
    "verpleegkundig_specialist": Role.NURSE_PRACTITIONER, "wijkverpleegkundige": Role.DISTRICT_NURSE,
    "kaderhuisarts": Role.GP_SPECIALIST, "praktijkmanager": Role.PRACTICE_MANAGER,
    "doktersassistent": Role.DOCTORS_ASSISTANT}


class UnknownCoreTeamRoleError(InputError):
    """A core team member in a role that has no place in a core team."""


def core_team_role(text: str) -> Role:
    """The role a member is given as (``district_nurse`` or ``wijkverpleegkundige``), or the error naming the known."""
    role = CORE_TEAM_ROLE_ALIASES.get(text.strip().lower().replace("-", "_").replace(" ", "_"))
    if role is None:
        known = ", ".join(sorted(r.value for r in CORE_TEAM_ROLES))
        raise UnknownCoreTeamRoleError(f"rol {shown(text)} is onbekend in een kernteam: verwacht een van {known}")
    return role


@dataclass(frozen=True)
class CoreTeam:
    """A practice's core team for elderly care as it stood from ``formed_on``: its members (role, name)."""

    agb_code: str
    formed_on: date
    members: tuple[tuple[Role, str], ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """What the seed's minimum lacks (Dutch), in the seed's order; empty when complete."""
        roles = {role for role, _ in self.members}
        return tuple(need for need, any_of in CORE_TEAM_NEEDS if not roles & any_of)

    @property
    def complete(self) -> bool:
        return not self.missing


# --- quarters, GPO cadence, counts ---------------------------------------------------------------------------------

_QUARTER = re.compile(r"^(\d{4})\s*[QqKk]([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """``2026Q1`` or ``2026K1``."""
        match = _QUARTER.fullmatch(text.strip())
        if not match:
            raise ValueError(f"kwartaal {text!r} is ongeldig: verwacht bijv. 2026K1 (of 2026Q1)")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        return self.start + relativedelta(months=3, days=-1)

    @property
    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def nl(self) -> str:
        return f"{self.year}K{self.number}"


class CountKind(StrEnum):
    GPO = "gpo"  # gestructureerd periodiek overleg of the core team
    MDO = "mdo"  # multidisciplinair overleg around a frail elderly patient


@dataclass(frozen=True)
class GpoCadence:
    """How often the core team means to hold its GPO: every ``every_weeks`` weeks from ``since``."""

    every_weeks: int
    since: date

    def expected(self, quarter: Quarter, until: date | None = None) -> int:
        """How many GPOs the cadence sets in ``quarter`` (up to ``until``, when the quarter is not over)."""
        first, last = max(quarter.start, self.since), min(quarter.end, until or quarter.end)
        if last < first:
            return 0
        step = self.every_weeks * 7
        # the k-th GPO falls on since + k*step; count k with first <= since + k*step <= last
        lo = -(-(first - self.since).days // step)
        hi = (last - self.since).days // step
        return max(0, hi - lo + 1)


def last_closed_quarter(on: date) -> Quarter:
    """The last quarter that ended by ``on`` (the one before ``on``'s own, unless ``on`` is a quarter's last day)."""
    own = Quarter.of(on)
    return own if on == own.end else own.previous


@dataclass(frozen=True)
class Neighbourhood:
    """One practice's neighbourhood as it stood on a day: its core team, GPO cadence, and the counts of the last
    quarter that ended (GPOs held against the cadence, MDOs)."""

    agb_code: str
    core_team: CoreTeam | None = None
    cadence: GpoCadence | None = None
    quarter: Quarter | None = None
    gpo_held: int | None = None
    gpo_expected: int | None = None
    mdo_held: int | None = None
    plan: NetworkPlanView | None = None
    plan_due_on: date | None = None
    on: date | None = None

    @property
    def gpo_behind(self) -> bool:
        return self.gpo_expected is not None and (self.gpo_held or 0) < self.gpo_expected

    @property
    def evaluation_overdue(self) -> bool:
        return self.plan_due_on is not None and self.on is not None and self.plan_due_on < self.on

    @property
    def anything(self) -> bool:
        return any(x is not None for x in (self.core_team, self.cadence, self.gpo_held, self.mdo_held, self.plan))

    def line_nl(self) -> str:
        """``kernteam onvolledig (mist wijkverpleegkundige); GPO elke 6 weken: 1 van 2 in 2026K3; MDO 3 in 2026K3;
        netwerkplan Hagro Noord: evaluatie uiterlijk 2027-03-01``."""
        parts = []
        team = self.core_team
        if team is None:
            parts.append("geen kernteam")
        elif team.missing:
            parts.append(f"kernteam onvolledig (mist {', '.join(team.missing)})")
        else:
            parts.append(f"kernteam compleet ({len(team.members)})")
        q = self.quarter.nl if self.quarter else ""
        if self.cadence is not None:
            parts.append(f"GPO elke {self.cadence.every_weeks} weken: {self.gpo_held or 0} van {self.gpo_expected or 0}"
                         f" in {q}" + (" (achter)" if self.gpo_behind else ""))
        elif self.gpo_held is not None:
            parts.append(f"GPO {self.gpo_held} in {q} (geen ritme afgesproken)")
        if self.mdo_held is not None:
            parts.append(f"MDO {self.mdo_held} in {q}")
        plan = self.plan
        if plan is not None and plan.status is NetworkPlanState.AGREED and self.plan_due_on is not None:
            parts.append(f"netwerkplan {plan.gp_group}: evaluatie "
                         + (f"over tijd sinds {self.plan_due_on.isoformat()}" if self.evaluation_overdue
                            else f"uiterlijk {self.plan_due_on.isoformat()}"))
        return "; ".join(parts)


# --- the GP group's network plan -----------------------------------------------------------------------------------

class PartnerKind(StrEnum):
    """The partners a GP group makes its plan with (seed 5: "samenwerkingspartners")."""

    DISTRICT_NURSING = "district_nursing"  # wijkverpleging
    ELDERLY_CARE_PHYSICIAN = "elderly_care_physician"  # specialist ouderengeneeskunde
    MUNICIPALITY = "municipality"  # gemeente, Wmo
    SOCIAL_WELFARE = "social_welfare"  # welzijn, sociaal wijkteam
    PHARMACY = "pharmacy"
    PHYSIOTHERAPY = "physiotherapy"
    MENTAL_HEALTH = "mental_health"  # ggz
    HOSPITAL = "hospital"
    OTHER = "other"


PARTNER_KIND_ALIASES: dict[str, PartnerKind] = {
    **{k.value: k for k in PartnerKind}, "wijkverpleging": PartnerKind.DISTRICT_NURSING,
    "thuiszorg": PartnerKind.DISTRICT_NURSING, "specialist_ouderengeneeskunde": PartnerKind.ELDERLY_CARE_PHYSICIAN,
    "so": PartnerKind.ELDERLY_CARE_PHYSICIAN, "gemeente": PartnerKind.MUNICIPALITY, "wmo": PartnerKind.MUNICIPALITY,
    "welzijn": PartnerKind.SOCIAL_WELFARE, "sociaal_wijkteam": PartnerKind.SOCIAL_WELFARE,
    "apotheek": PartnerKind.PHARMACY, "fysiotherapie": PartnerKind.PHYSIOTHERAPY, "ggz": PartnerKind.MENTAL_HEALTH,
    "ziekenhuis": PartnerKind.HOSPITAL, "overig": PartnerKind.OTHER, "anders": PartnerKind.OTHER}


class Partner(BaseModel):
    """A partner of the GP group's plan: an organisation (never a patient), its kind, an address if known."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name
    kind: PartnerKind
    email: Email | None = None


class NetworkPlanState(StrEnum):
    NONE = "none"  # no plan agreed (yet)
    AGREED = "agreed"  # a plan with partners in force, evaluated yearly
    ENDED = "ended"  # the GP group stopped it


class NetworkPlanTrigger(StrEnum):
    AGREE = "agree"  # a (new) plan with its partners agreed on a day
    EVALUATE = "evaluate"  # the yearly evaluation held on a day, with a note
    HOLD = "hold"  # a network meeting or case discussion held under the plan
    END = "end"


NETWORK_PLAN_STATE_NAMES_NL = {NetworkPlanState.NONE: "zonder plan", NetworkPlanState.AGREED: "afgesproken",
                               NetworkPlanState.ENDED: "beëindigd"}


class NetworkMeetingKind(StrEnum):
    NETWORK_MEETING = "network_meeting"  # netwerkbijeenkomst
    CASE_DISCUSSION = "case_discussion"  # casuïstiekbespreking


NETWORK_MEETING_NAMES_NL = {NetworkMeetingKind.NETWORK_MEETING: "netwerkbijeenkomst",
                            NetworkMeetingKind.CASE_DISCUSSION: "casuïstiekbespreking"}


@dataclass(frozen=True)
class NetworkPlanEvent:
    """One change of a GP group's network plan: the day it happened (``on``), when it was recorded and by whom."""

    gp_group: str
    seq: int
    trigger: NetworkPlanTrigger
    from_state: NetworkPlanState
    to_state: NetworkPlanState
    on: date
    recorded_at: datetime
    actor: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HeldNetworkMeeting:
    """A network meeting or case discussion as held: who of which practice came, which partners, the minutes."""

    kind: NetworkMeetingKind
    held_on: date
    attended: tuple[tuple[str, str], ...] = ()  # (agb_code, name)
    partners: tuple[str, ...] = ()
    minutes: str | None = None


@dataclass(frozen=True)
class NetworkPlanView:
    """Where a GP group's network plan stands: the fold of its events."""

    gp_group: str
    status: NetworkPlanState = NetworkPlanState.NONE
    version: int = 0
    agreed_on: date | None = None
    partners: tuple[Partner, ...] = ()
    evaluations: tuple[tuple[date, str], ...] = ()  # (evaluated on, note)
    meetings: tuple[HeldNetworkMeeting, ...] = ()
    ended_on: date | None = None

    @property
    def last_evaluated_on(self) -> date | None:
        return self.evaluations[-1][0] if self.evaluations else None

    def apply(self, event: NetworkPlanEvent) -> NetworkPlanView:
        d = event.details
        view = replace(self, status=event.to_state, version=event.seq)
        if event.trigger is NetworkPlanTrigger.AGREE:
            return replace(view, agreed_on=event.on, evaluations=(), ended_on=None,
                           partners=tuple(Partner.model_validate(p) for p in d["partners"]))
        if event.trigger is NetworkPlanTrigger.EVALUATE:
            return replace(view, evaluations=(*self.evaluations, (event.on, d["note"])))
        if event.trigger is NetworkPlanTrigger.HOLD:
            held = HeldNetworkMeeting(NetworkMeetingKind(d["kind"]), event.on,
                                      tuple((a["agb_code"], a["name"]) for a in d.get("attended", [])),
                                      tuple(d.get("partners", [])), d.get("minutes"))
            return replace(view, meetings=(*self.meetings, held))
        return replace(view, ended_on=event.on)

    def evaluation_due(self, every_months: int, calendar: WorkingCalendar) -> date | None:
        """The day its next evaluation is due (a year after it was agreed or last evaluated, on a working day), or
        None without a plan in force."""
        if self.status is not NetworkPlanState.AGREED or self.agreed_on is None:
            return None
        since = self.last_evaluated_on or self.agreed_on
        return calendar.on_or_before(since + relativedelta(months=every_months))


def plan_notice_on(due_on: date, days_before: int) -> date:
    return due_on - timedelta(days=days_before)
