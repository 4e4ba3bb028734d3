"""Commands: what staff or the engine ask of the quality cycle, in the imperative."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.conversations import Attendee, ConversationReport, ImprovementPlan
from domain.registry import Programme
from domain.vocabulary import ConversationKind


@dataclass(frozen=True)
class RecordConversation:
    agb_code: str
    kind: ConversationKind
    held_on: date
    programme: Programme | None = None
    attendees: tuple[Attendee, ...] = ()
    plan: ImprovementPlan | None = None
    report: ConversationReport | None = None  # its goals are the plan (give one or the other)

    @property
    def improvement_plan(self) -> ImprovementPlan | None:
        return self.plan or (self.report.improvement_plan() if self.report is not None else None)


@dataclass(frozen=True)
class LeaveProgramme:
    """The practice leaves the care group's quality cycle altogether."""

    agb_code: str
    on: date
    reason: str
