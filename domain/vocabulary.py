"""The names the product counts in: care programmes, roles of people, kinds of conversation. Plain enums (no
pydantic, nothing else of ours), so that the command line can offer them as choices without loading the models.
"""

from __future__ import annotations

from enum import StrEnum


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


class ConversationKind(StrEnum):
    START = "start"
    ANNUAL = "annual"
    EXTRA = "extra"


KIND_NAMES_NL = {
    ConversationKind.START: "startgesprek",
    ConversationKind.ANNUAL: "kwaliteitsjaargesprek",
    ConversationKind.EXTRA: "extra gesprek",
}
