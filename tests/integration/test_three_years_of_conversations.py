"""Three years of one practice's conversations as the care group holds them, over SQLite and PostgreSQL: reports with
agreements and support needs, support requested, planned and given, the next annual conversation evaluating the
agreements (one left unevaluated and flagged), goals judged on their days, and the board's escalation mail listing
the visits and support with their dates (seed sections 1 and 2)."""

from __future__ import annotations

from datetime import date, timedelta

from domain.conversations import Agreement, ConversationReport, Evaluation, Goal
from domain.registry import Programme
from domain.vocabulary import AgreementOwner, Outcome, SupportKind
from flows.services import queries, support
from flows.services.context import Services
from flows.testing.scenario import Scenario
from notifications.rendering import render
from tests.integration.test_follow_up import DESCRIPTION, GOOD, LINDE
from tests.integration.test_support import at

FOOT = Agreement(text="POH plant voetonderzoek bij alle dm2-patiënten", owner=AgreementOwner.PRACTICE,
                 due=date(2024, 6, 30))
COACHING = Agreement(text="Coaching POH op consultvoering", owner=AgreementOwner.CARE_GROUP, due=date(2024, 4, 30),
                     support=SupportKind.COACHING)
FIRST_REPORT = ConversationReport(
    summary="Besproken: indicatoren dm2 en ouderenzorg, het project valpreventie.",
    support_needs=(SupportKind.COACHING, SupportKind.RECORD_REVIEW), agreements=(FOOT, COACHING),
    goals=(Goal(programme=Programme.DM2, indicator="foot_exam", target=85, by=date(2024, 12, 31)),))
PLAN = ConversationReport(
    summary="Verbeterplan HbA1c-controles: oproepsysteem inrichten, POH-spreekuur uitbreiden.",
    agreements=(Agreement(text="Oproepsysteem Kompas inrichten", owner=AgreementOwner.PRACTICE,
                          due=date(2024, 9, 30), support=SupportKind.RECALL_SYSTEM),),
    goals=(Goal(programme=Programme.DM2, indicator="hba1c_measured", target=75, by=date(2024, 12, 31)),
           Goal(programme=Programme.DM2, indicator="hba1c_measured", target=85, by=date(2025, 3, 31))))


def sweep_weekly(sc: Scenario, start: str, until: str) -> None:
    day = date.fromisoformat(start)
    while day <= date.fromisoformat(until):
        sc.sweep(day)
        day += timedelta(days=7)


def test_three_years_of_reports_agreements_support_and_goals_end_in_an_escalation_that_lists_the_visits(
        services: Services) -> None:
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sc.conversation(LINDE, "start", "2024-01-15")
    # 2024: the annual conversation's report, its agreements and the support the practice asks for
    foot, coaching = sc.conversation(LINDE, "annual", "2024-02-12", report=FIRST_REPORT).agreements
    asked = {v.kind: v for v in support.supports(services, LINDE)}
    assert set(asked) == {SupportKind.COACHING, SupportKind.RECORD_REVIEW}
    assert asked[SupportKind.COACHING].agreement == coaching
    support.plan_support(services, asked[SupportKind.COACHING].id, date(2024, 3, 4), at("2024-02-20"), "officer",
                         by="M. Coach")
    support.complete_support(services, asked[SupportKind.COACHING].id, date(2024, 3, 4), at("2024-03-05"), "officer",
                             half_days=2, outcome="consultvoering besproken")
    support.plan_support(services, asked[SupportKind.RECORD_REVIEW].id, date(2024, 3, 18), at("2024-03-01"),
                         "officer", by="R. Dossier")
    sc.scores("2024-03-31", {LINDE: {**GOOD, "dm2/hba1c_measured": 60}})
    sweep_weekly(sc, "2024-04-01", "2024-04-22")  # flagged: far below target, an extra conversation is due
    assert sc.state(LINDE).value == "extra_conversation"
    plan = sc.conversation(LINDE, "extra", "2024-04-29", report=PLAN)
    assert sc.state(LINDE).value == "improvement_plan"
    recall = next(v for v in support.supports(services, LINDE) if v.agreement == plan.agreements[0])
    support.plan_support(services, recall.id, date(2024, 6, 10), at("2024-05-20"), "officer", by="S. Star")
    support.complete_support(services, recall.id, date(2024, 6, 10), at("2024-06-11"), "officer", half_days=3)
    support.complete_support(services, asked[SupportKind.RECORD_REVIEW].id, date(2024, 3, 18), at("2024-06-12"),
                             "officer", half_days=4)
    for quarter, value in (("2024-06-30", 61), ("2024-09-30", 62), ("2024-12-31", 63)):
        sc.scores(quarter, {LINDE: {**GOOD, "dm2/hba1c_measured": value}})
        sweep_weekly(sc, str(date.fromisoformat(quarter) + timedelta(days=1)), str(
            date.fromisoformat(quarter) + timedelta(days=91)))
    # the practice's agreement past due reminded it once; the care group's was followed by support: not late
    assert [(m.recipient_role, m.payload["agreement"]["id"]) for m in queries.outbox_messages(services)
            if m.kind == "agreement_overdue"] == [("practice", foot)]
    # goals judged on their days: the foot exams at 85% by 31 December met; HbA1c at 63% against 75 not
    states = {(g.line.indicator, g.line.by): (g.line.status, g.line.score) for g in queries.goals(services, LINDE)}
    assert states[("foot_exam", date(2024, 12, 31))] == ("met", 85.0)
    assert states[("hba1c_measured", date(2024, 12, 31))] == ("not_met", 63.0)
    # 2025: the next annual conversation evaluates the practice's agreement and leaves the coaching one open
    second = sc.conversation(LINDE, "annual", "2025-02-10", report=ConversationReport(
        evaluations=(Evaluation(agreement=foot, outcome=Outcome.PARTLY_MET, note="de helft gedaan"),)))
    assert len(second.agreement_gaps) == 2 and coaching in second.agreement_gaps[0]  # and the recall agreement
    by_id = {a.id: a for a in queries.agreements(services, LINDE)}
    assert (by_id[foot].status, by_id[coaching].status, by_id[coaching].proposed_outcome) == (
        "partly_met", "open", "met")
    sc.scores("2025-03-31", {LINDE: {**GOOD, "dm2/hba1c_measured": 64}})
    sweep_weekly(sc, "2025-04-07", "2025-06-30")
    assert states_of(services)[("hba1c_measured", date(2025, 3, 31))] == ("not_met", 64.0)
    judged = [m for m in queries.outbox_messages(services) if m.kind == "goal_judged"]
    assert len(judged) == 3 * 3  # three goals, each to the practice and its two officers, once
    # a year after the plan, still more than 20% behind the national average: the board is told, with the visits
    told = [m for m in queries.outbox_messages(services) if m.kind == "board_escalation"]
    assert told and sc.state(LINDE).value == "underperformer_policy"
    payload = told[0].payload
    assert payload["visits"] == [
        {"what": "conversation", "kind": "extra", "on": "2024-04-29"},
        {"what": "support", "kind": "recall_system", "on": "2024-06-10", "half_days": 3},
        {"what": "conversation", "kind": "annual", "on": "2025-02-10"}]
    assert [(g["target"], g["by"], g["status"]) for g in payload["goals"]] == [
        (75, "2024-12-31", "not_met"), (85, "2025-03-31", "not_met")]
    text = render(told[0], mail_from="kwaliteit@cohaesie.example", now=at("2025-06-30")).get_body(
        preferencelist=("plain",))
    assert text is not None
    body = " ".join(text.get_content().split())
    assert "10 juni 2024: opzetten van het oproepsysteem (3 dagdelen)" in body
    assert "doel 85,0% uiterlijk 31 maart 2025: niet gehaald" in body
    # 2026: the coaching agreement evaluated as its support proposed; nothing left open
    sc.conversation(LINDE, "annual", "2026-02-09", report=ConversationReport(evaluations=(
        Evaluation(agreement=coaching, outcome=Outcome.MET),
        Evaluation(agreement=plan.agreements[0], outcome=Outcome.MET))))
    assert queries.agreements(services, LINDE, open_only=True) == []


def states_of(services: Services) -> dict[tuple[str, date], tuple[str, float | None]]:
    return {(g.line.indicator, g.line.by): (g.line.status, g.line.score) for g in queries.goals(services, LINDE)}
