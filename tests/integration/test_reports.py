"""A conversation's report and its agreements through the services, over SQLite and PostgreSQL (seed section 1:
the agreements of the annual conversation are recorded in a report and evaluated at the next one)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.conversations import Agreement, ConversationReport, Evaluation
from domain.vocabulary import AgreementOwner, Outcome, SupportKind
from flows.services import conversations, queries
from flows.services.context import Services
from flows.testing.scenario import Scenario
from tests.integration.de_linde import DESCRIPTION, LINDE

FOOT = Agreement(text="POH plant voetonderzoek bij alle dm2-patiënten", owner=AgreementOwner.PRACTICE,
                 due=date(2024, 6, 30))
COACHING = Agreement(text="Coaching POH op consultvoering", owner=AgreementOwner.CARE_GROUP, due=date(2024, 3, 31),
                     support=SupportKind.COACHING)
FIRST = ConversationReport(summary="Besproken: indicatoren dm2, het project valpreventie.",
                           support_needs=(SupportKind.COACHING,), agreements=(FOOT, COACHING))


def cycle_with_a_first_report(services: Services) -> tuple[Scenario, tuple[str, ...]]:
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sc.conversation(LINDE, "start", "2024-01-15")
    made = sc.conversation(LINDE, "annual", "2024-02-12", report=FIRST).agreements
    return sc, made


def test_the_next_annual_conversation_evaluates_one_agreement_and_the_other_stays_open_and_is_flagged(
        services: Services) -> None:
    sc, (foot, coaching) = cycle_with_a_first_report(services)
    assert [(a.id, a.status) for a in queries.agreements(services, LINDE, open_only=True)] == [
        (foot, "open"), (coaching, "open")]
    second = ConversationReport(evaluations=(Evaluation(agreement=foot, outcome=Outcome.MET,
                                                        note="alle voetonderzoeken gedaan"),))
    recorded = sc.conversation(LINDE, "annual", "2025-02-10", report=second)
    assert recorded.agreement_gaps == (f"afspraak {coaching} van 2024-02-12 niet geëvalueerd: "
                                       "Coaching POH op consultvoering",)
    by_id = {a.id: a for a in queries.agreements(services, LINDE)}
    assert (by_id[foot].status, by_id[foot].evaluated_on, by_id[foot].note) == (
        "met", date(2025, 2, 10), "alle voetonderzoeken gedaan")
    assert by_id[coaching].status == "open"  # left unevaluated: it stays open for the next conversation
    assert [a.id for a in queries.agreements(services, LINDE, open_only=True)] == [coaching]


def test_recording_the_same_report_again_changes_nothing_and_keeps_the_agreements_ids(services: Services) -> None:
    sc, made = cycle_with_a_first_report(services)
    again = sc.conversation(LINDE, "annual", "2024-02-12", report=FIRST)
    assert again.already_recorded and len(queries.agreements(services, LINDE)) == len(made) == 2


@pytest.mark.parametrize(("evaluation", "why"), [
    ("onbekend12ab", "is niet bekend bij deze praktijk"),
    ("FOOT", "is al geëvalueerd"),
])
def test_a_report_evaluating_an_unknown_or_closed_agreement_is_refused_and_nothing_is_stored(
        services: Services, evaluation: str, why: str) -> None:
    sc, (foot, _) = cycle_with_a_first_report(services)
    sc.conversation(LINDE, "extra", "2024-09-02",
                    report=ConversationReport(evaluations=(Evaluation(agreement=foot, outcome=Outcome.MET),)))
    before = queries.agreements(services, LINDE)
    refused = ConversationReport(agreements=(FOOT,), evaluations=(
        Evaluation(agreement=foot if evaluation == "FOOT" else evaluation, outcome=Outcome.NOT_MET),))
    with pytest.raises(conversations.ReportRefusedError, match=why):
        sc.conversation(LINDE, "annual", "2025-02-10", report=refused)
    assert queries.agreements(services, LINDE) == before
    assert [e for e in queries.history(services, LINDE) if e.details.get("held_on") == "2025-02-10"] == []


def test_an_agreement_due_before_its_conversation_is_refused(services: Services) -> None:
    sc, _ = cycle_with_a_first_report(services)
    late = Agreement(text="al verlopen", owner=AgreementOwner.PRACTICE, due=date(2025, 1, 1))
    with pytest.raises(conversations.ReportRefusedError, match=r"agreements\[0\]\.due"):
        sc.conversation(LINDE, "annual", "2025-02-10", report=ConversationReport(agreements=(late,)))
    assert len(queries.agreements(services, LINDE)) == 2
