"""Training (seed section 4, "Scholing"): the care group's course catalogue, and who of the practices' people is
current, due or overdue on their mandatory courses, per practice and role: the overview behind
``qualitycycle training``, and the counts the board's digest shows.

Invariants:
- ``import_courses`` stores a whole catalogue or nothing; from then on it is the catalogue (the next sweep plans
  every practice's mandatory courses from it: its fingerprint is part of the planning basis).
- The overview reads the duties planning keeps (``ObligationKind.MANDATORY_COURSE``) and the completions recorded;
  nothing here writes except the import, and nothing reads the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from domain.clock import as_amsterdam
from domain.courses import Course, CourseKind, check_catalogue
from domain.obligations import ObligationKind, ObligationStatus, course_status
from flows.services.context import Services, UnknownPracticeError
from storage import courses as course_store
from storage import obligations as obligation_store
from storage import repository as repo


def import_courses(services: Services, courses: Sequence[Course], now: datetime, actor: str) -> int:
    """The catalogue becomes ``courses`` (the file is the whole offer); returns how many courses it holds."""
    check_catalogue(courses)
    with services.transaction() as s:
        course_store.add_catalogue(s, courses, as_amsterdam(now), actor)
    return len(courses)


@dataclass(frozen=True)
class Catalogue:
    courses: tuple[Course, ...]
    shipped: bool  # no catalogue imported yet: the shipped one holds


def course_catalogue(services: Services) -> Catalogue:
    with services.session() as s:
        imported = course_store.catalogue(s)
        return Catalogue(imported, False) if imported is not None else Catalogue(course_store.current(s), True)


@dataclass(frozen=True)
class TrainingLine:
    agb_code: str
    person: str
    role: str
    course: str
    course_name: str
    kind: str  # the course's kind (mandatory, basic, start, advanced)
    status: str  # mandatory: current | due | overdue; another kind: followed
    due_on: date | None
    last_completed_on: str | None


def training(services: Services, on: date, agb_code: str | None = None, *, overdue_only: bool = False
             ) -> list[TrainingLine]:
    """Every person's mandatory courses (of one practice, or of all) and where they stand on ``on``, and the basic,
    start and advanced courses they followed by then."""
    policy = services.in_force(on).policy
    with services.session() as s:
        if agb_code is not None and not repo.is_registered(s, agb_code):
            raise UnknownPracticeError(agb_code)
        codes = [agb_code] if agb_code else None
        # only the overdue asked for (``qualitycycle training --overdue``): those due before the day, as
        # ``course_status`` says, read alone (every person's open course is some 20,000 rows at 5,000 practices)
        rows = obligation_store.obligations(s, status=ObligationStatus.OPEN.value, agb_codes=codes,
                                            kinds=[ObligationKind.MANDATORY_COURSE],
                                            due_before=on if overdue_only else None)
        courses = {c.code: c for c in course_store.current(s)}
        # the other courses followed are listed only when everything is asked for
        completions = obligation_store.course_completions(s, codes, on) if not overdue_only else {}
        roles = {(p.agb_code, person.name): person.role.value
                 for p in repo.practices_of(s, list(completions)) for person in p.people} if completions else {}
    lines = [TrainingLine(r.agb_code or "", str(r.details.get("person", "")), str(r.details.get("role", "")),
                          str(r.details.get("course", "")), str(r.details.get("course_name", "")),
                          CourseKind.MANDATORY.value, course_status(r.obligation, policy, on), r.due_on,
                          r.details.get("last_completed_on"))
             for r in rows]
    if not overdue_only:
        for code, done in completions.items():
            for (person, course_code), day in done.items():
                course = courses.get(course_code)
                if course is None or course.mandatory or (code, person) not in roles:
                    continue  # a mandatory course is shown by its duty; a course or person gone is not shown
                lines.append(TrainingLine(code, person, roles[(code, person)], course.code, course.name,
                                          course.kind.value, "followed", None, day.isoformat()))
    if overdue_only:
        lines = [line for line in lines if line.status == "overdue"]
    return sorted(lines, key=lambda t: (t.agb_code, t.role, t.person, t.kind != "mandatory", t.course))


def overdue_people(services: Services, on: date) -> dict[str, int]:
    """Per practice, how many of its people are overdue on at least one mandatory course on ``on`` (the board's
    digest)."""
    with services.session() as s:
        return obligation_store.overdue_course_people(s, on)
