"""Who of the practices' people is current, due or overdue on their mandatory courses (seed section 4,
"Scholing"), per practice and role: the overview behind ``qualitycycle training``.

Read-only; the courses' duties are planned by ``flows.services.planning`` and their reminder and overdue notice
queued by the sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.obligations import ObligationKind, course_status
from flows.services.context import Services, UnknownPracticeError
from storage import obligations as obligation_store
from storage import repository as repo


@dataclass(frozen=True)
class TrainingLine:
    agb_code: str
    person: str
    role: str
    course: str
    course_name: str
    status: str  # current | due | overdue
    due_on: date
    last_completed_on: str | None


def training(services: Services, on: date, agb_code: str | None = None, *, overdue_only: bool = False
             ) -> list[TrainingLine]:
    """Every person's mandatory courses (of one practice, or of all) and where they stand on ``on``."""
    policy = services.in_force(on).policy
    with services.session() as s:
        if agb_code is not None and not repo.is_registered(s, agb_code):
            raise UnknownPracticeError(agb_code)
        rows = obligation_store.open_obligations(s, kinds=[ObligationKind.MANDATORY_COURSE],
                                                 agb_codes=[agb_code] if agb_code else None)
    lines = [TrainingLine(r.agb_code or "", str(r.details.get("person", "")), str(r.details.get("role", "")),
                          str(r.details.get("course", "")), str(r.details.get("course_name", "")),
                          course_status(r.obligation, policy, on), r.due_on, r.details.get("last_completed_on"))
             for r in rows]
    if overdue_only:
        lines = [line for line in lines if line.status == "overdue"]
    return sorted(lines, key=lambda t: (t.agb_code, t.role, t.person, t.course))
