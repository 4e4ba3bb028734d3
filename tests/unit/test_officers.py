"""Which officers hold a practice's conversations when no officer chose them: the least loaded, ties by name."""

from __future__ import annotations

from domain.rules.attendance import spread_officers


def test_a_new_practice_gets_the_two_officers_who_hold_the_fewest_practices() -> None:
    held = {"p1": ["A", "B"], "p2": ["A", "C"], "p3": ["B", "A"]}  # A holds 3, B 2, C 1, D none
    assert spread_officers(["A", "B", "C", "D"], held) == ("D", "C")


def test_officers_who_left_the_registry_do_not_count_and_ties_go_by_name() -> None:
    assert spread_officers(["B", "C"], {"p1": ["X", "Y"]}) == ("B", "C")
    assert spread_officers(["B"], {}) == ("B",)


def test_the_first_assigned_officer_organises_the_conversation_and_is_the_kit_contact() -> None:
    """An officer assigned P. de Boer first and A. Jansen second to De Linde: P. de Boer organises the calendar
    entry and is the kit contact, whatever order a hash over all officers would give."""
    from domain.policy import Policy
    from notifications import compose
    from tests.unit.test_payloads import ANNUAL, CARE_GROUP, KIT, OFFICERS, practices

    linde, _ = practices()
    jansen, de_boer = OFFICERS[0], OFFICERS[1]
    for assigned in ((de_boer, jansen), (jansen, de_boer)):
        invitations = compose.conversation_messages("invitation", ANNUAL, linde, assigned, CARE_GROUP, Policy())
        assert {m.payload["organizer"]["name"] for m in invitations} == {assigned[0].name}
        officers = [a["name"] for a in invitations[0].payload["attendees"] if a["role"] == "officer"]
        assert officers == [assigned[0].name, assigned[1].name]
        (kit,) = compose.kit_messages(KIT, linde, assigned, CARE_GROUP)
        assert kit.payload["contact"]["name"] == assigned[0].name
