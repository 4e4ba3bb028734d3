"""The care group's course catalogue (seed section 4, "Scholing"): the mandatory courses such as Caspir and Langerhans
for GPs, practice nurses, nurses, doctors' assistants and practice managers, and the basic, start and advanced
courses of its offer.

Invariants:
- A course has a code (``[a-z0-9_]``, unique in the catalogue), a Dutch name, a kind and the roles it is meant for
  (at least one, each a role of a practice's people: not the care group's officers or board).
- A mandatory course is followed again every ``every_months`` (1-120); it is an obligation of every person in one
  of its roles (``domain.obligations``). A basic, start or advanced course is an offer: taking it is recorded, it is
  never owed, and ``every_months`` may be left out (a course followed once).
- The catalogue is the care group's whole offer as last imported; before any import the shipped catalogue holds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.errors import InputError
from domain.inputs import Name, Url
from domain.vocabulary import Role


class CourseKind(StrEnum):
    """The kinds of course the seed names: mandatory ones, and basic, start and advanced courses (basis-, start- en
    verdiepingsscholingen)."""

    MANDATORY = "mandatory"
    BASIC = "basic"
    START = "start"
    ADVANCED = "advanced"


COURSE_KIND_NAMES_NL = {CourseKind.MANDATORY: "verplicht", CourseKind.BASIC: "basisscholing",
                        CourseKind.START: "startscholing", CourseKind.ADVANCED: "verdiepingsscholing"}

# the care group's own people are not trained through a practice's register
NOT_A_PRACTICE_ROLE = frozenset({Role.OFFICER, Role.BOARD})
COURSE_ROLES = tuple(r for r in Role if r not in NOT_A_PRACTICE_ROLE)


class Course(BaseModel):
    """A course of the catalogue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    name: Name = Field(description="Dutch name as people know it.")
    kind: CourseKind = CourseKind.MANDATORY
    roles: frozenset[Role] = Field(min_length=1)
    every_months: int | None = Field(None, ge=1, le=120, description="Followed again this often (mandatory: "
                                                                        "required).")
    first_within_months: int = Field(
        6, ge=1, le=60, description="Someone with no completion on record is due this long after we first see them.")
    url: Url | None = None

    @field_validator("roles")
    @classmethod
    def _practice_roles(cls, roles: frozenset[Role]) -> frozenset[Role]:
        wrong = sorted(r.value for r in roles if r in NOT_A_PRACTICE_ROLE)
        if wrong:
            raise ValueError(f"rol {', '.join(wrong)} hoort niet bij een praktijk; bekend zijn: "
                             + ", ".join(r.value for r in COURSE_ROLES))
        return roles

    @model_validator(mode="after")
    def _mandatory_recurs(self) -> Course:
        if self.kind is CourseKind.MANDATORY and self.every_months is None:
            raise ValueError("every_months is verplicht voor een verplichte scholing (1-120 maanden)")
        return self

    @property
    def mandatory(self) -> bool:
        return self.kind is CourseKind.MANDATORY

    @property
    def kind_nl(self) -> str:
        return COURSE_KIND_NAMES_NL[self.kind]


class DuplicateCourseError(InputError):
    """A catalogue naming one course code twice: nothing is stored."""


def check_catalogue(courses: Sequence[Course]) -> None:
    seen: set[str] = set()
    for course in courses:
        if course.code in seen:
            raise DuplicateCourseError(f"scholing {course.code} staat twee keer in de catalogus; er is niets "
                                       "vastgelegd")
        seen.add(course.code)


def mandatory(courses: Iterable[Course]) -> tuple[Course, ...]:
    """The mandatory courses of a catalogue, in its order."""
    return tuple(c for c in courses if c.mandatory)


def catalogue_fingerprint(courses: Iterable[Course]) -> str:
    """A digest of the mandatory courses (what planning reads): a changed catalogue makes every practice's planning
    stale, so the next sweep plans its people's courses again."""
    data = [c.model_dump(mode="json") | {"roles": sorted(r.value for r in c.roles)} for c in mandatory(courses)]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# The shipped catalogue. The seed (section 4) names Caspir and Langerhans as mandatory courses offered to GPs, practice
# nurses (POH), nurses, doctors' assistants and practice managers, and an offer of basic, start and advanced courses;
# which role follows which course, how often, and the offer itself are the care group's to set (import-courses).
_COURSES_URL = "https://www.cohaesie.nl/scholingen"
SHIPPED_CATALOGUE: tuple[Course, ...] = (
    Course(code="caspir", name="Caspir-cursus (spirometrie bij astma en COPD)", kind=CourseKind.MANDATORY,
           roles=frozenset({Role.POH_CHRONIC, Role.DOCTORS_ASSISTANT, Role.NURSE}), every_months=24, url=_COURSES_URL),
    Course(code="langerhans", name="Langerhans-scholing (diabetes type 2)", kind=CourseKind.MANDATORY,
           roles=frozenset({Role.GP_PRINCIPAL, Role.GP, Role.POH_CHRONIC, Role.NURSE_PRACTITIONER,
                            Role.PRACTICE_MANAGER}),
           every_months=24, url=_COURSES_URL),
    Course(code="basis_poh_ouderenzorg", name="Basisscholing POH ouderenzorg", kind=CourseKind.BASIC,
           roles=frozenset({Role.POH_ELDERLY, Role.NURSE}), url=_COURSES_URL),
    Course(code="start_poh", name="Startscholing nieuwe praktijkondersteuners", kind=CourseKind.START,
           roles=frozenset({Role.POH_CHRONIC, Role.POH_ELDERLY}), url=_COURSES_URL),
    Course(code="verdieping_copd", name="Verdiepingsscholing COPD", kind=CourseKind.ADVANCED,
           roles=frozenset({Role.GP, Role.GP_PRINCIPAL, Role.POH_CHRONIC}), url=_COURSES_URL),
)
