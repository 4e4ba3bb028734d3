"""The practice's own quality system (seed 003) as rules: the checklist's conditions, which are not (fully) met, when
the next checklist, the accreditation's renewal and its audit fall due; and a checklist file read or refused whole.

De Linde started its cycle on 12 March 2024: its annual conversation is due Wednesday 12 March 2025 and set for
Wednesday 26 February."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from domain.calendar import WorkingCalendar
from domain.obligations import ObligationKind, fulfilled_on, notice_stages
from domain.policy import Policy
from domain.quality_system import (
    CONDITION_NAMES_NL,
    Accreditation,
    Checklist,
    Condition,
    FilledChecklist,
    PeerReviewGroup,
    conditions_for,
    summary_nl,
)
from readers.files import InputFileError, parse_checklist
from tests.unit.test_obligations import AGB, facts, only, plan

POLICY = Policy()
ALL_YES = {c.value: {"answer": "yes"} for c in conditions_for(False)}
GOOD_FILE = """\
team_meetings: yes
policy_plan: {answer: partly, note: "beleidsplan 2025 klaar, jaarverslag 2024 nog niet"}
quality_initiator: ja
regular_evaluation: yes
competence_review: no
planned_improvement: deels
complaints_procedure: yes
nhg_accreditation: {answer: yes, note: geaccrediteerd tot 2026}
gp_group: yes
peer_review_group: {answer: partly, note: toetsgroep zonder EKC}
"""


def test_every_condition_of_the_seed_is_an_item_with_a_dutch_name_and_dispensing_only_for_dispensing_practices(
) -> None:
    assert set(CONDITION_NAMES_NL) == set(Condition)
    assert Condition.DISPENSING_QUALITY_SYSTEM not in conditions_for(False)
    assert conditions_for(True) == tuple(Condition)
    with pytest.raises(ValueError, match="zonder antwoord: policy_plan"):
        Checklist.model_validate({"answers": {k: v for k, v in ALL_YES.items() if k != "policy_plan"}})
    with pytest.raises(ValueError, match="zonder antwoord: dispensing_quality_system"):
        Checklist.model_validate({"dispensing_practice": True, "answers": ALL_YES})
    with pytest.raises(ValueError, match="apotheekhoudende"):
        Checklist.model_validate({"answers": ALL_YES | {"dispensing_quality_system": {"answer": "yes"}}})


def test_the_conditions_not_fully_met_are_those_answered_partly_or_no_in_the_seeds_order() -> None:
    checklist = Checklist.model_validate({"answers": ALL_YES | {
        "complaints_procedure": {"answer": "no"}, "team_meetings": {"answer": "partly", "note": "eens per kwartaal"}}})
    assert [(c.value, a.answer.value) for c, a in checklist.open_conditions()] == [
        ("team_meetings", "partly"), ("complaints_procedure", "no")]


def test_a_practice_with_a_checklist_owes_the_next_one_35_days_before_its_annual_conversation() -> None:
    assert not [o for o in plan(facts(), date(2024, 3, 18)) if o.kind is ObligationKind.PRACTICE_CHECKLIST]
    followed = replace(facts(), last_checklist_on=date(2024, 2, 1))  # filled in before the cycle started
    duty = only(plan(followed, date(2024, 3, 18)), ObligationKind.PRACTICE_CHECKLIST)
    assert (duty.anchor_on, duty.due_on) == (date(2024, 3, 12), date(2025, 1, 22))  # 26 February less 35 days
    assert [(s.name, s.on) for s in notice_stages(duty, POLICY)] == [("notice", date(2025, 1, 1))]
    assert duty.due_on < date(2025, 1, 29)  # in hand before the invitation of 29 January goes out
    filled = replace(followed, last_checklist_on=date(2025, 1, 20))
    assert fulfilled_on(duty, filled, date(2025, 1, 21)) == date(2025, 1, 20)
    assert not [o for o in plan(filled, date(2025, 1, 21)) if o.kind is ObligationKind.PRACTICE_CHECKLIST]


def test_an_accreditation_owes_its_renewal_before_it_lapses_and_its_audit_three_years_after_the_last() -> None:
    accredited = replace(facts(), accreditation=Accreditation(valid_until=date(2025, 6, 29),
                                                              audited_on=date(2022, 9, 1)))
    obs = plan(accredited, date(2024, 6, 10))
    renewal = only(obs, ObligationKind.NHG_ACCREDITATION, "valid_until")
    audit = only(obs, ObligationKind.NHG_ACCREDITATION, "audit")
    assert renewal.due_on == date(2025, 6, 27)  # Sunday 29 June: the Friday before
    assert audit.due_on == date(2025, 9, 1)
    assert [s.on for s in notice_stages(renewal, POLICY)] == [date(2025, 4, 4)]  # twelve weeks ahead
    renewed = replace(accredited, accreditation=Accreditation(valid_until=date(2028, 6, 30),
                                                              audited_on=date(2025, 5, 20)))
    assert fulfilled_on(renewal, renewed, date(2025, 5, 20)) == date(2025, 5, 20)
    assert fulfilled_on(audit, renewed, date(2025, 5, 20)) == date(2025, 5, 20)
    assert fulfilled_on(audit, accredited, date(2025, 5, 20)) is None
    without_audit = replace(facts(), accreditation=Accreditation(valid_until=date(2026, 1, 1)))
    assert [o.subject for o in plan(without_audit, date(2024, 6, 10))
            if o.kind is ObligationKind.NHG_ACCREDITATION] == ["valid_until"]
    assert WorkingCalendar().is_working_day(renewal.due_on)


def test_the_quality_system_in_one_line() -> None:
    checklist = Checklist.model_validate({"answers": ALL_YES | {"policy_plan": {"answer": "partly"}}})
    assert summary_nl(FilledChecklist(AGB, date(2025, 1, 20), checklist), Accreditation(valid_until=date(2026, 3, 31)),
                      PeerReviewGroup(group="Toetsgroep Oost")) == (
        "checklist 2025-01-20: 1 open (policy_plan); NHG tot 2026-03-31; toetsgroep Toetsgroep Oost (zonder EKC)")
    assert summary_nl(None, None, None) == "geen checklist; geen NHG-accreditatie"


def test_a_checklist_file_is_read_with_yaml_yes_and_no_and_dutch_answers(tmp_path: Path) -> None:
    path = tmp_path / "checklist.yaml"
    path.write_text(GOOD_FILE, encoding="utf-8")
    checklist = parse_checklist(path)
    assert [(c.value, a.answer.value) for c, a in checklist.open_conditions()] == [
        ("policy_plan", "partly"), ("competence_review", "no"), ("planned_improvement", "partly"),
        ("peer_review_group", "partly")]
    assert checklist.answers[Condition.NHG_ACCREDITATION].note == "geaccrediteerd tot 2026"


@pytest.mark.parametrize(("change", "field", "says"), [
    ("team_meetings: misschien", "team_meetings.answer", "antwoord 'misschien' is onbekend"),
    ("klachten: yes", "klachten", "onbekende voorwaarde 'klachten'"),
    ('complaints_procedure: {answer: yes, note: "patiënt 111222333 klaagde"}', "complaints_procedure.note", "BSN"),
    ("dispensing_quality_system: yes", "dispensing_quality_system", "apotheekhoudende praktijk"),
    ("complaints_procedure: {answer: yes, door: wie}", "complaints_procedure.door", "onbekend onderdeel"),
])
def test_a_checklist_file_with_an_unknown_condition_answer_or_a_bsn_is_refused_naming_the_field(
        tmp_path: Path, change: str, field: str, says: str) -> None:
    lines = [line for line in GOOD_FILE.splitlines() if not line.startswith(change.split(":")[0] + ":")]
    path = tmp_path / "checklist.yaml"
    path.write_text("\n".join([*lines, change]) + "\n", encoding="utf-8")
    with pytest.raises(InputFileError) as refused:
        parse_checklist(path)
    message = str(refused.value)
    assert f"{path}, kolom {field}: " in message and says in message
    assert "111222333" not in message


def test_a_checklist_without_a_condition_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "checklist.yaml"
    path.write_text(GOOD_FILE.replace("gp_group: yes\n", ""), encoding="utf-8")
    with pytest.raises(InputFileError, match="kolom gp_group: voorwaarde ontbreekt"):
        parse_checklist(path)
