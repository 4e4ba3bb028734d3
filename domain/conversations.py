"""Conversations of the quality cycle: who attended, the improvement plan an extra conversation agrees, and a
conversation's report (verslag): its summary, the support the practice asks for, the agreements made and the
evaluation of earlier ones.

Seed, section 1: the agreements of the annual conversation are recorded in a report and evaluated at the next
one. Who must attend is a rule (``domain.rules.attendance``); which agreements an annual conversation leaves
unevaluated, and what a report may not say, are rules too (``domain.rules.agreements``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.inputs import Name, SaneDate, Text
from domain.registry import Programme, Role
from domain.vocabulary import AgreementOwner, Outcome, SupportKind


class Attendee(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    name: Name


class Goal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    programme: Programme
    indicator: Name
    target: float = Field(ge=0, le=100)
    by: SaneDate


class ImprovementPlan(BaseModel):
    """A joint improvement plan, agreed in the extra conversation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    goals: tuple[Goal, ...] = Field(min_length=1)
    agreements: tuple[Text, ...] = ()


class Agreement(BaseModel):
    """An agreement made in a conversation: what, by whom, by when, and the support it asks for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: Text = Field(min_length=1)
    owner: AgreementOwner
    due: SaneDate | None = None
    support: SupportKind | None = None


class Evaluation(BaseModel):
    """An earlier agreement (by its id) evaluated in this conversation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agreement: Name
    outcome: Outcome
    note: Text = ""


class ConversationReport(BaseModel):
    """A conversation's report (verslag). Its ``goals`` make the improvement plan of an extra conversation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    summary: Text = ""
    support_needs: tuple[SupportKind, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    evaluations: tuple[Evaluation, ...] = ()
    goals: tuple[Goal, ...] = ()

    def improvement_plan(self) -> ImprovementPlan | None:
        """The plan the report's goals make (its agreements' texts with them), or None without goals."""
        if not self.goals:
            return None
        return ImprovementPlan(goals=self.goals, agreements=tuple(a.text for a in self.agreements))
