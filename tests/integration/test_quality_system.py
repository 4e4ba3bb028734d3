"""The practice's own quality system (seed 003) through the services, over SQLite and PostgreSQL: a yearly checklist
shown in the next annual conversation's invitation and due again before the one after, the NHG accreditation's
renewal and audit announced weeks ahead, the peer review group, all in one line of ``status``; a checklist that
cannot be is refused and nothing is stored.

De Linde and De Eik held their start conversations on 12 March 2024 (``test_duties.care_group``): their annual
conversation is due Wednesday 12 March 2025 and set for Wednesday 26 February (invitation 29 January)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.obligations import ObligationStatus
from domain.quality_system import Accreditation, AuditDateError, Checklist, PeerReviewGroup
from flows.services import queries, sweep
from flows.services.context import Services, UnknownPracticeError
from flows.services.quality_system import (
    ChecklistConflictError,
    QualitySystemInFutureError,
    quality_systems,
    record_accreditation,
    record_checklist,
    record_peer_review,
)
from tests.integration.test_duties import EIK, LINDE, at, care_group, obligation, obligations, outbox

ALL_YES = {c: {"answer": "yes"} for c in ("team_meetings", "policy_plan", "quality_initiator", "regular_evaluation",
                                          "competence_review", "planned_improvement", "complaints_procedure",
                                          "nhg_accreditation", "gp_group", "peer_review_group")}


def checklist(**answers: Any) -> Checklist:
    return Checklist.model_validate({"answers": ALL_YES | answers})


HALF_WAY = checklist(policy_plan={"answer": "partly", "note": "jaarverslag 2024 nog niet klaar"},
                     peer_review_group={"answer": "no", "note": "toetsgroep zoekt een EKC"})


def stored(services: Services) -> tuple[int, ...]:
    found = quality_systems(services)
    return (sum(q.checklist is not None for q in found), sum(q.accreditation is not None for q in found),
            sum(q.peer_review is not None for q in found))


def test_a_checklist_is_in_the_next_invitation_and_due_again_before_the_conversation_after(services: Services) -> None:
    sc = care_group(services)
    filled = record_checklist(services, LINDE, date(2024, 6, 10), HALF_WAY, at("2024-06-10", 16), "user:a.jansen")
    assert [c.value for c, _ in filled.open_conditions] == ["policy_plan", "peer_review_group"]
    # this year's checklist is in: nothing more is owed until the annual conversation is held
    assert not [o for o in obligations(services, agb_code=LINDE) if o.kind == "practice_checklist"]
    sweep.sweep_due(services, at("2025-01-29"))  # the invitations for 26 February
    linde = [m for m in outbox(services, "conversation_invitation") if m.agb_code == LINDE]
    assert linde and all(m.payload["prepare"]["checklist"] == {
        "filled_on": "2024-06-10", "open_conditions": [
            {"condition": "policy_plan", "name": "beleidsplan met jaarverslag", "answer": "partly",
             "note": "jaarverslag 2024 nog niet klaar"},
            {"condition": "peer_review_group",
             "name": "toetsgroep (of intervisie, Balint) geleid door een getrainde EKC-begeleider", "answer": "no",
             "note": "toetsgroep zoekt een EKC"}]} for m in linde)
    eik = [m for m in outbox(services, "conversation_invitation") if m.agb_code == EIK]
    assert eik and all("checklist" not in m.payload["prepare"] for m in eik)  # none on record: no checklist duty
    assert not [o for o in obligations(services, agb_code=EIK) if o.kind == "practice_checklist"]
    # the annual conversation held: the next checklist falls due 35 days before the next one (12 February 2026)
    sc.conversation(LINDE, "annual", "2025-02-26")
    sweep.sweep_due(services, at("2025-03-03"))
    duty = obligation(services, f"practice_checklist:{LINDE}:annual:2025-02-26")
    annual = obligation(services, f"annual_conversation:{LINDE}:cycle:2025-02-26")
    assert (annual.planned_on, duty.due_on, duty.next_notice_on) == (date(2026, 2, 12), date(2026, 1, 8),
                                                                    date(2025, 12, 18))
    sweep.sweep_due(services, at("2025-12-18"))
    (notice,) = outbox(services, "checklist_due")
    assert (notice.recipient_email, notice.recipient_role) == ("praktijk@delinde.example", "practice")
    assert notice.subject == "Checklist kwaliteitssysteem Huisartsenpraktijk De Linde: graag invullen voor " \
                             "8 januari 2026"
    assert notice.payload["conversation_on"] == "2026-02-12"
    assert [c["condition"] for c in notice.payload["open_conditions"]] == ["policy_plan", "peer_review_group"]
    # filled in all yes: met, and the invitation of 15 January shows it
    record_checklist(services, LINDE, date(2026, 1, 5), checklist(), at("2026-01-05", 16), "user:a.jansen")
    met = obligation(services, f"practice_checklist:{LINDE}:annual:2025-02-26")
    assert (met.status, met.closed_on) == (ObligationStatus.DONE.value, date(2026, 1, 5))
    sweep.sweep_due(services, at("2026-01-15"))
    latest = [m for m in outbox(services, "conversation_invitation")
              if m.agb_code == LINDE and m.payload["conversation"]["start"].startswith("2026-02-12")]
    assert latest and all(m.payload["prepare"]["checklist"] == {"filled_on": "2026-01-05", "open_conditions": []}
                          for m in latest)


def test_the_nhg_accreditation_is_announced_weeks_before_it_lapses_and_before_its_audit(services: Services) -> None:
    care_group(services)
    record_accreditation(services, EIK, Accreditation(valid_until=date(2025, 6, 30), audited_on=date(2022, 9, 1)),
                         at("2024-06-10", 16), "user:a.jansen")
    renewal = obligation(services, f"nhg_accreditation:{EIK}:valid_until:2025-06-30")
    audit = obligation(services, f"nhg_accreditation:{EIK}:audit:2022-09-01")
    assert (renewal.due_on, renewal.next_notice_on) == (date(2025, 6, 30), date(2025, 4, 7))  # twelve weeks ahead
    assert (audit.due_on, audit.next_notice_on) == (date(2025, 9, 1), date(2025, 6, 9))  # three-yearly
    sweep.sweep_due(services, at("2025-04-07"))
    (notice,) = outbox(services, "accreditation_due")
    assert (notice.recipient_email, notice.payload["what"], notice.payload["valid_until"]) == (
        "info@deeik.example", "valid_until", "2025-06-30")
    assert notice.subject == "NHG-praktijkaccreditering van Praktijk De Eik: loopt af op 30 juni 2025"
    # renewed after a new audit: both duties met, the next ones planned from the new days
    record_accreditation(services, EIK, Accreditation(valid_until=date(2028, 6, 30), audited_on=date(2025, 5, 20)),
                         at("2025-05-20", 16), "user:a.jansen")
    assert {obligation(services, r.key).status for r in (renewal, audit)} == {"done"}
    assert obligation(services, f"nhg_accreditation:{EIK}:audit:2025-05-20").due_on == date(2028, 5, 19)
    sweep.sweep_due(services, at("2025-06-09"))
    assert len(outbox(services, "accreditation_due")) == 1  # the old audit's notice is not sent


def test_status_shows_the_quality_system_of_each_practice_in_one_line(services: Services) -> None:
    care_group(services)
    record_checklist(services, LINDE, date(2024, 6, 10), HALF_WAY, at("2024-06-10", 16), "user:a.jansen")
    record_accreditation(services, LINDE, Accreditation(valid_until=date(2026, 3, 31)), at("2024-06-10", 16), "x")
    record_peer_review(services, LINDE, PeerReviewGroup(group="Toetsgroep Oost", ekc="R. Visser"),
                       at("2024-06-10", 16), "user:a.jansen")
    lines = {line.agb_code: line for line in queries.status(services)}
    assert lines[LINDE].quality_system == ("checklist 2024-06-10: 2 open (policy_plan, peer_review_group); "
                                           "NHG tot 2026-03-31; toetsgroep Toetsgroep Oost (EKC R. Visser)")
    assert lines[EIK].quality_system is None  # nothing of it recorded: no line of "nothing" either
    assert lines[LINDE].as_json()["quality_system"] == lines[LINDE].quality_system


def test_a_checklist_or_audit_that_cannot_be_is_refused_and_nothing_is_stored(services: Services) -> None:
    care_group(services)
    before = stored(services)
    with pytest.raises(QualitySystemInFutureError, match="--on"):
        record_checklist(services, LINDE, date(2024, 6, 11), HALF_WAY, at("2024-06-10", 16), "x")
    with pytest.raises(UnknownPracticeError):
        record_checklist(services, "99999999", date(2024, 6, 10), HALF_WAY, at("2024-06-10", 16), "x")
    with pytest.raises(QualitySystemInFutureError, match="--audited-on"):
        record_accreditation(services, EIK, Accreditation(valid_until=date(2027, 1, 1), audited_on=date(2024, 7, 1)),
                             at("2024-06-10", 16), "x")
    with pytest.raises(AuditDateError, match="--audited-on"):
        record_accreditation(services, EIK, Accreditation(valid_until=date(2024, 1, 1), audited_on=date(2024, 2, 1)),
                             at("2024-06-10", 16), "x")
    assert stored(services) == before
    record_checklist(services, LINDE, date(2024, 6, 10), HALF_WAY, at("2024-06-10", 16), "x")
    record_checklist(services, LINDE, date(2024, 6, 10), HALF_WAY, at("2024-06-10", 17), "x")  # again: no change
    with pytest.raises(ChecklistConflictError, match="al een andere checklist"):
        record_checklist(services, LINDE, date(2024, 6, 10), checklist(), at("2024-06-10", 18), "x")
    (linde,) = quality_systems(services, LINDE)
    assert linde.checklist is not None and linde.checklist.checklist == HALF_WAY
