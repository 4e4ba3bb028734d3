"""Replay a care group in tests: build it from a readable description, feed indicator periods,
record conversations and run the engine through simulated years, with the clock in hand.

Example (the README has it too)::

    sc = Scenario.build(services, '''
        care_group: Cohaesie
        board: [B. de Vries <bestuur@cohaesie.example>]
        practices:
          "01234567": {name: De Linde, programmes: {dm2: 2023-01-01}}
    ''')
    sc.conversation("01234567", "start", "2024-01-15")
    sc.scores("2024-03-31", {"01234567": {"dm2/hba1c_measured": 60}})
    sc.run("2024-04-08")
    assert sc.state("01234567") == "extra_conversation"

A practice's people are given by role: ``people: {gp_principal: "C. Bakker <c.bakker@x.example>",
poh_chronic: [...]}``.

Scores are given as a percentage (numerator of 100) or as ``(numerator, denominator)``.
The shipped catalogue is loaded, with the sample targets and (unless ``sample_averages: false``)
the illustrative national averages of ``flows/testing/samples``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from domain.clock import AMSTERDAM, FixedClock, as_amsterdam
from domain.commands import LeaveProgramme, RecordConversation
from domain.conversations import Attendee, ConversationReport, Goal, ImprovementPlan
from domain.indicators import IndicatorScore, NationalAverage, Target
from domain.registry import CareGroup, Ekc, GpGroup, Person, Practice, Programme, Registry, Role
from domain.trajectory import TrajectoryState, TrajectoryTransitioned
from domain.vocabulary import ConversationKind
from flows.services import context, conversations, evaluation, imports, queries, sweep
from flows.services.duties import DutyReport
from readers.files import parse_averages, parse_targets

SAMPLES = Path(__file__).parent / "samples"
FULL_ATTENDANCE = (
    Attendee(role=Role.GP_PRINCIPAL, name="Huisarts"),
    Attendee(role=Role.POH_CHRONIC, name="POH chronische zorg"),
    Attendee(role=Role.POH_ELDERLY, name="POH ouderenzorg"),
    Attendee(role=Role.OFFICER, name="Functionaris 1"),
    Attendee(role=Role.OFFICER, name="Functionaris 2"),
)
_CONTACT = re.compile(r"^\s*(?P<name>[^<]+?)\s*(?:<(?P<email>[^>]+)>)?\s*$")
ENGINE_HOUR = time(7, 0)


def _day(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _moment(value: str | date | datetime) -> datetime:
    if isinstance(value, datetime):
        return as_amsterdam(value)
    return datetime.combine(_day(value), ENGINE_HOUR, tzinfo=AMSTERDAM)


def _contact(text: str, role: Role) -> Person:
    match = _CONTACT.match(text)
    if match is None:
        raise ValueError(f"contact {text!r}: expected 'Name <email>'")
    return Person(name=match["name"], role=role, email=match["email"])


def _gp_group(code: str, spec: Mapping[str, Any]) -> GpGroup:
    """A GP group of a description: ``gp_groups: {CODE: {name, ekc: "Name <email>", anonymise_mirror: true}}``."""
    ekc = _contact(spec["ekc"], Role.EKC) if spec.get("ekc") else None
    return GpGroup(code=code, name=spec.get("name", code), anonymise_mirror=bool(spec.get("anonymise_mirror")),
                   ekc=Ekc(name=ekc.name, email=ekc.email) if ekc else None)


@dataclass
class Scenario:
    services: context.Services
    clock: FixedClock
    actor: str = "scenario"
    # a live care group: what it records is taken as it is recorded, as in production, where the engine runs
    # every working day; ``live=False`` brings in history the way a care group starting with the product does
    # (a fact waits until a run reaches the day it happened)
    live: bool = True

    @classmethod
    def build(cls, services: context.Services, description: str | Mapping[str, Any],
              start: str | date = "2024-01-01") -> Scenario:
        data: Mapping[str, Any] = yaml.safe_load(description) if isinstance(description, str) else description
        practices = []
        for agb, spec in (data.get("practices") or {}).items():
            programmes = {Programme(p): _day(d) for p, d in (spec.get("programmes") or {}).items()}
            people = tuple(_contact(c, Role(role)) for role, contacts in (spec.get("people") or {}).items()
                           for c in ([contacts] if isinstance(contacts, str) else contacts))
            practices.append(Practice(agb_code=str(agb), name=spec.get("name", f"Praktijk {agb}"),
                                      gp_group=spec.get("gp_group"), email=spec.get("email"),
                                      programmes=programmes, people=people))
        groups = {p.gp_group for p in practices if p.gp_group}
        registry = Registry(
            care_group=CareGroup(name=data.get("care_group", "Zorggroep")),
            officers=tuple(_contact(c, Role.OFFICER) for c in data.get("officers") or ()),
            board=tuple(_contact(c, Role.BOARD) for c in data.get("board") or ()),
            gp_groups=tuple(_gp_group(g, (data.get("gp_groups") or {}).get(g) or {}) for g in sorted(groups)),
            practices=tuple(practices),
        )
        scenario = cls(services=services, clock=FixedClock(_moment(start)))
        imports.ensure_default_catalogue(services)
        imports.import_targets(services, parse_targets(SAMPLES / "targets.csv"))
        if data.get("sample_averages", True):
            imports.import_averages(services, parse_averages(SAMPLES / "averages.csv"))
        imports.load_registry(services, registry)
        if data.get("targets"):
            scenario.targets(data["targets"])
        for year, values in (data.get("averages") or {}).items():
            scenario.averages(int(year), values)
        return scenario

    # --- feeding data ---------------------------------------------------------------------

    def targets(self, values: Mapping[str, float]) -> None:
        imports.import_targets(self.services, [
            Target(programme=Programme(k.split("/")[0]), indicator=k.split("/")[1], target=v)
            for k, v in values.items()
        ])

    def averages(self, year: int, values: Mapping[str, float]) -> None:
        imports.import_averages(self.services, [
            NationalAverage(programme=Programme(k.split("/")[0]), indicator=k.split("/")[1], year=year,
                            national_average=v)
            for k, v in values.items()
        ])

    def scores(self, period_end: str | date, values: Mapping[str, Mapping[str, float | tuple[int, int]]]) -> None:
        """Feed one 12-month period ending on ``period_end`` for the practices given."""
        end = _day(period_end)
        rows = []
        for agb, per_indicator in values.items():
            for key, value in per_indicator.items():
                programme, indicator = key.split("/")
                numerator, denominator = value if isinstance(value, tuple) else (round(value), 100)
                rows.append(IndicatorScore(agb_code=agb, programme=Programme(programme), indicator=indicator,
                                           period_end=end, numerator=numerator, denominator=denominator))
        imports.import_scores(self.services, rows, source=f"scenario {end.isoformat()}", now=self.clock.now(),
                              actor=self.actor)

    def conversation(self, agb: str, kind: str, on: str | date, *, programme: str | None = None,
                     plan: Mapping[str, float] | None = None, attendees: tuple[Attendee, ...] = FULL_ATTENDANCE,
                     plan_by: str | date | None = None, report: ConversationReport | None = None
                     ) -> conversations.ConversationRecorded:
        """Record a conversation held on ``on`` (the clock moves there if it is behind).

        ``plan`` maps indicator keys to goal targets: ``{"dm2/hba1c_measured": 85}``.
        """
        held_on = _day(on)
        if self.clock.now().date() < held_on:
            self.clock.set(datetime.combine(held_on, time(16, 0), tzinfo=AMSTERDAM))
        improvement_plan = None
        if plan:
            by = _day(plan_by) if plan_by else held_on + timedelta(days=365)
            improvement_plan = ImprovementPlan(goals=tuple(
                Goal(programme=Programme(k.split("/")[0]), indicator=k.split("/")[1], target=v, by=by)
                for k, v in plan.items()
            ))
        cmd = RecordConversation(agb_code=agb, kind=ConversationKind(kind), held_on=held_on,
                                 programme=Programme(programme) if programme else None,
                                 attendees=attendees, plan=improvement_plan, report=report)
        return conversations.record_conversation(self.services, cmd, self.clock.now(), self.actor,
                                                 live=True if self.live else None)

    def leave(self, agb: str, on: str | date, reason: str = "praktijk stopt") -> conversations.LeaveRecorded:
        """Record that a practice leaves the cycle on ``on`` (the clock moves there, at noon, if it is behind)."""
        day = _day(on)
        if self.clock.now().date() < day:
            self.clock.set(datetime.combine(day, time(12, 0), tzinfo=AMSTERDAM))
        return conversations.leave(self.services, LeaveProgramme(agb_code=agb, on=day, reason=reason),
                                   self.clock.now(), self.actor, live=True if self.live else None)

    # --- running the engine ---------------------------------------------------------------

    def run(self, at: str | date | datetime) -> evaluation.RunReport:
        """Run everything due at ``at`` (07:00 Amsterdam when a date is given)."""
        moment = _moment(at)
        self.clock.set(moment)
        return evaluation.run_due(self.services, moment)

    def sweep(self, at: str | date | datetime) -> DutyReport:
        """The sweep at ``at`` (07:00 Amsterdam when a date is given): goals and agreements followed up, trajectories
        advanced, duties planned, notices queued (``flows.services.sweep.sweep_due``)."""
        moment = _moment(at)
        self.clock.set(moment)
        return sweep.sweep_due(self.services, moment)

    def run_weekly(self, until: str | date) -> list[evaluation.RunReport]:
        """Run the engine every Monday at 07:00 from the clock's date up to ``until``."""
        day = self.clock.now().date()
        day += timedelta(days=(7 - day.weekday()) % 7)
        reports = []
        while day <= _day(until):
            reports.append(self.run(day))
            day += timedelta(days=7)
        return reports

    # --- reading --------------------------------------------------------------------------

    def state(self, agb: str) -> TrajectoryState:
        return next(line.state for line in queries.status(self.services) if line.agb_code == agb)

    def history(self, agb: str) -> list[TrajectoryTransitioned]:
        return queries.history(self.services, agb)

    def triggers(self, agb: str) -> list[str]:
        return [e.trigger.value for e in self.history(agb)]
