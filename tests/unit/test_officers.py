"""Which officers hold a practice's conversations when no officer chose them: the least loaded, ties by name."""

from __future__ import annotations

from domain.rules.attendance import spread_officers


def test_a_new_practice_gets_the_two_officers_who_hold_the_fewest_practices() -> None:
    held = {"p1": ["A", "B"], "p2": ["A", "C"], "p3": ["B", "A"]}  # A holds 3, B 2, C 1, D none
    assert spread_officers(["A", "B", "C", "D"], held) == ("D", "C")


def test_officers_who_left_the_registry_do_not_count_and_ties_go_by_name() -> None:
    assert spread_officers(["B", "C"], {"p1": ["X", "Y"]}) == ("B", "C")
    assert spread_officers(["B"], {}) == ("B",)
