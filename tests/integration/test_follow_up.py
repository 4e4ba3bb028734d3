"""What conversations leave behind, followed up by the sweep over SQLite and PostgreSQL: goals judged on their day,
agreements past due reminded once, support given proposed for an agreement's evaluation, and the invitation to the
next conversation that lists them (seed section 1: agreements recorded in a report, evaluated at the next
conversation)."""

from __future__ import annotations

from datetime import date, timedelta

from domain.conversations import Agreement, ConversationReport, Goal
from domain.registry import Programme
from domain.vocabulary import AgreementOwner, SupportKind
from flows.services import queries, support
from flows.services.context import Services
from flows.testing.scenario import Scenario
from tests.integration.test_support import at

LINDE = "01234567"
DESCRIPTION = f"""
care_group: Cohaesie
board: [B. de Vries <bestuur@cohaesie.example>]
officers: [A. Jansen <a.jansen@cohaesie.example>, P. de Boer <p.deboer@cohaesie.example>]
practices:
  "{LINDE}":
    name: Huisartsenpraktijk De Linde
    gp_group: HAGRO-WEST
    email: praktijk@delinde.example
    programmes: {{dm2: 2023-01-01}}
    people:
      gp_principal: C. Bakker <c.bakker@delinde.example>
      poh_chronic: D. Mulder <d.mulder@delinde.example>
      practice_manager: F. Visser <f.visser@delinde.example>
"""
GOOD = {"dm2/hba1c_measured": 95, "dm2/bp_measured": 95, "dm2/ldl_measured": 90, "dm2/egfr_measured": 90,
        "dm2/foot_exam": 85}
FOOT = Agreement(text="POH plant voetonderzoek bij alle dm2-patiënten", owner=AgreementOwner.PRACTICE,
                 due=date(2024, 6, 30))
COACHING = Agreement(text="Coaching POH op consultvoering", owner=AgreementOwner.CARE_GROUP, due=date(2024, 4, 30),
                     support=SupportKind.COACHING)
HBA1C_GOAL = Goal(programme=Programme.DM2, indicator="hba1c_measured", target=90, by=date(2024, 12, 31))
FOOT_GOAL = Goal(programme=Programme.DM2, indicator="foot_exam", target=90, by=date(2025, 6, 30))


def kinds(services: Services, kind: str) -> list[tuple[str, str | None]]:
    return sorted((m.recipient_role, m.recipient_email) for m in queries.outbox_messages(services) if m.kind == kind)


def test_a_goal_is_judged_on_its_day_by_the_latest_figure_and_the_practice_and_its_officers_hear_it_once(
        services: Services) -> None:
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sc.conversation(LINDE, "start", "2024-01-15")
    sc.scores("2023-12-31", {LINDE: {**GOOD, "dm2/hba1c_measured": (160, 200)}})
    sc.conversation(LINDE, "annual", "2024-02-12", report=ConversationReport(goals=(HBA1C_GOAL, FOOT_GOAL)))
    sc.scores("2024-09-30", {LINDE: {**GOOD, "dm2/hba1c_measured": (170, 200)}})
    sc.sweep("2024-12-30")
    assert [g.line.status for g in queries.goals(services, LINDE)] == ["open", "open"]
    # an open goal shows its indicator's latest figure, also as the board's page reads the goals of its practices
    assert [(g.line.status, g.line.score, g.line.period_end)
            for g in queries.goals(services, on=date(2024, 12, 30), agb_codes=[LINDE])] == [
        ("open", 85.0, date(2024, 9, 30)), ("open", float(GOOD["dm2/foot_exam"]), date(2024, 9, 30))]
    assert kinds(services, "goal_judged") == []
    sc.scores("2024-12-31", {LINDE: {**GOOD, "dm2/hba1c_measured": (182, 200)}})
    judged = sc.sweep("2024-12-31")
    assert judged.queued["goal_judged"] == 3
    hba1c, foot = queries.goals(services, LINDE)
    assert (hba1c.line.status, hba1c.line.score, hba1c.line.numerator, hba1c.line.period_end) == (
        "met", 91.0, 182, date(2024, 12, 31))
    assert hba1c.line.interval_low is not None and hba1c.line.interval_low < 91 < (hba1c.line.interval_high or 0)
    assert foot.line.status == "open"
    assert kinds(services, "goal_judged") == [("officer", "a.jansen@cohaesie.example"),
                                              ("officer", "p.deboer@cohaesie.example"),
                                              ("practice", "praktijk@delinde.example")]
    assert sc.sweep("2025-01-06").queued["goal_judged"] == 0  # judged once
    sc.sweep("2025-06-30")  # the foot-exam goal's day: 85% against 90
    assert [g.line.status for g in queries.goals(services, LINDE)] == ["met", "not_met"]
    assert queries.goals(services, agb_codes=[LINDE]) == queries.goals(services, LINDE)  # judged: no figure read
    assert len(kinds(services, "goal_judged")) == 6


def test_an_agreement_past_its_due_date_reminds_its_owner_once_unless_its_support_was_given(
        services: Services) -> None:
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sc.conversation(LINDE, "start", "2024-01-15")
    foot, coaching = sc.conversation(LINDE, "annual", "2024-02-12",
                                     report=ConversationReport(agreements=(FOOT, COACHING))).agreements
    sc.sweep("2024-05-06")  # coaching was due 30 April: the care group's, so the practice's officers hear it
    assert kinds(services, "agreement_overdue") == [("officer", "a.jansen@cohaesie.example"),
                                                    ("officer", "p.deboer@cohaesie.example")]
    sc.sweep("2024-05-13")
    assert len(kinds(services, "agreement_overdue")) == 2  # once
    sc.sweep("2024-07-01")  # the practice's own agreement: to the practice's own address
    assert ("practice", "praktijk@delinde.example") in kinds(services, "agreement_overdue")
    assert len(kinds(services, "agreement_overdue")) == 3
    assert {a.id: a.reminded_on for a in queries.agreements(services, LINDE)} == {
        coaching: date(2024, 5, 6), foot: date(2024, 7, 1)}


def test_support_given_for_an_agreement_proposes_it_met_and_the_next_invitation_lists_it_with_the_goals(
        services: Services) -> None:
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sc.conversation(LINDE, "start", "2024-01-15")
    sc.scores("2023-12-31", {LINDE: {**GOOD, "dm2/hba1c_measured": (160, 200)}})
    foot, coaching = sc.conversation(LINDE, "annual", "2024-02-12", report=ConversationReport(
        agreements=(FOOT, COACHING), goals=(HBA1C_GOAL,))).agreements
    asked = next(v for v in support.supports(services, LINDE) if v.agreement == coaching)
    support.plan_support(services, asked.id, date(2024, 3, 4), at("2024-02-20"), "officer", by="M. Coach")
    assert queries.agreements(services, LINDE)[1].proposed_outcome is None  # planned, not given
    support.complete_support(services, asked.id, date(2024, 3, 4), at("2024-03-05"), "officer", half_days=2)
    assert [(a.id, a.proposed_outcome) for a in queries.agreements(services, LINDE)] == [(foot, None),
                                                                                          (coaching, "met")]
    sc.sweep("2024-05-06")
    assert kinds(services, "agreement_overdue") == []  # coaching was given: nobody is late
    sc.scores("2024-12-31", {LINDE: {**GOOD, "dm2/hba1c_measured": (176, 200)}})
    annual = next(o for o in queries.obligations(services, LINDE, "open") if o.kind == "annual_conversation")
    assert annual.planned_on is not None
    sc.sweep(annual.planned_on - timedelta(days=services.policy.invitation_days_before))
    invitations = [m for m in queries.outbox_messages(services) if m.kind == "conversation_invitation"
                   and m.payload["conversation"]["kind"] == "annual"]
    assert ("practice", "praktijk@delinde.example") in {(m.recipient_role, m.recipient_email) for m in invitations}
    prepare = invitations[0].payload["prepare"]
    assert [(a["id"], a.get("proposed_outcome")) for a in prepare["open_agreements"]] == [(foot, None),
                                                                                          (coaching, "met")]
    assert prepare["open_agreements"][1]["support_done"] == [
        {"what": "support", "kind": "coaching", "on": "2024-03-04", "half_days": 2}]
    (goal,) = prepare["goals"]
    assert (goal["indicator"], goal["status"], goal["score"], goal["period_end"]) == (
        "hba1c_measured", "not_met", 88.0, "2024-12-31")
