"""The names the product counts in (care programmes, roles of people, kinds of conversation) and every Dutch word a
person reads for them: names of roles, programmes, states, conversations, meetings, kits, courses and message
kinds, the subject of each message kind, and the formats of dates, moments, numbers and durations.

The one home of the product's Dutch vocabulary: the domain (obligation titles), the services (run reports) and
the notifications (subjects, templates) all read it here. Where two places read a thing in two wordings, both
wordings are here, side by side and named (``KIT_NAMES_NL`` and ``KIT_SHORT_NAMES_NL``).

Invariants:
- Plain enums, dicts and pure functions: nothing of ours but ``domain.clock`` (no pydantic, no models), so that
  the command line can offer the names as choices without loading the models.
- The format functions are pure functions of their input (no clock, no locale settings), so a message renders
  the same on every machine: numbers use the Dutch decimal comma, moments are shown in Europe/Amsterdam.
- Names are keyed by the code's string values (a ``StrEnum`` member looks up as its value).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from dateutil.relativedelta import relativedelta

from domain.clock import as_amsterdam


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


class SupportKind(StrEnum):
    """The support the care group gives a practice (seed section 2; glossary)."""

    COACHING = "coaching"  # coaching on the job, mostly of the POH
    LUNG_FUNCTION = "lung_function"  # the lung-function analyst: spirometry, inhaler use
    RECORD_REVIEW = "record_review"  # dossieronderzoek: which patients belong in a programme
    RECALL_SYSTEM = "recall_system"  # setting up the recall system (oproepsysteem)
    CONSULTATION = "consultation"  # consulting a kaderhuisarts or diabetes nurse


SUPPORT_NAMES_NL = {
    SupportKind.COACHING: "coaching on the job",
    SupportKind.LUNG_FUNCTION: "ondersteuning door de longfunctieanalist",
    SupportKind.RECORD_REVIEW: "dossieronderzoek",
    SupportKind.RECALL_SYSTEM: "opzetten van het oproepsysteem",
    SupportKind.CONSULTATION: "consultatie kaderhuisarts of diabetesverpleegkundige",
}


class AgreementOwner(StrEnum):
    """Who carries out an agreement made in a conversation."""

    PRACTICE = "practice"  # the practice itself
    CARE_GROUP = "care_group"  # the care group: its officers, its support


class Outcome(StrEnum):
    """How an agreement turned out when a later conversation evaluated it."""

    MET = "met"  # done as agreed
    PARTLY_MET = "partly_met"  # done in part; a new agreement may carry the rest
    NOT_MET = "not_met"  # not done
    DROPPED = "dropped"  # no longer wanted: withdrawn by both


class GoalStatus(StrEnum):
    """Where a goal of an improvement plan stands: ``open`` until its ``by`` date, then judged against the latest
    figure (``domain.rules.goals``)."""

    OPEN = "open"  # its day has not come
    MET = "met"  # the latest figure reaches the target
    NOT_MET = "not_met"  # it does not
    NOT_JUDGED = "not_judged"  # the latest figure counts too few patients to judge (policy min_denominator)
    NO_FIGURE = "no_figure"  # no figure of the indicator known by then


GOAL_STATUS_NAMES_NL = {GoalStatus.OPEN: "loopt", GoalStatus.MET: "gehaald", GoalStatus.NOT_MET: "niet gehaald",
                        GoalStatus.NOT_JUDGED: "niet te beoordelen (te weinig patiënten)",
                        GoalStatus.NO_FIGURE: "geen cijfer bekend"}

OWNER_NAMES_NL = {AgreementOwner.PRACTICE: "praktijk", AgreementOwner.CARE_GROUP: "zorggroep"}
OUTCOME_NAMES_NL = {Outcome.MET: "gehaald", Outcome.PARTLY_MET: "deels gehaald", Outcome.NOT_MET: "niet gehaald",
                    Outcome.DROPPED: "vervallen"}


class ConversationKind(StrEnum):
    START = "start"
    ANNUAL = "annual"
    EXTRA = "extra"


KIND_NAMES_NL = {
    ConversationKind.START: "startgesprek",
    ConversationKind.ANNUAL: "kwaliteitsjaargesprek",
    ConversationKind.EXTRA: "extra gesprek",
}


# --- names ---------------------------------------------------------------------------------------------------

ROLE_NAMES_NL = {  # the glossary's Dutch terms, as they read inside a sentence
    "gp_principal": "praktijkhoudende huisarts",
    "gp": "huisarts",
    "poh_chronic": "praktijkondersteuner chronische zorg",
    "poh_elderly": "praktijkondersteuner ouderenzorg",
    "nurse_practitioner": "verpleegkundig specialist",
    "nurse": "verpleegkundige",
    "practice_manager": "praktijkmanager",
    "doctors_assistant": "doktersassistent",
    "district_nurse": "wijkverpleegkundige",
    "gp_specialist": "kaderhuisarts",
    "diabetes_nurse": "diabetesverpleegkundige",
    "lung_function_analyst": "longfunctieanalist",
    "coach": "coach/consulent",
    "ekc": "erkend kwaliteitsconsulent (EKC)",
    "officer": "functionaris",
    "board": "lid van het bestuur",
    "practice": "huisartsenpraktijk",
    "care_group": "zorggroep",
}

PROGRAMME_NAMES_NL = {
    "dm2": "diabetes mellitus type 2",
    "copd": "COPD",
    "asthma": "astma",
    "cvrm": "cardiovasculair risicomanagement",
    "elderly": "ouderenzorg",
}

STATE_NAMES_NL = {  # the states of a practice's trajectory (``domain.trajectory.TrajectoryState``)
    "start": "start",
    "annual_cycle": "jaarcyclus",
    "extra_conversation": "extra gesprek",
    "improvement_plan": "verbeterplan",
    "underperformer_policy": "beleid minder presterende praktijken",
    "left": "vertrokken",
}

TRIGGER_NAMES_NL = {  # the transitions of a trajectory (``domain.trajectory.Trigger``)
    "hold_start_conversation": "startgesprek",
    "hold_annual_conversation": "kwaliteitsjaargesprek",
    "flag_deviation": "markering sterke afwijking (extra gesprek)",
    "agree_improvement_plan": "verbeterplan afgesproken",
    "recover": "hersteld",
    "escalate": "onder het beleid minder presterende praktijken (bestuur ingelicht)",
    "report_progress": "voortgangsbericht aan het bestuur",
    "leave": "vertrek uit de cyclus",
}

MEETING_NAMES_NL = {"poh_meeting": "POH-overleg", "practice_manager_meeting": "praktijkmanagersoverleg",
                    "mirror_meeting": "spiegelbijeenkomst"}
MEETING_TOPICS_NL = (  # seed section 4: what the meetings discuss
    "Landelijke ontwikkelingen",
    "Ontwikkelingen binnen de zorggroep",
    "Ontwikkelingen in de huisartsenpraktijken",
)

# An instruction kit (``domain.obligations.KitKind``) in two wordings: the glossary's, as a mail's body lists
# the kits; and the compound, as a subject and an officer's table name one kit ("De inhalatie-instructiekoffer
# van ... wordt geactualiseerd", "actualisatie insuline-instructiekoffer").
KIT_NAMES_NL = {"inhalation": "instructiekoffer inhalatie", "insulin": "instructiekoffer insuline"}
KIT_SHORT_NAMES_NL = {"inhalation": "inhalatie-instructiekoffer", "insulin": "insuline-instructiekoffer"}

COURSE_NAMES_NL = {"caspir": "Caspir-cursus", "langerhans": "Langerhans-scholing"}  # when a course has no name

# the board's digest by the months it covers
PERIOD_NAMES_NL = {1: "Maandoverzicht", 2: "Tweemaandelijks overzicht", 3: "Kwartaaloverzicht",
                   4: "Viermaandelijks overzicht", 6: "Halfjaaroverzicht", 12: "Jaaroverzicht"}

# every message kind (one template each) as an officer reads it in a run's report and in ``outbox``
MESSAGE_KIND_NAMES_NL = {
    "conversation_invitation": "uitnodiging voor een gesprek",
    "conversation_reminder": "herinnering aan een gesprek",
    "conversation_overdue": "gesprek over de termijn",
    "meeting_invitation": "uitnodiging voor een overleg",
    "kit_refresh_due": "instructiekoffer aan actualisatie toe",
    "training_due": "verplichte scholing aan de beurt",
    "board_escalation": "melding aan het bestuur (beleid minder presterende praktijken)",
    "board_progress": "voortgang van een verbetertraject aan het bestuur",
    "board_recovery": "herstel gemeld aan het bestuur",
    "board_left": "vertrek gemeld aan het bestuur",
    "board_digest": "overzicht voor het bestuur",
    "missing_address": "melding geen bruikbaar e-mailadres",
    "training_overdue": "verplichte scholing verlopen",
    "goal_judged": "doel beoordeeld",
    "agreement_overdue": "afspraak over tijd",
    "mirror_meeting_invitation": "uitnodiging voor een spiegelbijeenkomst",
    "mirror_accreditation_request": "accreditatieaanvraag spiegelbijeenkomst",
    "checklist_due": "checklist kwaliteitssysteem aan de beurt",
    "accreditation_due": "NHG-accreditatie aan verlenging of audit toe",
    "cards_published": "nieuwe instructiekaarten",
    "cards_behind": "kwaliteitsmappen niet bijgewerkt",
    "network_plan_due": "evaluatie netwerkplan aan de beurt",
    "board": "bericht aan het bestuur",  # a run's count of the board messages its transitions queued
}

# the subject of every message kind; ``notifications.compose`` fills the fields in
SUBJECTS_NL = {
    "board_escalation": "{practice} ({agb}) valt onder het beleid minder presterende praktijken",
    "board_progress": "Voortgang verbetertraject {practice} ({agb})",
    "board_recovery": "{practice} ({agb}) voldoet weer aan de streefwaarden",
    "board_left": "{practice} ({agb}) heeft de kwaliteitscyclus verlaten tijdens het verbetertraject",
    "board_digest": "{period} verbetertrajecten (beleid minder presterende praktijken), {start} tot en met {end}",
    "conversation_invitation": "Uitnodiging {conversation} {practice}, {day}",
    "conversation_reminder": "Herinnering: {conversation} op {day}",
    "conversation_overdue": "{conversation} {practice} is over tijd",
    "meeting_invitation": "Uitnodiging {meeting} {day}",
    "kit_refresh_due": "De {kit} van {practice} wordt geactualiseerd",
    "training_due": "Verplichte scholing: {course} voor {day}",
    "training_overdue": "Verplichte scholing verlopen: {course} voor {person} (uiterlijk {day})",
    "goal_judged": "Doel {indicator} van {practice}: {status}",
    "agreement_overdue": "Afspraak over tijd: {practice}, {day}",
    "mirror_meeting_invitation": "Uitnodiging spiegelbijeenkomst huisartsengroep {group}, {day}",
    "mirror_accreditation_request": "Accreditatieaanvraag spiegelbijeenkomst huisartsengroep {group} van {day}",
    "cards_published": "Nieuwe instructiekaarten (versie {version}) voor de kwaliteitsmap van {practice}",
    "cards_behind": "Kwaliteitsmap niet bijgewerkt: {count} nog niet op instructiekaarten versie {version}",
    "missing_address": "Bericht niet verstuurd: geen bruikbaar e-mailadres voor {recipient}",
    "checklist_due": "Checklist kwaliteitssysteem {practice}: graag invullen voor {day}",
    "accreditation_due": "{what} van {practice}: {when} {day}",
    "network_plan_due": "Jaarlijkse evaluatie netwerkplan huisartsengroep {group}: uiterlijk {day}",
}


def role_nl(role: str | None) -> str:
    return ROLE_NAMES_NL.get(role or "", role or "")


def programme_nl(programme: str | None) -> str:
    return PROGRAMME_NAMES_NL.get(programme or "", programme or "")


def conversation_nl(kind: str) -> str:
    try:
        return KIND_NAMES_NL[ConversationKind(kind)]
    except ValueError:
        return kind


def goal_status_nl(status: str) -> str:
    try:
        return GOAL_STATUS_NAMES_NL[GoalStatus(status)]
    except ValueError:
        return status


def owner_nl(owner: str) -> str:
    try:
        return OWNER_NAMES_NL[AgreementOwner(owner)]
    except ValueError:
        return owner


def outcome_nl(outcome: str) -> str:
    try:
        return OUTCOME_NAMES_NL[Outcome(outcome)]
    except ValueError:
        return outcome


def visit_nl(visit: Any) -> str:
    """A conversation held or support given, as a board mail lists it: ``kwaliteitsjaargesprek``,
    ``ondersteuning door de longfunctieanalist (2 dagdelen)``."""
    if visit["what"] == "conversation":
        return conversation_nl(visit["kind"])
    try:
        name = SUPPORT_NAMES_NL[SupportKind(visit["kind"])]
    except ValueError:
        name = str(visit["kind"])
    half_days = visit.get("half_days")
    return name + (f" ({f'{half_days:g}'.replace('.', ',')} dagdelen)" if half_days is not None else "")


def message_kind_nl(kind: str) -> str:
    return MESSAGE_KIND_NAMES_NL.get(kind, kind)


def state_nl(state: str) -> str:
    return STATE_NAMES_NL.get(state, state)


def answer_nl(answer: str) -> str:
    """A checklist answer (seed 003) in Dutch: ``yes``, ``partly``, ``no`` as ja, deels, nee."""
    return {"yes": "ja", "partly": "deels", "no": "nee"}.get(answer, answer)


def capitalised(text: str) -> str:
    """``kwaliteitsjaargesprek`` -> ``Kwaliteitsjaargesprek`` (the rest untouched, unlike ``str.capitalize``)."""
    return f"{text[:1].upper()}{text[1:]}"


# --- formats -------------------------------------------------------------------------------------------------

MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
             "oktober", "november", "december")
WEEKDAYS_NL = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return as_amsterdam(value).date()
    if isinstance(value, date):
        return value
    text = str(value)
    return as_amsterdam(datetime.fromisoformat(text)).date() if "T" in text else date.fromisoformat(text)


def _as_moment(value: Any) -> datetime:
    return as_amsterdam(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def date_nl(value: Any, weekday: bool = False) -> str:
    """``2025-11-04`` -> ``4 november 2025`` (``dinsdag 4 november 2025`` with ``weekday``)."""
    if value is None or value == "":
        return "onbekend"
    day = _as_date(value)
    text = f"{day.day} {MONTHS_NL[day.month - 1]} {day.year}"
    return f"{WEEKDAYS_NL[day.weekday()]} {text}" if weekday else text


def time_nl(value: Any) -> str:
    return _as_moment(value).strftime("%H:%M")


def moment_nl(value: Any) -> str:
    """``dinsdag 4 november 2025 om 14:00`` (Europe/Amsterdam)."""
    moment = _as_moment(value)
    return f"{date_nl(moment, weekday=True)} om {moment.strftime('%H:%M')}"


def number_nl(value: Any, decimals: int = 1, signed: bool = False) -> str:
    if value is None:
        return "-"
    text = f"{float(value):+.{decimals}f}" if signed else f"{float(value):.{decimals}f}"
    return text.replace(".", ",")


def percent_nl(value: Any) -> str:
    return "-" if value is None else f"{number_nl(value)}%"


def small_numbers_nl(min_denominator: Any) -> str:
    """Why a figure over few patients is shown but not judged (``Policy.min_denominator``)."""
    return f"te weinig patiënten om te beoordelen: minder dan {min_denominator}"


def figure_nl(score: Any, numerator: Any, denominator: Any, min_denominator: Any = None) -> str:
    """A score with its counts: ``83,3% (5/6)``; over fewer patients than ``min_denominator``, marked as such:
    ``83,3% (5/6, te weinig patiënten om te beoordelen: minder dan 10)``."""
    small = (min_denominator is not None and denominator is not None
             and int(denominator) < int(min_denominator))
    return (f"{percent_nl(score)} ({numerator}/{denominator}"
            + (f", {small_numbers_nl(min_denominator)})" if small else ")"))


def duration_nl(start: Any, end: Any) -> str:
    """Whole months (and years) from ``start`` to ``end``: ``1 jaar en 1 maand``, ``13 dagen``."""
    first, last = _as_date(start), _as_date(end)
    span = relativedelta(last, first)
    months = span.years * 12 + span.months
    if months <= 0:
        days = (last - first).days
        return f"{days} {'dag' if days == 1 else 'dagen'}"
    years, months = divmod(months, 12)
    parts = []
    if years:
        parts.append(f"{years} jaar")
    if months:
        parts.append(f"{months} {'maand' if months == 1 else 'maanden'}")
    return " en ".join(parts)
