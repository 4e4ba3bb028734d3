"""Two years around the cycle (issue 14, "Done when"), through the service functions over SQLite and PostgreSQL:
meetings that happen, training followed from the care group's own catalogue, instruction cards kept current, the
neighbourhood's elderly care, and the practice's own quality system; each part in one line of ``status`` and of the
practice's view, and counted in the board's digest.

De Linde and De Eik held their start conversations on 12 March 2024 (``test_duties.care_group``): their annual
conversation is due 12 March 2025 and set for Wednesday 26 February (invitations 29 January)."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.courses import Course, CourseKind
from domain.neighbourhood import CountKind, NetworkMeetingKind, Partner, PartnerKind, Quarter
from domain.quality_system import Checklist
from domain.vocabulary import Role
from flows.services import cards, digest, kits_and_courses, meetings, neighbourhood, planning, queries, sweep, training
from flows.services.around_the_cycle import around_counts, around_the_cycle
from flows.services.context import Services
from flows.services.quality_system import record_checklist
from tests.integration.test_duties import EIK, LINDE, at, care_group, outbox

ALL_YES = {c: {"answer": "yes"} for c in ("team_meetings", "policy_plan", "quality_initiator", "regular_evaluation",
                                          "competence_review", "planned_improvement", "complaints_procedure",
                                          "nhg_accreditation", "gp_group", "peer_review_group")}
CATALOGUE = (
    Course(code="caspir", name="Caspir-cursus", kind=CourseKind.MANDATORY,
           roles=frozenset({Role.POH_CHRONIC, Role.NURSE}), every_months=24),
    Course(code="langerhans", name="Langerhans-scholing", kind=CourseKind.MANDATORY,
           roles=frozenset({Role.GP_PRINCIPAL, Role.PRACTICE_MANAGER}), every_months=24),
    Course(code="basis_ouderenzorg", name="Basisscholing ouderenzorg", kind=CourseKind.BASIC,
           roles=frozenset({Role.POH_ELDERLY})),
)


def checklist(**answers: Any) -> Checklist:
    return Checklist.model_validate({"answers": ALL_YES | answers})


def counts(services: Services, start: str, end: str) -> dict[str, tuple[int, list[str]]]:
    return {c.label: (c.count, list(c.practices))
            for c in around_counts(services, date.fromisoformat(start), date.fromisoformat(end))}


PARTNERS = (Partner(name="Thuiszorg De Wijk", kind=PartnerKind.DISTRICT_NURSING),
            Partner(name="Gemeente Westerveld", kind=PartnerKind.MUNICIPALITY, email="wmo@westerveld.example"))


def test_two_years_of_meetings_training_cards_neighbourhood_and_the_practices_own_quality_system(
        services: Services) -> None:
    sc = care_group(services)
    # --- year one -------------------------------------------------------------------------------------------
    assert training.import_courses(services, CATALOGUE, at("2024-03-20", 9), "user:a.jansen") == 3
    planning.plan_meetings(services, at("2024-03-25"))
    sweep.sweep_due(services, at("2024-03-25"))  # the catalogue's courses planned: practice managers too
    cards.publish_cards(services, "2024.1", date(2024, 4, 2), at("2024-04-02", 10), "user:a.jansen",
                        note="eerste set: inhalatie en insuline")
    cards.mark_cards_current(services, LINDE, "2024.1", date(2024, 4, 12), at("2024-04-12", 9), "user:a.jansen")
    sweep.sweep_due(services, at("2024-05-21"))  # six weeks on: De Eik is still behind
    (behind,) = outbox(services, "cards_behind")[:1]
    assert [p["practice"]["agb_code"] for p in behind.payload["practices"]] == [EIK]
    record_checklist(services, LINDE, date(2024, 6, 10), checklist(
        policy_plan={"answer": "partly", "note": "jaarverslag nog niet klaar"}), at("2024-06-10", 16), "user:a.jansen")
    kits_and_courses.record_course_completion(services, LINDE, "D. Mulder", "caspir", date(2024, 6, 10),
                                              at("2024-06-10", 16), "user:a.jansen")
    kits_and_courses.record_course_completion(services, LINDE, "E. Kok", "basis_ouderenzorg", date(2024, 6, 17),
                                              at("2024-06-17", 16), "user:a.jansen")
    held_2024 = [m for m in meetings.meetings(services, 2024) if m.kind == "poh_meeting" and m.day > date(2024, 4, 1)]
    for m in held_2024:  # De Linde's POH comes to every POH meeting; nobody of De Eik ever does
        meetings.hold_meeting(services, m.key, m.day, [(LINDE, "D. Mulder")], at(m.day.isoformat(), 22),
                              "user:a.jansen", minutes="Besproken: de ontwikkelingen in de praktijken.")
    sweep.sweep_due(services, at("2024-09-19"))  # the courses nobody recorded are overdue since 18 September
    overdue = {(m.payload["person"]["name"], m.payload["course"]["code"], m.recipient_name)
               for m in outbox(services, "training_overdue")}
    assert ("C. Bakker", "langerhans", "F. de Wit") in overdue  # the person's practice manager hears it too
    assert ("F. de Wit", "langerhans", "F. de Wit") in overdue  # a practice manager's own course
    assert ("K. Dekker", "langerhans", "K. Dekker") in overdue
    assert {(t.agb_code, t.person) for t in training.training(services, date(2024, 9, 19), overdue_only=True)} == {
        (LINDE, "C. Bakker"), (LINDE, "F. de Wit"), (EIK, "G. Peters"), (EIK, "H. Vos"), (EIK, "J. Bos"),
        (EIK, "K. Dekker")}

    # the neighbourhood: De Linde's core team is complete, De Eik's lacks a district nurse (stored, flagged); GPOs
    # against their cadence, MDOs counted; the GP group agrees a plan with its partners
    team = neighbourhood.record_core_team(
        services, LINDE, [("gp_principal", "C. Bakker"), ("poh_elderly", "E. Kok"), ("wijkverpleegkundige",
                                                                                   "W. de Vries")],
        date(2024, 4, 15), at("2024-04-15", 16), "user:a.jansen")
    assert team.complete
    eik_team = neighbourhood.record_core_team(services, EIK, [("gp", "G. Peters"), ("nurse", "J. Bos")],
                                              date(2024, 4, 22), at("2024-04-22", 16), "user:a.jansen")
    assert eik_team.missing == ("wijkverpleegkundige",)
    neighbourhood.set_gpo_cadence(services, LINDE, 6, date(2024, 4, 1), at("2024-04-15", 16), "user:a.jansen")
    neighbourhood.set_gpo_cadence(services, EIK, 4, date(2024, 7, 1), at("2024-06-20", 16), "user:a.jansen")
    agreed = neighbourhood.agree_network_plan(services, "HAGRO-WEST", PARTNERS, date(2024, 5, 6),
                                              at("2024-05-07", 10), "user:a.jansen")
    assert agreed.status.value == "agreed"
    neighbourhood.hold_network_meeting(services, "HAGRO-WEST", NetworkMeetingKind.NETWORK_MEETING, date(2024, 9, 10),
                                       [(LINDE, "E. Kok"), (EIK, "J. Bos")], ["Thuiszorg De Wijk"],
                                       at("2024-09-11", 9), "user:a.jansen", minutes="Werkafspraken wijkverpleging.")
    for agb, held, mdos in ((LINDE, 2, 3), (EIK, 1, 0)):  # Q3: De Linde's cadence sets 2 GPOs, De Eik's 4
        neighbourhood.record_count(services, agb, Quarter(2024, 3), CountKind.GPO, held, at("2024-10-01", 9),
                                   "user:a.jansen")
        neighbourhood.record_count(services, agb, Quarter(2024, 3), CountKind.MDO, mdos, at("2024-10-01", 9),
                                   "user:a.jansen")

    # the board's digest of the third quarter counts each part
    digest.board_digest(services, at("2024-10-01"))
    (board,) = [m for m in outbox(services, "board_digest") if m.recipient_email == "bestuur@cohaesie.example"]
    around = {c["label"]: (c["count"], c["practices"]) for c in board.payload["around"]}
    assert around["mensen over tijd met een verplichte scholing"] == (
        6, ["Huisartsenpraktijk De Linde (2)", "Praktijk De Eik (4)"])
    assert around["praktijken achter met hun kwaliteitsmap"] == (1, ["Praktijk De Eik"])
    assert around["praktijken met open voorwaarden in hun checklist"] == (1, ["Huisartsenpraktijk De Linde (1)"])
    assert around["POH-overleg gehouden"][0] == sum(1 for m in held_2024 if date(2024, 7, 1) <= m.day
                                                    <= date(2024, 9, 30))
    assert around["praktijken bij geen enkel overleg van 2024"] == (1, ["Praktijk De Eik"])
    assert around["praktijken met een onvolledig kernteam ouderenzorg"] == (1, ["Praktijk De Eik"])
    assert around["praktijken met minder GPO's dan hun ritme in 2024K3"] == (1, ["Praktijk De Eik"])
    assert around["MDO's rond kwetsbare ouderen (hele kwartalen in de periode)"][0] == 3
    assert around["netwerkbijeenkomsten gehouden"][0] == 1
    assert around["huisartsengroepen met de evaluatie van hun netwerkplan over tijd"] == (0, [])
    neighbourhood.record_count(services, LINDE, Quarter(2024, 4), CountKind.GPO, 2, at("2025-01-06", 9),
                               "user:a.jansen")

    # --- the annual conversations' invitations: the pack shows the checklist and the meetings missed -----------
    sweep.sweep_due(services, at("2025-01-29"))
    packs = {m.agb_code: m.payload["prepare"] for m in outbox(services, "conversation_invitation")
             if m.recipient_role == "practice"}
    assert packs[LINDE]["checklist"]["filled_on"] == "2024-06-10"
    assert [c["condition"] for c in packs[LINDE]["checklist"]["open_conditions"]] == ["policy_plan"]
    assert packs[EIK]["meeting_absence"] == [f"POH-overleg 2024 ({len(held_2024)} gehouden)"]

    # status and the practice's view: each part in one line
    lines = {line.agb_code: line for line in queries.status(services, now=at("2025-01-29", 12))}
    linde = lines[LINDE].around
    assert linde is not None
    assert linde.lines["meetings"] == f"POH-overleg {len(held_2024)} van {len(held_2024)} bijgewoond in 2024"
    assert linde.lines["training"] == "2 over tijd (C. Bakker, F. de Wit), 1 bij, 1 gevolgd"
    assert linde.lines["cards"] == "actueel (versie 2024.1, sinds 2024-04-12)"
    assert linde.lines["quality_system"].startswith("checklist 2024-06-10: 1 open (policy_plan)")
    assert linde.lines["neighbourhood"] == ("kernteam compleet (3); GPO elke 6 weken: 2 van 2 in 2024K4; "
                                            "netwerkplan HAGRO-WEST: evaluatie uiterlijk 2025-05-06")
    eik = lines[EIK].as_json()["around_the_cycle"]
    assert eik["meetings"] == f"POH-overleg 0 van {len(held_2024)} bijgewoond in 2024"
    assert eik["cards"] == "achter sinds 2024-04-02 (versie geen, actueel 2024.1)"
    assert eik["quality_system"] is None  # De Eik keeps no checklist yet: no line
    # De Eik's tally of the fourth quarter is not in yet: its third quarter's shows
    assert eik["neighbourhood"] == ("kernteam onvolledig (mist wijkverpleegkundige); GPO elke 4 weken: 1 van 4 in "
                                    "2024K3 (achter); MDO 0 in 2024K3; netwerkplan HAGRO-WEST: evaluatie uiterlijk "
                                    "2025-05-06")
    assert around_the_cycle(services, date(2025, 1, 29), [LINDE])[LINDE] == linde

    # --- year two -------------------------------------------------------------------------------------------
    sc.conversation(LINDE, "annual", "2025-02-26")
    sc.conversation(EIK, "annual", "2025-02-26")
    kits_and_courses.record_course_completion(services, LINDE, "C. Bakker", "langerhans", date(2025, 3, 3),
                                              at("2025-03-03", 16), "user:a.jansen")
    kits_and_courses.record_course_completion(services, LINDE, "F. de Wit", "langerhans", date(2025, 3, 3),
                                              at("2025-03-03", 16), "user:a.jansen")
    sweep.sweep_due(services, at("2025-03-10"))
    assert not training.training(services, date(2025, 3, 10), LINDE, overdue_only=True)
    planning.plan_meetings(services, at("2025-03-10"))
    # the network plan falls due for its yearly evaluation: six weeks before, each practice of the group hears it
    sweep.sweep_due(services, at("2025-03-25"))
    notices = outbox(services, "network_plan_due")
    assert sorted((m.agb_code, m.recipient_email) for m in notices) == [
        (LINDE, "praktijk@delinde.example"), (EIK, "info@deeik.example")]
    assert [p["name"] for p in notices[0].payload["partners"]] == ["Thuiszorg De Wijk", "Gemeente Westerveld"]
    sweep.sweep_due(services, at("2025-03-26"))
    assert len(outbox(services, "network_plan_due")) == 2  # once
    lines = {line.agb_code: line for line in queries.status(services, now=at("2025-06-02", 12))}
    assert lines[LINDE].as_json()["around_the_cycle"]["neighbourhood"].endswith(
        "netwerkplan HAGRO-WEST: evaluatie over tijd sinds 2025-05-06")
    q2 = counts(services, "2025-04-01", "2025-06-30")
    assert q2["huisartsengroepen met de evaluatie van hun netwerkplan over tijd"] == (1, ["HAGRO-WEST"])
    neighbourhood.evaluate_network_plan(services, "HAGRO-WEST", date(2025, 6, 16), "Valpreventie toegevoegd.",
                                        at("2025-06-16", 15), "user:a.jansen")
    (line,) = neighbourhood.network_plans(services, "HAGRO-WEST")
    assert line.evaluation_due == date(2026, 6, 16)
    stored, replayed = neighbourhood.replay_network_plan(services, "HAGRO-WEST")
    assert stored == replayed and len(replayed.evaluations) == 1 and len(replayed.meetings) == 1
    for m in meetings.meetings(services, 2025):  # this year De Eik's practice manager comes, De Linde's too
        if m.kind == "practice_manager_meeting" and m.day > date(2025, 3, 10) and m.day < date(2025, 12, 1):
            meetings.hold_meeting(services, m.key, m.day, [(LINDE, "F. de Wit"), (EIK, "K. Dekker")],
                                  at(m.day.isoformat(), 22), "user:a.jansen")
    cards.publish_cards(services, "2025.1", date(2025, 9, 1), at("2025-09-01", 10), "user:a.jansen")
    for agb in (LINDE, EIK):
        cards.mark_cards_current(services, agb, "2025.1", date(2025, 9, 15), at("2025-09-15", 9), "user:a.jansen")
    record_checklist(services, LINDE, date(2025, 12, 15), checklist(), at("2025-12-15", 16), "user:a.jansen")
    sweep.sweep_due(services, at("2026-01-15"))  # the invitations for the annual conversations of 2026
    packs = {m.agb_code: m.payload["prepare"] for m in outbox(services, "conversation_invitation")
             if m.recipient_role == "practice" and m.payload["conversation"]["start"].startswith("2026")}
    assert packs[LINDE]["checklist"] == {"filled_on": "2025-12-15", "open_conditions": []}
    assert "meeting_absence" not in packs[EIK]  # it came to the practice managers' meetings of 2025

    lines = {line.agb_code: line for line in queries.status(services, now=at("2026-01-15", 12))}
    assert lines[EIK].as_json()["around_the_cycle"]["cards"] == "actueel (versie 2025.1, sinds 2025-09-15)"
    assert lines[LINDE].as_json()["around_the_cycle"]["quality_system"].startswith("checklist 2025-12-15: alles")
    q4 = counts(services, "2025-10-01", "2025-12-31")
    assert q4["praktijken achter met hun kwaliteitsmap"] == (0, [])
    assert q4["praktijken met open voorwaarden in hun checklist"] == (0, [])
    assert q4["praktijken bij geen enkel overleg van 2025"] == (0, [])
