"""Support as tracked work through the services, over SQLite and PostgreSQL: requested (by hand or from a
report's support needs), planned, given, cancelled; every change an event a replay rebuilds."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.clock import AMSTERDAM
from domain.conversations import Agreement, ConversationReport
from domain.support import SupportState
from domain.vocabulary import AgreementOwner, SupportKind
from flows.services import queries, support
from flows.services.context import Services, UnknownPracticeError
from flows.testing.scenario import Scenario
from notifications.rendering import render
from statemachines.support import InvalidSupportChangeError
from tests.integration.de_linde import DESCRIPTION, LINDE


def at(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=AMSTERDAM).replace(hour=hour)


def test_lung_function_support_is_requested_planned_and_given_and_its_events_replay_to_its_state(
        services: Services) -> None:
    Scenario.build(services, DESCRIPTION, start="2024-01-01")
    asked = support.request_support(services, LINDE, SupportKind.LUNG_FUNCTION, date(2024, 3, 1), at("2024-03-01"),
                                    "officer:a.jansen", note="spirometrie loopt achter")
    again = support.request_support(services, LINDE, SupportKind.LUNG_FUNCTION, date(2024, 3, 1), at("2024-03-02"),
                                    "officer:a.jansen", note="spirometrie loopt achter")
    assert again == asked  # the same request recorded twice is one activity
    support.plan_support(services, asked.id, date(2024, 3, 12), at("2024-03-04"), "officer:a.jansen", by="L. Visser")
    given = support.complete_support(services, asked.id, date(2024, 3, 12), at("2024-03-13"), "officer:a.jansen",
                                     half_days=2, outcome="spirometrie en inhalatie-instructie op orde")
    assert (given.status, given.done_on, given.half_days, given.by) == (SupportState.DONE, date(2024, 3, 12), 2,
                                                                        "L. Visser")
    replayed = support.replay_support(services, asked.id)
    assert replayed.agrees and [e.trigger.value for e in replayed.events] == ["request", "plan", "complete"]
    assert [e.recorded_at for e in replayed.events] == [at("2024-03-01"), at("2024-03-04"), at("2024-03-13")]


def test_a_reports_support_needs_become_requests_linked_to_the_agreement_that_asks_for_them(
        services: Services) -> None:
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    coaching = Agreement(text="Coaching POH op consultvoering", owner=AgreementOwner.CARE_GROUP,
                         support=SupportKind.COACHING)
    made = sc.conversation(LINDE, "annual", "2024-02-12", report=ConversationReport(
        support_needs=(SupportKind.COACHING, SupportKind.RECORD_REVIEW), agreements=(coaching,))).agreements
    requests = {v.kind: v for v in support.supports(services, LINDE)}
    assert set(requests) == {SupportKind.COACHING, SupportKind.RECORD_REVIEW}
    assert requests[SupportKind.COACHING].agreement == made[0] and requests[SupportKind.RECORD_REVIEW].agreement is None
    assert {v.requested_on for v in requests.values()} == {date(2024, 2, 12)}


def test_support_given_before_it_was_planned_or_for_an_unknown_practice_is_refused_and_nothing_is_stored(
        services: Services) -> None:
    Scenario.build(services, DESCRIPTION, start="2024-01-01")
    asked = support.request_support(services, LINDE, SupportKind.RECORD_REVIEW, date(2024, 3, 1), at("2024-03-01"),
                                    "officer")
    with pytest.raises(InvalidSupportChangeError, match="afronden kan niet"):
        support.complete_support(services, asked.id, date(2024, 3, 5), at("2024-03-05"), "officer", half_days=3)
    with pytest.raises(UnknownPracticeError):
        support.request_support(services, "09999999", SupportKind.COACHING, date(2024, 3, 1), at("2024-03-01"), "o")
    with pytest.raises(support.SupportInFutureError):
        support.request_support(services, LINDE, SupportKind.COACHING, date(2024, 4, 1), at("2024-03-01"), "o")
    with pytest.raises(support.UnknownSupportError, match="afspraak"):
        support.request_support(services, LINDE, SupportKind.COACHING, date(2024, 3, 1), at("2024-03-01"), "o",
                                agreement="onbekend")
    (only,) = support.supports(services, LINDE)
    assert (only.id, only.status) == (asked.id, SupportState.REQUESTED)
    assert len(support.replay_support(services, asked.id).events) == 1


GOOD = {"dm2/hba1c_measured": 95, "dm2/bp_measured": 95, "dm2/ldl_measured": 90, "dm2/egfr_measured": 90,
        "dm2/foot_exam": 85}


def test_the_escalation_mail_lists_the_conversations_and_the_support_given_since_the_plan_with_their_days(
        services: Services) -> None:
    """Seed section 1: after a year of visits the board hears the practice still lags: "despite the practice
    visits" is a list of the conversations held and the support given, with their days and half-days."""
    sc = Scenario.build(services, DESCRIPTION, start="2024-01-01")
    sc.conversation(LINDE, "start", "2024-01-15")
    sc.scores("2024-03-31", {LINDE: {**GOOD, "dm2/hba1c_measured": 60}})
    sc.run("2024-04-08")
    sc.conversation(LINDE, "extra", "2024-04-29", plan={"dm2/hba1c_measured": 85})
    coaching = support.request_support(services, LINDE, SupportKind.COACHING, date(2024, 5, 6), at("2024-05-06"),
                                       "officer")
    support.plan_support(services, coaching.id, date(2024, 6, 3), at("2024-05-07"), "officer", by="M. Coach")
    support.complete_support(services, coaching.id, date(2024, 6, 3), at("2024-06-04"), "officer", half_days=2)
    sc.conversation(LINDE, "annual", "2025-01-20")
    for quarter, value in zip(["2024-06-30", "2024-09-30", "2024-12-31", "2025-03-31"], [61, 62, 63, 64],
                              strict=True):
        sc.scores(quarter, {LINDE: {**GOOD, "dm2/hba1c_measured": value}})
    sc.run_weekly("2025-06-30")
    told = [m for m in queries.outbox_messages(services) if m.kind == "board_escalation"]
    assert told and all(m.payload["visits"] == [
        {"what": "conversation", "kind": "extra", "on": "2024-04-29"},
        {"what": "support", "kind": "coaching", "on": "2024-06-03", "half_days": 2},
        {"what": "conversation", "kind": "annual", "on": "2025-01-20"}] for m in told)
    text = render(told[0], mail_from="kwaliteit@cohaesie.example", now=at("2025-06-30")).get_body(
        preferencelist=("plain",))
    assert text is not None
    body = " ".join(text.get_content().split())
    assert ("Gesprekken met de praktijk en ondersteuning sinds het verbeterplan: - 29 april 2024: extra gesprek "
            "- 3 juni 2024: coaching on the job (2 dagdelen) - 20 januari 2025: kwaliteitsjaargesprek") in body


def test_officers_are_spread_evenly_kept_when_another_joins_and_an_officers_own_choice_holds(
        services: Services) -> None:
    from domain.registry import Person, Role
    from flows.services.officers import UnknownOfficerError, assign, officers_of

    Scenario.build(services, DESCRIPTION, start="2024-01-01")
    officers = [Person(name=n, role=Role.OFFICER, email=f"{n[0].lower()}@x.example") for n in ("Ank", "Bas", "Cor")]
    with services.transaction() as s:
        first = officers_of(s, [LINDE], officers, at("2024-01-02"))
    assert [p.name for p in first[LINDE]] == ["Ank", "Bas"]
    with services.transaction() as s:  # Aad joins: De Linde keeps its officers
        again = officers_of(s, [LINDE], [Person(name="Aad", role=Role.OFFICER), *officers], at("2024-02-01"))
    assert [p.name for p in again[LINDE]] == ["Ank", "Bas"]
    with services.transaction() as s:  # Bas leaves: only he is replaced
        after = officers_of(s, [LINDE], [officers[0], officers[2]], at("2024-03-01"))
    assert [p.name for p in after[LINDE]] == ["Ank", "Cor"]
    with pytest.raises(UnknownOfficerError, match="geen functionaris in het register"):
        assign(services, LINDE, ["Onbekend"], at("2024-03-02"), "officer")
    assert assign(services, LINDE, ["P. de Boer"], at("2024-03-02"), "officer") == ("P. de Boer",)
    with services.transaction() as s:
        mine = officers_of(s, [LINDE], [Person(name="P. de Boer", role=Role.OFFICER), *officers], at("2024-03-03"))
    assert [p.name for p in mine[LINDE]] == ["P. de Boer", "Ank"]  # her choice first, topped up to two
