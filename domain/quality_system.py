"""The practice's own quality system (seed 003, "In de huisartsenpraktijk" and "In de huisartsengroep"): a yearly
checklist of the seed's conditions, the practice's NHG accreditation and its peer review group.

Every condition the seed names is a checklist item (``Condition``) with its Dutch name; a practice answers each
``yes``, ``partly`` or ``no``, with a note. The extra quality system of a dispensing practice (apotheekhoudende
praktijk) is asked of dispensing practices only.

Invariants:
- A checklist answers every condition that applies to the practice, each once; nothing else (a condition the seed
  does not name, the dispensing condition for a practice that does not dispense, is refused).
- A checklist is filled on a day (a past event): its notes are free text, checked like every other (no BSN).
- The rules here are pure: which conditions are not (fully) met, when the next checklist falls due, when an
  accreditation lapses and its audit falls due; the day is always an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, model_validator

from domain.calendar import WorkingCalendar
from domain.errors import InputError
from domain.inputs import Name, SaneDate, Text


class Condition(StrEnum):
    """The conditions of seed 003, in the seed's order."""

    TEAM_MEETINGS = "team_meetings"
    POLICY_PLAN = "policy_plan"
    QUALITY_INITIATOR = "quality_initiator"
    REGULAR_EVALUATION = "regular_evaluation"
    COMPETENCE_REVIEW = "competence_review"
    PLANNED_IMPROVEMENT = "planned_improvement"
    COMPLAINTS_PROCEDURE = "complaints_procedure"
    DISPENSING_QUALITY_SYSTEM = "dispensing_quality_system"  # dispensing practices only
    NHG_ACCREDITATION = "nhg_accreditation"
    GP_GROUP = "gp_group"
    PEER_REVIEW_GROUP = "peer_review_group"


CONDITION_NAMES_NL: dict[Condition, str] = {
    Condition.TEAM_MEETINGS: "regelmatig overleg van huisartsen en medewerkers over wat beter kan",
    Condition.POLICY_PLAN: "beleidsplan met jaarverslag",
    Condition.QUALITY_INITIATOR: "actief kwaliteitsbeleid met één medewerker als initiatiefnemer",
    Condition.REGULAR_EVALUATION: "regelmatige evaluatie en toetsing van de zorg, met actie daarop",
    Condition.COMPETENCE_REVIEW: "medewerkers toetsen hun kennis en kunde (agenda voor deskundigheidsbevordering)",
    Condition.PLANNED_IMPROVEMENT: "planmatig werken aan verbetering van zorg en praktijkvoering",
    Condition.COMPLAINTS_PROCEDURE: "klachtenprocedure",
    Condition.DISPENSING_QUALITY_SYSTEM: "aanvullend kwaliteitssysteem voor het apotheekdeel (apotheekhoudend)",
    Condition.NHG_ACCREDITATION: "NHG-praktijkaccreditering",
    Condition.GP_GROUP: "deelname aan een hagro met afspraken over samenwerking",
    Condition.PEER_REVIEW_GROUP: "toetsgroep (of intervisie, Balint) geleid door een getrainde EKC-begeleider",
}


class Answer(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


def conditions_for(dispensing_practice: bool) -> tuple[Condition, ...]:
    """The conditions a practice answers: the dispensing one only when it dispenses."""
    return tuple(c for c in Condition if dispensing_practice or c is not Condition.DISPENSING_QUALITY_SYSTEM)


class ConditionAnswer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    answer: Answer
    note: Text | None = None


class Checklist(BaseModel):
    """A practice's answers to the seed's conditions, as it filled them in (the day is recorded with it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dispensing_practice: bool = False
    answers: dict[Condition, ConditionAnswer]

    @model_validator(mode="after")
    def _every_condition_once(self) -> Checklist:
        wanted = set(conditions_for(self.dispensing_practice))
        missing = [c.value for c in Condition if c in wanted and c not in self.answers]
        if missing:
            raise ValueError(f"voorwaarde(n) zonder antwoord: {', '.join(missing)}")
        if Condition.DISPENSING_QUALITY_SYSTEM in self.answers and not self.dispensing_practice:
            raise ValueError("dispensing_quality_system geldt alleen voor een apotheekhoudende praktijk "
                             "(dispensing_practice: yes)")
        return self

    def open_conditions(self) -> list[tuple[Condition, ConditionAnswer]]:
        """The conditions not (fully) met, in the seed's order."""
        return [(c, self.answers[c]) for c in Condition if c in self.answers and self.answers[c].answer != Answer.YES]


@dataclass(frozen=True)
class FilledChecklist:
    """A checklist as stored: the practice, the day it was filled in, the answers."""

    agb_code: str
    filled_on: date
    checklist: Checklist

    @property
    def open_conditions(self) -> list[tuple[Condition, ConditionAnswer]]:
        return self.checklist.open_conditions()


class Accreditation(BaseModel):
    """The practice's NHG accreditation: valid until a day, last audited on a day (three-yearly)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    valid_until: SaneDate
    audited_on: SaneDate | None = None


class PeerReviewGroup(BaseModel):
    """The practice's peer review group (toetsgroep, seed 003 "In de huisartsengroep") and its EKC, if one leads
    it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group: Name
    ekc: Name | None = None

    @property
    def led_by_ekc(self) -> bool:
        return self.ekc is not None


class AuditDateError(InputError):
    """An audit dated after the accreditation it belongs to runs out: nothing is stored."""


def check_accreditation(accreditation: Accreditation) -> None:
    if accreditation.audited_on is not None and accreditation.audited_on > accreditation.valid_until:
        raise AuditDateError(f"--audited-on {accreditation.audited_on.isoformat()} ligt na --valid-until "
                             f"{accreditation.valid_until.isoformat()}; er is niets vastgelegd")


def checklist_due(conversation_on: date, days_before: int, calendar: WorkingCalendar) -> date:
    """The day a checklist is due: ``days_before`` before the annual conversation, on a working day."""
    return calendar.on_or_before(conversation_on - timedelta(days=days_before))


def audit_due(audited_on: date, every_months: int, calendar: WorkingCalendar) -> date:
    """The next NHG audit: ``every_months`` after the last (three-yearly), on a working day."""
    return calendar.on_or_before(audited_on + relativedelta(months=every_months))


def summary_nl(checklist: FilledChecklist | None, accreditation: Accreditation | None,
               peer_review: PeerReviewGroup | None, on: date | None = None) -> str:
    """The practice's quality system in one short Dutch line (``status``); on a day ``on``, an accreditation that
    ran out before it is said to have lapsed."""
    parts = []
    if checklist is None:
        parts.append("geen checklist")
    else:
        open_ = [c.value for c, _ in checklist.open_conditions]
        parts.append(f"checklist {checklist.filled_on.isoformat()}: "
                     + (f"{len(open_)} open ({', '.join(open_)})" if open_ else "alles voldaan"))
    if accreditation is None:
        parts.append("geen NHG-accreditatie")
    elif on is not None and accreditation.valid_until < on:
        parts.append(f"NHG-accreditatie verlopen op {accreditation.valid_until.isoformat()}")
    else:
        parts.append(f"NHG tot {accreditation.valid_until.isoformat()}")
    if peer_review is not None:
        parts.append(f"toetsgroep {peer_review.group}" + (f" (EKC {peer_review.ekc})" if peer_review.ekc
                                                          else " (zonder EKC)"))
    return "; ".join(parts)
