"""Conversations of the quality cycle: who attended, and the improvement plan an extra conversation agrees.

Who must attend is a rule: ``domain.rules.attendance``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.inputs import Name, SaneDate, Text
from domain.registry import Programme, Role


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
