"""Conversations of the quality cycle: start, annual and extra; who must attend; improvement plans.

Seed, section 1: at the annual conversation at least one practice-holding GP, a practice
nurse for chronic care and one for elderly care (who may also be a nurse practitioner or a
nurse) attend, and two officers of the care group. A conversation that misses this is
stored and flagged, never refused: the conversation happened.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from domain.inputs import Name, SaneDate, Text
from domain.registry import Programme, Role
from domain.vocabulary import ConversationKind


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


ELDERLY_CARE_ROLES = frozenset({Role.POH_ELDERLY, Role.NURSE_PRACTITIONER, Role.NURSE})
ATTENDANCE_CHECKED_FOR = frozenset({ConversationKind.ANNUAL, ConversationKind.EXTRA})


def attendance_gaps(kind: ConversationKind, attendees: Iterable[Attendee]) -> tuple[str, ...]:
    """What the seed's attendance rule misses in this conversation (Dutch, empty when complete)."""
    if kind not in ATTENDANCE_CHECKED_FOR:
        return ()
    roles = Counter(a.role for a in attendees)
    gaps: list[str] = []
    if roles[Role.GP_PRINCIPAL] < 1:
        gaps.append("geen praktijkhoudende huisarts aanwezig")
    if roles[Role.POH_CHRONIC] < 1:
        gaps.append("geen praktijkondersteuner chronische zorg aanwezig")
    if sum(roles[r] for r in ELDERLY_CARE_ROLES) < 1:
        gaps.append("geen praktijkondersteuner ouderenzorg (of verpleegkundig specialist/verpleegkundige) aanwezig")
    if roles[Role.OFFICER] < 2:
        gaps.append(f"{roles[Role.OFFICER]} functionaris(sen) van de zorggroep aanwezig, vereist: 2")
    return tuple(gaps)
