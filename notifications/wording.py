"""Dutch wording the messages share: roles by the glossary's names, programmes, dates, percentages.

Invariant: pure functions of their input (no clock, no locale settings), so a message renders the
same on every machine; numbers use the Dutch decimal comma, moments are shown in Europe/Amsterdam.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from dateutil.relativedelta import relativedelta

from domain.clock import as_amsterdam
from domain.trajectory import STATE_NAMES_NL
from domain.vocabulary import KIND_NAMES_NL

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

MEETING_NAMES_NL = {"poh_meeting": "POH-overleg", "practice_manager_meeting": "praktijkmanagersoverleg"}
KIT_NAMES_NL = {"inhalation": "instructiekoffer inhalatie", "insulin": "instructiekoffer insuline"}
COURSE_NAMES_NL = {"caspir": "Caspir-cursus", "langerhans": "Langerhans-scholing"}

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
    "board": "bericht aan het bestuur",  # a run's count of the board messages its transitions queued
}

MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
             "oktober", "november", "december")
WEEKDAYS_NL = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


def _named(names: Mapping[Any, str], value: str | None) -> str:
    """``value``'s Dutch name, or ``value`` itself when it has none (an enum's member is found by its text)."""
    return names.get(value or "", value or "")


def role_nl(role: str | None) -> str:
    return _named(ROLE_NAMES_NL, role)


def programme_nl(programme: str | None) -> str:
    return _named(PROGRAMME_NAMES_NL, programme)


def conversation_nl(kind: str) -> str:
    return _named(KIND_NAMES_NL, kind)


def message_kind_nl(kind: str) -> str:
    return _named(MESSAGE_KIND_NAMES_NL, kind)


def state_nl(state: str) -> str:
    return _named(STATE_NAMES_NL, state)


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


def indicator_nl(item: dict[str, Any]) -> str:
    """An indicator by its Dutch name when the payload has one, with its code: ``HbA1c gemeten (dm2/hba1c)``."""
    code = f"{item.get('programme')}/{item.get('indicator')}"
    name = item.get("name")
    return f"{name} ({code})" if name else code


def recipient_line(role: str, name: str, practice: str | None, care_group: str) -> str:
    """Who a message is for, by role: ``C. Bakker, praktijkhoudende huisarts van Huisartsenpraktijk De Linde``."""
    if role == "practice":
        return name
    if role == "board":
        return f"{name}, lid van het bestuur van {care_group}"
    if role == "officer":
        return f"{name}, functionaris van {care_group}"
    if role == "care_group":
        return f"{name} ({care_group})"
    where = f" van {practice}" if practice else ""
    return f"{name}, {role_nl(role)}{where}"


def greeting(role: str, name: str) -> str:
    if role == "practice":
        return f"Beste collega's van {name},"
    if role == "care_group":
        return "Beste collega's,"
    return f"Beste {name},"
