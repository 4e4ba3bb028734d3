"""Who is who in a care group: GP groups, practices, their people, officers and the board.

Invariants: an AGB code is exactly eight digits (kept as text, leading zeros matter);
a role is one of the glossary's names; a practice's programme enrolments carry the date
the programme started for that practice.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.errors import InvalidAgbCodeError
from domain.inputs import Email, Name, SaneDate

_AGB = re.compile(r"^\d{8}$")


def validate_agb_code(value: str) -> str:
    """Return the AGB code or raise; the code is eight digits, leading zeros included."""
    text = str(value).strip()
    if not _AGB.fullmatch(text):
        raise InvalidAgbCodeError(f"AGB-code {value!r} is ongeldig: verwacht precies 8 cijfers")
    return text


AgbCode = Annotated[str, AfterValidator(validate_agb_code)]


class Programme(StrEnum):
    """Care programmes (zorgprogramma's). All but ``elderly`` are chronic care."""

    DM2 = "dm2"
    COPD = "copd"
    ASTHMA = "asthma"
    CVRM = "cvrm"
    ELDERLY = "elderly"


CHRONIC_PROGRAMMES: frozenset[Programme] = frozenset(
    {Programme.DM2, Programme.COPD, Programme.ASTHMA, Programme.CVRM}
)


class Role(StrEnum):
    """Roles of people, with the glossary's names."""

    GP_PRINCIPAL = "gp_principal"
    GP = "gp"
    POH_CHRONIC = "poh_chronic"
    POH_ELDERLY = "poh_elderly"
    NURSE_PRACTITIONER = "nurse_practitioner"
    NURSE = "nurse"
    PRACTICE_MANAGER = "practice_manager"
    DOCTORS_ASSISTANT = "doctors_assistant"
    DISTRICT_NURSE = "district_nurse"
    GP_SPECIALIST = "gp_specialist"
    DIABETES_NURSE = "diabetes_nurse"
    LUNG_FUNCTION_ANALYST = "lung_function_analyst"
    COACH = "coach"
    EKC = "ekc"
    OFFICER = "officer"
    BOARD = "board"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Person(_Frozen):
    name: Name
    role: Role
    email: Email | None = None


class GpGroup(_Frozen):
    code: Name
    name: Name


class Practice(_Frozen):
    agb_code: AgbCode
    name: Name
    gp_group: str | None = None
    email: Email | None = None
    programmes: dict[Programme, SaneDate] = Field(default_factory=dict)
    people: tuple[Person, ...] = ()

    def enrolled_in(self, programme: Programme, on: date) -> bool:
        started = self.programmes.get(programme)
        return started is not None and started <= on


class CareGroup(_Frozen):
    name: Name
    email: Email | None = None


class Registry(_Frozen):
    """A care group with everything in it, as a registry file describes it."""

    care_group: CareGroup
    officers: tuple[Person, ...] = ()
    board: tuple[Person, ...] = ()
    gp_groups: tuple[GpGroup, ...] = ()
    practices: tuple[Practice, ...] = ()
