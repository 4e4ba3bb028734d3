"""Who is who in a care group: GP groups, practices, their people, officers and the board.

Invariants: an AGB code is exactly eight digits (kept as text, leading zeros matter);
a role is one of the glossary's names; a practice's programme enrolments carry the date
the programme started for that practice.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.errors import InvalidAgbCodeError
from domain.inputs import Email, Name, SaneDate
from domain.vocabulary import Programme, Role

_AGB = re.compile(r"^\d{8}$")


def validate_agb_code(value: str) -> str:
    """Return the AGB code or raise; the code is eight digits, leading zeros included."""
    text = str(value).strip()
    if not _AGB.fullmatch(text):
        raise InvalidAgbCodeError(f"AGB-code {value!r} is ongeldig: verwacht precies 8 cijfers")
    return text


AgbCode = Annotated[str, AfterValidator(validate_agb_code)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Person(_Frozen):
    name: Name
    role: Role
    email: Email | None = None


class Ekc(_Frozen):
    """A GP group's accredited quality consultant (erkend kwaliteitsconsulent), who accredits its mirror meetings
    (seed section 1)."""

    name: Name
    email: Email | None = None


class GpGroup(_Frozen):
    code: Name
    name: Name
    ekc: Ekc | None = None
    # a mirror meeting's pack shows the group's practices by name, or as "praktijk A, B, ..." (the group decides)
    anonymise_mirror: bool = False


class Practice(_Frozen):
    agb_code: AgbCode
    name: Name
    gp_group: Name | None = None
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

    @functools.cached_property
    def practices_by_code(self) -> dict[str, Practice]:
        """The practices by AGB code, made once per registry: the dispatcher looks up a message's practice for
        every message it sends (a map made anew each time cost 0.34 ms a message at 5,000 practices)."""
        return {p.agb_code: p for p in self.practices}
