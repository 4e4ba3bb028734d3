"""Who is invited and who must have come (seed sections 1 and 4), without a database."""

from __future__ import annotations

from domain.conversations import Attendee
from domain.obligations import ObligationKind
from domain.registry import Role
from domain.rules.attendance import MEETING_ROLES, REQUIRED, attendance_gaps, invited_roles
from domain.vocabulary import ConversationKind

FULL = (Attendee(role=Role.GP_PRINCIPAL, name="Dr. P. de Vries"), Attendee(role=Role.POH_CHRONIC, name="M. Smit"),
        Attendee(role=Role.NURSE, name="J. Peters"), Attendee(role=Role.OFFICER, name="A. Jansen"),
        Attendee(role=Role.OFFICER, name="B. Visser"))


def test_an_annual_conversation_with_gp_both_practice_nurses_and_two_officers_is_complete() -> None:
    assert attendance_gaps(ConversationKind.ANNUAL, FULL) == ()


def test_an_extra_conversation_with_one_officer_and_no_gp_is_flagged_for_both() -> None:
    gaps = attendance_gaps(ConversationKind.EXTRA, [a for a in FULL if a.name not in ("Dr. P. de Vries", "B. Visser")])
    assert gaps == ("geen praktijkhoudende huisarts aanwezig",
                    "1 functionaris(sen) van de zorggroep aanwezig, vereist: 2")


def test_a_start_conversation_asks_no_attendance() -> None:
    assert attendance_gaps(ConversationKind.START, ()) == ()


def test_the_invitation_goes_to_exactly_the_practice_roles_the_attendance_check_asks_for() -> None:
    for kind in (ConversationKind.ANNUAL, ConversationKind.EXTRA):
        assert invited_roles(kind) == {Role.GP_PRINCIPAL, Role.POH_CHRONIC, Role.POH_ELDERLY,
                                       Role.NURSE_PRACTITIONER, Role.NURSE}
        for required in REQUIRED[kind]:  # without any of a required group, the conversation is flagged
            assert attendance_gaps(kind, [a for a in FULL if a.role not in required.roles])
    assert invited_roles(ConversationKind.START) == {Role.GP_PRINCIPAL, Role.PRACTICE_MANAGER, Role.POH_CHRONIC}


def test_the_poh_meeting_is_for_every_practice_nurse_and_the_other_for_practice_managers() -> None:
    assert MEETING_ROLES[ObligationKind.POH_MEETING] == {Role.POH_CHRONIC, Role.POH_ELDERLY, Role.NURSE_PRACTITIONER,
                                                        Role.NURSE}
    assert MEETING_ROLES[ObligationKind.PRACTICE_MANAGER_MEETING] == {Role.PRACTICE_MANAGER}
