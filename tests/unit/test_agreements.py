"""A conversation's report and its agreements (seed section 1: recorded in a report, evaluated at the next
conversation): reading the report, what it may not say, what an annual conversation leaves unevaluated."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.conversations import Agreement, ConversationReport, Evaluation
from domain.rules.agreements import OpenAgreement, agreement_id, report_problems, unevaluated
from domain.vocabulary import AgreementOwner, ConversationKind, Outcome, SupportKind
from readers.files import InputFileError, parse_report

REPORT = """\
summary: "Besproken: indicatoren dm2 en ouderenzorg, het project valpreventie."
support_needs: [coaching, record_review]
agreements:
  - {text: "POH plant voetonderzoek bij alle dm2-patiënten", owner: practice, due: 2025-06-30}
  - {text: "Coaching POH op consultvoering", owner: care_group, due: 2025-03-31, support: coaching}
evaluations:
  - {agreement: "0a1b2c3d4e5f", outcome: met, note: "alle voetonderzoeken gedaan"}
goals: [{programme: dm2, indicator: hba1c_measured, target: 90, by: 2025-12-31}]
"""
HELD = date(2025, 2, 12)


def report(*agreements: Agreement, evaluations: tuple[Evaluation, ...] = ()) -> ConversationReport:
    return ConversationReport(agreements=agreements, evaluations=evaluations)


def test_a_report_is_read_with_its_agreements_evaluations_support_needs_and_goals(tmp_path: Path) -> None:
    (tmp_path / "verslag.yaml").write_text(REPORT, encoding="utf-8")
    read = parse_report(tmp_path / "verslag.yaml")
    assert read.support_needs == (SupportKind.COACHING, SupportKind.RECORD_REVIEW)
    assert [(a.owner, a.due, a.support) for a in read.agreements] == [
        (AgreementOwner.PRACTICE, date(2025, 6, 30), None),
        (AgreementOwner.CARE_GROUP, date(2025, 3, 31), SupportKind.COACHING)]
    assert read.evaluations == (Evaluation(agreement="0a1b2c3d4e5f", outcome=Outcome.MET,
                                           note="alle voetonderzoeken gedaan"),)
    plan = read.improvement_plan()
    assert plan is not None and plan.goals == read.goals and len(plan.agreements) == 2


def test_a_report_with_an_empty_agreement_an_unknown_outcome_and_a_patient_number_is_refused_at_each_path(
        tmp_path: Path) -> None:
    (tmp_path / "verslag.yaml").write_text(
        'summary: "bsn 111222333"\nsupport_needs: [massage]\nagreements: [{text: "", owner: practice}]\n'
        "evaluations: [{agreement: abc, outcome: maybe}]\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        parse_report(tmp_path / "verslag.yaml")
    assert sorted(p.column or "" for p in caught.value.problems) == [
        "agreements[0].text", "evaluations[0].outcome", "summary", "support_needs[0]"]
    assert "111222333" not in str(caught.value)


def test_an_agreement_keeps_its_id_when_the_conversation_is_recorded_again() -> None:
    assert agreement_id("conv-1", 0) == agreement_id("conv-1", 0) != agreement_id("conv-1", 1)
    assert len(agreement_id("conv-1", 0)) == 12


def test_a_report_may_not_evaluate_an_unknown_closed_or_twice_named_agreement_nor_set_a_due_date_before_it() -> None:
    early = Agreement(text="voor het gesprek af", owner=AgreementOwner.PRACTICE, due=date(2025, 1, 31))
    evaluations = (Evaluation(agreement="onbekend", outcome=Outcome.MET),
                   Evaluation(agreement="al-klaar", outcome=Outcome.MET),
                   Evaluation(agreement="open", outcome=Outcome.NOT_MET),
                   Evaluation(agreement="open", outcome=Outcome.MET))
    problems = report_problems(report(early, evaluations=evaluations), HELD, {"al-klaar": "met", "open": None})
    assert [where for where, _ in problems] == ["agreements[0].due", "evaluations[0].agreement",
                                                "evaluations[1].agreement", "evaluations[3].agreement"]
    assert report_problems(report(evaluations=evaluations[2:3]), HELD, {"open": None}) == []


def test_an_annual_conversation_flags_each_open_agreement_it_does_not_evaluate_and_an_extra_one_does_not() -> None:
    made = [OpenAgreement("a1", "voetonderzoek", date(2024, 2, 1)), OpenAgreement("a2", "coaching", date(2024, 2, 1)),
            OpenAgreement("a3", "vandaag gemaakt", HELD)]
    evaluated = report(evaluations=(Evaluation(agreement="a1", outcome=Outcome.MET),))
    assert unevaluated(ConversationKind.ANNUAL, HELD, made, evaluated) == (
        "afspraak a2 van 2024-02-01 niet geëvalueerd: coaching",)
    assert unevaluated(ConversationKind.EXTRA, HELD, made, None) == ()
