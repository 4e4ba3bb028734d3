"""Every message kind composed from the same facts gives the same message as before composing moved to
``notifications``: key, kind, recipient, subject and payload JSON byte for byte (``golden/messages.json``).

The golden file was written by the code before the move (``domain.messages.board_messages``,
``notifications.notices``, the dicts of ``flows.services.due_notices``, ``digest`` and ``outbox``, commit
b468bbc), from the facts below. A changed payload must be a conscious decision: regenerate with
``QC_UPDATE_GOLDEN=1`` and review the diff, as with the golden histories.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from domain import indicators as ind
from domain.clock import AMSTERDAM
from domain.messages import OutboxMessage
from domain.obligations import Obligation, ObligationKind
from domain.policy import Policy
from domain.registry import CareGroup, Person, Practice, Programme, Registry, Role
from domain.trajectory import (
    BoardNotificationRequested,
    TrajectoryState,
    TrajectoryTransitioned,
    TrajectoryView,
    Trigger,
)
from notifications.payloads import AgreementLine, GoalLine, Visit

GOLDEN = Path(__file__).parent / "golden" / "messages.json"
CARE_GROUP = "Cohaesie"
LINDE, EIK = "01234567", "07654321"
DM2 = Programme.DM2
HBA1C, FOOT, BP = (ind.IndicatorKey(DM2, code) for code in ("hba1c_measured", "foot_exam", "bp_measured"))


# --- the facts (domain values only, so that the code before the move can compose from them too) --------------

def practices() -> tuple[Practice, Practice]:
    linde = Practice(agb_code=LINDE, name="Huisartsenpraktijk De Linde", gp_group="HAGRO-WEST",
                     email="praktijk@delinde.example", programmes={DM2: date(2023, 1, 1)}, people=(
                         Person(name="C. Bakker", role=Role.GP_PRINCIPAL, email="c.bakker@delinde.example"),
                         Person(name="D. Mulder", role=Role.POH_CHRONIC, email="d.mulder@delinde.example"),
                         Person(name="E. Kok", role=Role.POH_ELDERLY),
                         Person(name="F. Visser", role=Role.PRACTICE_MANAGER, email="f.visser@delinde.example"),
                     ))
    eik = Practice(agb_code=EIK, name="Huisartsenpraktijk De Eik", programmes={DM2: date(2024, 1, 1)},
                   people=(Person(name="G. de Wit", role=Role.DOCTORS_ASSISTANT),
                           Person(name="H. Bos", role=Role.NURSE)))
    return linde, eik


OFFICERS = (Person(name="A. Jansen", role=Role.OFFICER, email="a.jansen@cohaesie.example"),
            Person(name="P. de Boer", role=Role.OFFICER, email="p.deboer@cohaesie.example"),
            Person(name="Q. Zonder", role=Role.OFFICER))
# the officers assigned to De Linde, in their order (flows.services.officers): the first organises
ASSIGNED = (OFFICERS[2], OFFICERS[0])
BOARD = (Person(name="B. de Vries", role=Role.BOARD, email="bestuur@cohaesie.example"),
         Person(name="C. Smit", role=Role.BOARD))


def registry(officers: tuple[Person, ...] = OFFICERS, care_group_email: str | None = "info@cohaesie.example"
             ) -> Registry:
    return Registry(care_group=CareGroup(name=CARE_GROUP, email=care_group_email), officers=officers,
                    board=BOARD, practices=practices())


def figures(agb_code: str = LINDE) -> ind.IndicatorFigures:
    catalogue = [
        ind.IndicatorDefinition(programme=DM2, indicator="hba1c_measured", name="HbA1c gemeten in 12 maanden",
                                kind=ind.IndicatorKind.PROCESS, main=True),
        ind.IndicatorDefinition(programme=DM2, indicator="foot_exam", name="Voetonderzoek",
                                kind=ind.IndicatorKind.PROCESS, main=True),
        ind.IndicatorDefinition(programme=DM2, indicator="bp_measured", name="Bloeddruk gemeten",
                                kind=ind.IndicatorKind.PROCESS),
    ]
    targets = [ind.Target(programme=DM2, indicator="hba1c_measured", target=90),
               ind.Target(programme=DM2, indicator="bp_measured", target=85.5)]
    averages = [ind.NationalAverage(programme=DM2, indicator="hba1c_measured", year=2024, national_average=92)]
    scores = [ind.IndicatorScore(agb_code=agb_code, programme=DM2, indicator=key.indicator, period_end=end,
                             numerator=n, denominator=200)
              for end, values in ((date(2024, 3, 31), (120, 150, 170)), (date(2025, 3, 31), (129, 163, 171)))
              for key, n in zip((HBA1C, FOOT, BP), values, strict=True)]
    return ind.IndicatorFigures.build(catalogue, targets, averages, scores)


def obligation(kind: ObligationKind, agb_code: str | None, subject: str, due: date, planned: date | None = None,
               **details: Any) -> Obligation:
    return Obligation(key=f"{kind.value}:{agb_code or 'zorggroep'}:{subject}:{due.isoformat()}", kind=kind,
                      agb_code=agb_code, subject=subject, anchor_on=date(2024, 1, 1), due_on=due, planned_on=planned,
                      details=details)


ANNUAL = obligation(ObligationKind.ANNUAL_CONVERSATION, LINDE, "cycle", date(2025, 11, 14), date(2025, 11, 4))
START = obligation(ObligationKind.START_CONVERSATION, EIK, "dm2", date(2024, 3, 1))
EXTRA = obligation(ObligationKind.EXTRA_CONVERSATION, LINDE, "cycle", date(2024, 5, 1), date(2024, 4, 29))
POH_MEETING = obligation(ObligationKind.POH_MEETING, None, "1", date(2025, 3, 12))
PM_MEETING = obligation(ObligationKind.PRACTICE_MANAGER_MEETING, None, "2", date(2025, 6, 11))
KIT = obligation(ObligationKind.INSTRUCTION_KIT, LINDE, "inhalation", date(2026, 3, 2), last_refreshed_on="2024-03-01")
NEW_KIT = obligation(ObligationKind.INSTRUCTION_KIT, EIK, "insulin", date(2026, 3, 2), last_refreshed_on=None)
COURSE = obligation(ObligationKind.MANDATORY_COURSE, LINDE, "D. Mulder|caspir", date(2026, 1, 30),
                    person="D. Mulder", role="poh_chronic", course="caspir", last_completed_on="2023-01-20",
                    course_name="Caspir-cursus (spirometrie bij astma en COPD)",
                    course_url="https://www.cohaesie.nl/scholingen")
GONE = obligation(ObligationKind.MANDATORY_COURSE, LINDE, "X|caspir", date(2026, 1, 30),
                  person="X", role="poh_chronic", course="caspir", last_completed_on=None)
PLAN = (("Oproepsysteem inrichten", "Coaching on the job"), date(2024, 11, 12))

_REASON = {"rule": "progress", "programme": "dm2", "indicator": "hba1c_measured", "period_end": "2025-03-31",
           "score": 64.5, "numerator": 129, "denominator": 200, "reference": "target", "reference_value": 90.0,
           "reference_year": None, "threshold": 90.0, "baseline_period_end": "2024-03-31", "baseline_score": 60.0,
           "improvement_points": 4.5, "explanation": "dm2/hba1c_measured: nu 64,5%",
           "name": "HbA1c gemeten in 12 maanden", "national_average": 92.0, "national_average_year": 2024}


def events() -> list[tuple[TrajectoryTransitioned, list[BoardNotificationRequested]]]:
    at = datetime(2025, 5, 5, 7, 0, tzinfo=AMSTERDAM)

    def event(seq: int, trigger: Trigger, from_state: TrajectoryState, to_state: TrajectoryState,
              reasons: tuple[dict[str, Any], ...], *kinds: str) -> tuple[TrajectoryTransitioned,
                                                                     list[BoardNotificationRequested]]:
        e = TrajectoryTransitioned(agb_code=LINDE, seq=seq, at=at.replace(month=seq), trigger=trigger,
                                   from_state=from_state, to_state=to_state, actor="engine", reasons=reasons)
        return e, [BoardNotificationRequested(kind=k, agb_code=LINDE, seq=seq) for k in kinds]

    policy, plan = TrajectoryState.UNDERPERFORMER_POLICY, TrajectoryState.IMPROVEMENT_PLAN
    return [
        event(5, Trigger.ESCALATE, plan, policy, ({**_REASON, "rule": "underperformer"},), "board_escalation"),
        event(6, Trigger.REPORT_PROGRESS, policy, policy, (_REASON, {"explanation": "geen indicator"}),
              "board_progress"),
        event(8, Trigger.RECOVER, policy, TrajectoryState.ANNUAL_CYCLE, ({**_REASON, "rule": "recovered"},),
              "board_recovery"),
        event(7, Trigger.LEAVE, policy, TrajectoryState.LEFT, ({"explanation": "praktijk gestopt"},), "board_left"),
    ]


def trajectories() -> list[TrajectoryView]:
    return [
        TrajectoryView(agb_code=LINDE, state=TrajectoryState.UNDERPERFORMER_POLICY, flagged=(HBA1C, BP),
                       plan_agreed_on=date(2024, 4, 29), entered_policy_at=datetime(2025, 5, 5, 7, tzinfo=AMSTERDAM)),
        TrajectoryView(agb_code=EIK, state=TrajectoryState.UNDERPERFORMER_POLICY, flagged=(HBA1C,)),
    ]


HELD = [
    OutboxMessage(key="kit_refresh_due:01234567:inhalation:2026-03-02:-Huisartsenpraktijk De Linde",
                  kind="kit_refresh_due", agb_code=LINDE, recipient_name="Huisartsenpraktijk De Linde",
                  recipient_email=None, recipient_role="practice", subject="De kit"),
    OutboxMessage(key="training_due:01234567:poh_elderly:E. Kok:caspir:2026-01-30", kind="training_due",
                  agb_code=LINDE, recipient_name="E. Kok", recipient_email=None, recipient_role="poh_elderly",
                  subject="Verplichte scholing"),
    OutboxMessage(key="board_digest:2025-07-01:-C. Smit", kind="board_digest", agb_code=None,
                  recipient_name="C. Smit", recipient_email=None, recipient_role="board", subject="Overzicht"),
    OutboxMessage(key="missing_address:x", kind="missing_address", agb_code=None, recipient_name="A. Jansen",
                  recipient_email=None, recipient_role="officer", subject="Bericht niet verstuurd"),
]


# --- composing, as the services do today --------------------------------------------------------------------

def compose_all() -> dict[str, list[OutboxMessage]]:
    from domain.rules.escalation import assess_progress
    from notifications import compose

    linde, eik = practices()
    policy = Policy()
    prepare = compose.PreparationFacts(figures(), date(2025, 10, 1), *PLAN, min_denominator=policy.min_denominator)
    no_plan = compose.PreparationFacts(figures(EIK), date(2024, 2, 1), min_denominator=policy.min_denominator)
    out: dict[str, list[OutboxMessage]] = {
        "invitation annual": compose.conversation_messages("invitation", ANNUAL, linde, ASSIGNED, CARE_GROUP, policy,
                                                           prepare, sequence=2),
        "invitation start, no attendees": compose.conversation_messages("invitation", START, eik, OFFICERS[:1],
                                                                        CARE_GROUP, policy, no_plan),
        "invitation extra, no officers": compose.conversation_messages("invitation", EXTRA, linde, (), CARE_GROUP,
                                                                       policy),
        "reminder": compose.conversation_messages("reminder", ANNUAL, linde, ASSIGNED, CARE_GROUP, policy, no_plan),
        "overdue": compose.conversation_messages("overdue", ANNUAL, linde, ASSIGNED, CARE_GROUP, policy,
                                                 state="underperformer_policy", last_held_on=date(2024, 11, 12)),
        "overdue, no officers": compose.conversation_messages("overdue", START, eik, (), CARE_GROUP, policy),
        "meeting poh": compose.meeting_messages(POH_MEETING, [linde, eik], OFFICERS, CARE_GROUP, policy, sequence=1),
        "meeting managers, no officers": compose.meeting_messages(PM_MEETING, [linde, eik], (), CARE_GROUP, policy),
        "kit": compose.kit_messages(KIT, linde, ASSIGNED, CARE_GROUP),
        "kit, first time, no officers": compose.kit_messages(NEW_KIT, eik, (), CARE_GROUP),
        "course": compose.training_messages(COURSE, linde, CARE_GROUP),
        "course, person gone": compose.training_messages(GONE, linde, CARE_GROUP),
        "course overdue": compose.training_overdue_messages(COURSE, linde, CARE_GROUP),
        "course overdue, person gone": compose.training_overdue_messages(GONE, linde, CARE_GROUP),
    }
    for event, effects in events():
        out[f"board {event.trigger.value}"] = compose.board_messages(effects, event, linde, BOARD, date(2024, 4, 29),
                                                                     progress_every_months=3)
    event, effects = events()[0]
    out["board, no members, no plan"] = compose.board_messages(effects, event, linde, (), None)
    views = trajectories()
    facts = [compose.TrajectoryFacts(p, v, figures(p.agb_code),
                                     assess_progress(figures(p.agb_code), v.flagged, v.plan_agreed_on,
                                                     date(2025, 6, 30)))
             for p, v in zip((linde, eik), views, strict=True)]
    goal = GoalLine(programme="dm2", indicator="hba1c_measured", name="HbA1c gemeten", target=90, by=date(2025, 9, 30),
                    status="not_met", score=84.0, numerator=168, denominator=200, period_end=date(2025, 9, 30),
                    interval_low=78.3, interval_high=88.4)
    open_goal = GoalLine(programme="dm2", indicator="foot_exam", name=None, target=80, by=date(2026, 6, 30),
                         status="open")
    given = AgreementLine(id="8b1e0c2d4f6a", text="Coaching POH", owner="care_group", due=date(2025, 3, 31),
                          made_on=date(2024, 11, 12), proposed_outcome="met",
                          support_done=[Visit(what="support", kind="coaching", on=date(2025, 3, 4), half_days=2)])
    mine = AgreementLine(id="1a2b3c4d5e6f", text="Voetonderzoek plannen", owner="practice", due=None,
                         made_on=date(2024, 11, 12))
    out["invitation annual, open agreements and goals"] = compose.conversation_messages(
        "invitation", ANNUAL, linde, OFFICERS, CARE_GROUP, policy,
        replace(prepare, open_agreements=(given, mine), goals=(goal, open_goal)), sequence=2)
    out["goal judged"] = compose.goal_judged_messages(goal, "reden", date(2024, 11, 12), "3f2a9c1d7e4b", linde,
                                                      OFFICERS[:2], CARE_GROUP)
    out["agreement overdue, practice's"] = compose.agreement_overdue_messages(mine, linde, OFFICERS[:2], CARE_GROUP)
    out["agreement overdue, care group's"] = compose.agreement_overdue_messages(given, linde, OFFICERS[:2],
                                                                                CARE_GROUP)
    out["agreement overdue, care group's, no officers"] = compose.agreement_overdue_messages(given, eik, (),
                                                                                             CARE_GROUP)
    event, effects = events()[1]
    out["board progress, goals"] = compose.board_messages(effects, event, linde, BOARD, date(2024, 4, 29),
                                                          goals=(goal, open_goal))
    out["digest"] = compose.digest_messages(date(2025, 4, 1), date(2025, 6, 30), 3, facts, BOARD, CARE_GROUP,
                                            policy.min_denominator)
    from domain.mirror_meetings import mirror_pack
    from domain.registry import Ekc, GpGroup

    both = figures(LINDE).with_scores(figures(LINDE).scores + figures(EIK).scores)
    group = GpGroup(code="HAGRO-WEST", name="Hagro West", ekc=Ekc(name="R. Visser", email="ekc@hagrowest.example"))
    mirror = obligation(ObligationKind.MIRROR_MEETING, None, "HAGRO-WEST", date(2025, 4, 28), date(2025, 4, 22))
    for anonymise in (False, True):
        pack = mirror_pack([(linde.agb_code, linde.name), (eik.agb_code, eik.name)], both, date(2025, 4, 1), policy,
                           anonymise)
        out[f"mirror meeting, anonymised {anonymise}"] = compose.mirror_meeting_messages(
            mirror, group, [linde, eik], pack, OFFICERS[0], CARE_GROUP, policy, sequence=1)
    out["mirror meeting, no figures, no officer"] = compose.mirror_meeting_messages(
        mirror, group, [linde], mirror_pack([], both, date(2025, 4, 1), policy, False), None, CARE_GROUP, policy)
    attended = [("gp_principal", "C. Bakker"), ("officer", "A. Jansen")]
    out["accreditation request"] = compose.mirror_accreditation_messages(
        "3b9f0a1c2d4e", group, date(2025, 4, 22), attended, "R. Visser", OFFICERS[0], CARE_GROUP)
    out["accreditation request, another ekc, nobody asking"] = compose.mirror_accreditation_messages(
        "3b9f0a1c2d4e", group, date(2025, 4, 22), attended, "S. Ander", None, CARE_GROUP)
    out["digest, empty, no board"] = compose.digest_messages(date(2025, 1, 1), date(2025, 12, 31), 12, [], (),
                                                             CARE_GROUP)
    from domain.quality_system import Checklist, FilledChecklist

    answers = {c: {"answer": "yes"} for c in ("team_meetings", "quality_initiator", "regular_evaluation",
                                              "competence_review", "planned_improvement", "complaints_procedure",
                                              "nhg_accreditation", "gp_group")}
    answers |= {"policy_plan": {"answer": "partly", "note": "jaarverslag 2024 ontbreekt"},
                "peer_review_group": {"answer": "no"}}
    filled = FilledChecklist(LINDE, date(2025, 1, 20), Checklist.model_validate({"answers": answers}))
    out["invitation annual, checklist"] = compose.conversation_messages(
        "invitation", ANNUAL, linde, ASSIGNED, CARE_GROUP, policy, replace(prepare, checklist=filled), sequence=2)
    checklist_due = obligation(ObligationKind.PRACTICE_CHECKLIST, LINDE, "annual", date(2025, 9, 30),
                               conversation_on="2025-11-04", last_filled_on="2025-01-20")
    out["checklist due"] = compose.checklist_messages(checklist_due, linde, filled, CARE_GROUP)
    out["checklist due, first, no address"] = compose.checklist_messages(checklist_due, eik, None, CARE_GROUP)
    lapse = obligation(ObligationKind.NHG_ACCREDITATION, LINDE, "valid_until", date(2026, 3, 31),
                       valid_until="2026-03-31", audited_on="2023-05-10")
    audit = obligation(ObligationKind.NHG_ACCREDITATION, EIK, "audit", date(2026, 5, 8), valid_until="2027-01-01",
                       audited_on=None)
    out["accreditation lapses"] = compose.accreditation_messages(lapse, linde, CARE_GROUP)
    out["accreditation audit, no address"] = compose.accreditation_messages(audit, eik, CARE_GROUP)
    from domain.cards import CardSet, FolderStanding, Leaflet

    cards = CardSet(version="2026.1", published_on=date(2026, 3, 2), note="Kaart inhalatie-instructie herzien",
                    recorded_at=datetime(2026, 3, 2, 9, 0, tzinfo=AMSTERDAM), actor="officer")
    out["cards published"] = compose.cards_published_messages(cards, date(2026, 4, 13), [(linde, "2025.2"),
                                                                                       (eik, None)], CARE_GROUP)
    out["cards published, no note"] = compose.cards_published_messages(replace(cards, note=None), date(2026, 4, 13),
                                                                        [(linde, None)], CARE_GROUP)
    behind = [(linde, FolderStanding(LINDE, "2025.2", date(2025, 10, 6), "2026.1", date(2026, 3, 2))),
              (eik, FolderStanding(EIK, None, None, "2026.1", date(2025, 9, 1)))]
    out["cards behind"] = compose.cards_behind_messages(cards, date(2026, 4, 13), behind, OFFICERS[:2], CARE_GROUP)
    out["cards behind, no officers"] = compose.cards_behind_messages(cards, date(2026, 4, 13), behind[:1], (),
                                                                     CARE_GROUP)
    out["cards behind, nobody behind"] = compose.cards_behind_messages(cards, date(2026, 4, 13), [], OFFICERS,
                                                                       CARE_GROUP)
    plan_due = obligation(ObligationKind.NETWORK_PLAN_EVALUATION, None, "HAGRO-WEST", date(2026, 5, 6),
                          agreed_on="2025-05-06")
    again_due = obligation(ObligationKind.NETWORK_PLAN_EVALUATION, None, "HAGRO-WEST", date(2027, 5, 4),
                           agreed_on="2025-05-06", last_evaluated_on="2026-05-04")
    partners = [("Thuiszorg De Wijk", "district_nursing"), ("Gemeente Westerveld", "municipality")]
    out["network plan due"] = compose.network_plan_messages(plan_due, group, [linde, eik], partners, CARE_GROUP)
    out["network plan due, evaluated before"] = compose.network_plan_messages(again_due, group, [linde], partners,
                                                                              CARE_GROUP)
    leaflet = Leaflet(programme=DM2, title="Diabetes type 2: wat kunt u zelf doen?",
                      url="https://www.cohaesie.nl/folders/dm2.pdf")
    out["invitation annual, leaflets"] = compose.conversation_messages(
        "invitation", ANNUAL, linde, ASSIGNED, CARE_GROUP, policy, replace(prepare, leaflets=(leaflet,)), sequence=2)
    for i, held in enumerate(HELD):
        out[f"missing address {i}"] = compose.missing_address_messages(held, f"reden {i}", registry())
        out[f"refused address {i}"] = compose.missing_address_messages(held, f"reden {i}", registry(),
                                                                       refused="fout@delinde.example")
    out["missing address, no officer addresses"] = compose.missing_address_messages(
        HELD[0], "reden", registry(officers=OFFICERS[2:]))
    out["missing address, nobody"] = compose.missing_address_messages(
        HELD[0], "reden", registry(officers=(), care_group_email=None))
    return out


def as_json(messages: dict[str, list[OutboxMessage]]) -> dict[str, list[str]]:
    """Each message as the outbox stores it, one JSON line (field order kept: byte for byte)."""
    return {name: [json.dumps({"key": m.key, "kind": m.kind, "agb_code": m.agb_code,
                               "recipient_name": m.recipient_name, "recipient_email": m.recipient_email,
                               "recipient_role": m.recipient_role, "subject": m.subject, "payload": m.payload},
                              ensure_ascii=False)
                   for m in found]
            for name, found in messages.items()}


def test_every_kind_composes_the_messages_it_always_did() -> None:
    produced = as_json(compose_all())
    if os.environ.get("QC_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(produced, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(produced) == sorted(golden)
    for name in golden:
        assert produced[name] == golden[name], name
    kinds = {json.loads(line)["kind"] for lines in golden.values() for line in lines}
    from notifications.rendering import KINDS

    assert kinds == set(KINDS)  # every kind is held to its JSON


def test_a_payload_is_its_typed_model_dumped() -> None:
    """The stored JSON of every kind reads back into its model and dumps to the same JSON: the model is the
    schema (and ``MODELS`` names one for every kind rendering knows)."""
    from notifications.payloads import MODELS, payload
    from notifications.rendering import KINDS

    assert set(MODELS) == set(KINDS)
    for m in (m for messages in compose_all().values() for m in messages):
        assert payload(MODELS[m.kind].model_validate(m.payload)) == m.payload, m.key
