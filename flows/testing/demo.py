"""The demo: a sample care group run through simulated years on SQLite, week by week.

Deterministic (seeded): the same command prints the same table. Each Monday at 06:00 the
care group's duties run as the schedule declares them (``flows/schedule.py``: sweep, meetings,
kits, board digest), then the outbox is dispatched to ``.eml`` files in the demo's outbox folder:
invitations with calendar invites, reminders, overdue notices, meeting invitations, kit and
course notices, and the board's escalations and digests. Quarterly indicator figures are published
five weeks after the quarter ends (as the indicator dashboard refreshes). Officers record each
conversation the Monday after the day it was planned for (an extra conversation with an improvement
plan; one practice's annual conversation slips past its due date and is recorded late); kits are
refreshed on their due date and most people complete their mandatory course in time. Practices follow profiles: steady,
a dip that recovers, a slow decline, an improver, a late dip, and underperformers who do not improve.
National averages are the illustrative sample values (``flows/testing/samples``), not real figures.
"""

from __future__ import annotations

import random
import shutil
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta

from domain.accounts import ACCOUNT_ROLE_NAMES_NL, AccountRole
from domain.clock import AMSTERDAM
from domain.conversations import Agreement, Attendee, ConversationReport, Evaluation, Goal
from domain.mirror_meetings import ACCREDITATION_NAMES_NL, Accreditation, MirrorState
from domain.neighbourhood import CountKind, NetworkMeetingKind, Quarter
from domain.obligations import CONVERSATION_KINDS, KitKind, ObligationKind
from domain.quality_system import Accreditation as NhgAccreditation
from domain.quality_system import Answer, Checklist, Condition, ConditionAnswer, PeerReviewGroup, conditions_for
from domain.registry import Programme, Role
from domain.rules.attendance import MEETING_ROLES
from domain.support import SupportState
from domain.trajectory import TrajectoryState
from domain.vocabulary import (
    MEETING_NAMES_NL,
    OUTCOME_NAMES_NL,
    STATE_NAMES_NL,
    SUPPORT_NAMES_NL,
    AgreementOwner,
    Outcome,
    SupportKind,
    goal_status_nl,
)
from flows.services import (
    accounts,
    cards,
    context,
    digest,
    kits_and_courses,
    meetings,
    mirror_meetings,
    neighbourhood,
    planning,
    quality_system,
    queries,
    support,
    sweep,
    training,
)
from flows.services.duties import DEFAULT_BATCH
from flows.services.outbox import dispatch_outbox
from flows.services.run_report import kinds_text
from flows.testing.scenario import FULL_ATTENDANCE, Scenario
from notifications.channels import EmlFolderChannel
from readers.files import parse_courses, parse_partners
from storage import obligations as store
from storage import repository as repo
from storage.database import sqlite_url
from storage.read_models import StoredObligation

START = date(2024, 1, 1)
MAIL_FROM = "kwaliteit@zorggroep.example"
PUBLICATION_LAG = timedelta(days=35)
DUTY_HOUR = time(6, 0)
MISSING_POH = (Attendee(role=Role.GP_PRINCIPAL, name="Huisarts"), Attendee(role=Role.OFFICER, name="Functionaris 1"))
NAMES = ["De Linde", "De Eik", "Het Anker", "De Brug", "Zuiderpoort", "De Wilgen", "Kastanjehof", "De Meent",
         "Het Gastmeer", "De Kroeven", "Rozenburg", "De Vaart", "Het Baken", "De Schakel", "Molenzicht", "De Hoeve"]
GROUPS = ["HAGRO-NOORD", "HAGRO-ZUID", "HAGRO-WEST"]
PROFILES = ["steady", "underperformer", "dip_recover", "slow_decline", "improver", "late_dip"]
TARGETS = {  # the sample targets, for generating plausible figures
    "dm2/hba1c_measured": 90, "dm2/bp_measured": 90, "dm2/ldl_measured": 85, "dm2/egfr_measured": 85,
    "dm2/foot_exam": 80, "copd/smoking_recorded": 85, "copd/burden_measured": 75, "copd/inhaler_checked": 75,
    "cvrm/bp_measured": 85, "cvrm/ldl_measured": 80, "elderly/frailty_recorded": 60, "elderly/acp_recorded": 40,
}


@dataclass(frozen=True)
class DemoResult:
    status: list[queries.StatusLine]
    summary: str
    database: Path


def _value(profile: str, key: str, quarter: int, rng: random.Random) -> float:
    """A practice's score for a quarter (0 = the period ending 2023-12-31)."""
    steady = min(99.0, TARGETS[key] + 4 + rng.uniform(-2, 2))
    if profile == "underperformer" and key in ("dm2/hba1c_measured", "dm2/foot_exam") and quarter >= 1:
        return 58 + 0.2 * quarter + rng.uniform(-0.5, 0.5)
    if profile == "dip_recover" and key == "dm2/hba1c_measured" and quarter >= 1:
        return min(94.0, 64 + 6 * (quarter - 1))
    if profile == "improver" and key == "dm2/hba1c_measured" and quarter >= 1:
        return min(93.0, 62 + 2.2 * (quarter - 1))
    if profile == "slow_decline" and key == "dm2/hba1c_measured" and quarter >= 1:
        # slides a few points a quarter: a stricter deviation threshold would flag it a quarter or two earlier
        return max(70.0, 88 - 3.4 * quarter)
    if profile == "late_dip" and key == "copd/inhaler_checked" and quarter >= 5:
        return 50 + 0.3 * (quarter - 5) + rng.uniform(-0.5, 0.5)
    return steady


FIRST = ["A.", "B.", "C.", "D.", "E.", "F.", "G.", "H.", "J.", "K."]
LAST = ["Bakker", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "Dekker", "Brouwer", "Smit", "Meijer"]


def _people(i: int) -> dict[str, str]:
    """A practice's people by role; one POH elderly care has no e-mail address (held, officers told)."""
    def person(n: int) -> str:
        name = f"{FIRST[(i + n) % len(FIRST)]} {LAST[(3 * i + n) % len(LAST)]}"
        return f"{name} <{name.split()[-1].lower()}{i + 1}.{n}@praktijk{i + 1}.example>"
    elderly = person(3) if i != 4 else f"{FIRST[(i + 3) % len(FIRST)]} {LAST[(3 * i + 3) % len(LAST)]}"
    return {"gp_principal": person(1), "poh_chronic": person(2), "poh_elderly": elderly,
            "practice_manager": person(4)}


def _name(i: int) -> str:
    suffix = f" {i // len(NAMES) + 1}" if i >= len(NAMES) else ""
    return f"Huisartsenpraktijk {NAMES[i % len(NAMES)]}{suffix}"


DEMO_PASSWORD = "demo-wachtwoord-2026"  # the demo's only: a care group makes its own accounts (qualitycycle user add)
DEMO_LOGINS = (("functionaris", AccountRole.OFFICER, None), ("bestuur", AccountRole.BOARD, None),
               ("beheer", AccountRole.ADMIN, None), ("praktijk", AccountRole.PRACTICE, "01000002"))


def run_demo(folder: Path, years: int = 3, practices: int = 12, *, full_review: bool = False,
             batch_size: int = DEFAULT_BATCH, workers: int = 1) -> DemoResult:
    """Run the demo into ``folder``; ``full_review`` makes every sweep review every practice instead of only
    those whose facts or deadlines moved, ``workers`` spreads each sweep's batches of ``batch_size`` over that many
    processes (the same outcome either way: the tests compare them)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    database = folder / "qualitycycle.db"
    services = context.Services.open(sqlite_url(database))
    codes = [f"0100{i + 1:04d}" for i in range(practices)]
    profile = {agb: PROFILES[i % len(PROFILES)] for i, agb in enumerate(codes)}
    description = {
        "care_group": "Zorggroep Voorbeeld",
        "board": ["B. de Vries <bestuur@zorggroep.example>", "M. Visser <m.visser@zorggroep.example>"],
        "officers": ["A. Jansen <a.jansen@zorggroep.example>", "P. de Boer <p.deboer@zorggroep.example>"],
        # the GP group that asks for a mirror meeting names its EKC and sees its pack anonymised
        "gp_groups": {MIRROR_GROUP: {"ekc": "R. Visser <ekc@hagro-west.example>", "anonymise_mirror": True}},
        "practices": {
            agb: {"name": _name(i),
                  "gp_group": GROUPS[i % len(GROUPS)],
                  "email": f"praktijk{i + 1}@praktijk.example",
                  "programmes": {"dm2": "2024-01-01", "cvrm": "2024-01-01", "elderly": "2024-01-01",
                                 **({"copd": "2024-01-01"} if profile[agb] in ("late_dip", "steady") else {})},
                  "people": _people(i)}
            for i, agb in enumerate(codes)
        },
    }
    sc = Scenario.build(services, description, start=START)
    outbox = EmlFolderChannel(folder / "outbox")
    sc.actor = "demo:functionaris"
    end = START + relativedelta(years=years) - timedelta(days=1)
    rngs = {agb: random.Random(f"{agb}-{profile[agb]}") for agb in codes}
    quarters = []
    period = date(2023, 12, 31)
    while period <= end:
        quarters.append(period)
        period = (period + timedelta(days=1) + relativedelta(months=3)) - timedelta(days=1)
    published: set[date] = set()

    monday = START + timedelta(days=(7 - START.weekday()) % 7)
    late = codes[2]  # this practice's annual conversation slips: the officers get an overdue notice
    while monday <= end:
        for q, period_end in enumerate(quarters):
            if period_end not in published and period_end + PUBLICATION_LAG <= monday:
                sc.scores(period_end, {
                    agb: {key: _value(profile[agb], key, q, rngs[agb]) for key in TARGETS
                          if key.split("/")[0] in description["practices"][agb]["programmes"]}  # type: ignore[index]
                    for agb in codes
                })
                published.add(period_end)
        moment = datetime.combine(monday, DUTY_HOUR, tzinfo=AMSTERDAM)
        sweep.sweep_due(services, moment, full=full_review, batch_size=batch_size, workers=workers)
        planning.plan_meetings(services, moment)
        kits_and_courses.refresh_kits(services, moment, full=full_review)
        digest.board_digest(services, moment)
        dispatch_outbox(services, outbox, moment, mail_from=MAIL_FROM)
        sc.clock.set(datetime.combine(monday, time(9, 0), tzinfo=AMSTERDAM))
        _officers_record_last_week(sc, services, monday, late)
        monday += timedelta(days=7)
    # the workspace's demo logins (issue 15): an officer, the board, an admin and the first underperforming practice
    for login, role, agb in DEMO_LOGINS:
        accounts.add_user(services, login, role, DEMO_PASSWORD, sc.clock.now(), sc.actor,
                          agb_code=agb if agb in codes else None)
    # as the officers see it on the last day: with each part around the cycle in one line
    status = queries.status(services, now=datetime.combine(end, time(18, 0), tzinfo=AMSTERDAM))
    return DemoResult(status=status, summary=_summary(services, status, database, end), database=database)


def _officers_record_last_week(sc: Scenario, services: context.Services, monday: date, late: str) -> None:
    """What officers record on Monday morning about the week before: conversations held on their
    planned day, kits refreshed on their due date, courses completed (two of every three people)."""
    week = (monday - timedelta(days=7), monday - timedelta(days=1))
    with services.session() as s:
        rows = store.open_obligations(s)
    views = {line.agb_code: line for line in queries.status(services)}
    for row in rows:
        agb = row.agb_code
        if agb is None:
            continue
        kind = ObligationKind(row.kind)
        if kind in CONVERSATION_KINDS and row.planned_on is not None:
            held = row.planned_on
            if kind is ObligationKind.ANNUAL_CONVERSATION and agb == late and held.year == START.year + 1:
                held = row.due_on + timedelta(days=14)  # slipped: held two weeks after it was due
            if not week[0] <= held <= week[1]:
                continue
            if kind is ObligationKind.START_CONVERSATION:
                sc.conversation(agb, "start", held)
            elif kind is ObligationKind.ANNUAL_CONVERSATION:
                partial = int(agb) % 5 == 3 and held.year == START.year
                sc.conversation(agb, "annual", held, attendees=MISSING_POH if partial else FULL_ATTENDANCE,
                                report=_annual_report(services, agb, held))
            elif views[agb].state is TrajectoryState.EXTRA_CONVERSATION:
                flagged = [r for r in views[agb].reasons if "indicator" in r]
                targets = {f"{r['programme']}/{r['indicator']}": float(r["reference_value"]) - 5 for r in flagged}
                sc.conversation(agb, "extra", held, report=_plan_report(targets or {"dm2/hba1c_measured": 85}, held))
        elif kind is ObligationKind.INSTRUCTION_KIT and week[0] <= row.due_on <= week[1]:
            kits_and_courses.record_kit_refresh(services, agb, KitKind(row.subject), row.due_on, sc.clock.now(),
                                                sc.actor)
        elif kind is ObligationKind.MANDATORY_COURSE and week[0] <= row.due_on - timedelta(days=7) <= week[1]:
            person, course = row.subject.split("|", 1)
            if zlib.crc32(row.key.encode()) % 3:
                kits_and_courses.record_course_completion(services, agb, person, course, row.due_on - timedelta(days=7),
                                                          sc.clock.now(), sc.actor)
    _officers_follow_support(sc, services, week)
    _mirror_meeting(sc, services, week)
    _meetings_held(sc, services, week)
    _cards_and_quality_system(sc, services, week, rows)
    _neighbourhood(sc, services, week)


NETWORK_GROUPS = ("HAGRO-NOORD", "HAGRO-WEST")  # the GP groups with a plan; HAGRO-WEST never evaluates it
NETWORK_AGREED = date(2024, 2, 5)


def _neighbourhood(sc: Scenario, services: context.Services, week: tuple[date, date]) -> None:
    """The neighbourhood's elderly care (seed 5): each practice's core team (the second one without a district
    nurse: flagged), a six-weekly GPO for every other practice with its count each quarter (one falls one short),
    MDOs counted, two GP groups' network plans with a network meeting each spring, and HAGRO-NOORD's evaluated a
    week before it falls due (HAGRO-WEST's goes overdue)."""
    codes = sorted(queries.known_practices(services))
    now = sc.clock.now()
    if week[1] + timedelta(days=1) == START:
        for i, agb in enumerate(codes):
            people = queries.practice(services, agb).people
            team = [(p.role.value, p.name) for p in people if p.role in (Role.GP_PRINCIPAL, Role.POH_ELDERLY)]
            if i != 1:
                team.append(("district_nurse", f"W. de Vries {i + 1}"))
            neighbourhood.record_core_team(services, agb, team, START - timedelta(days=7), now, sc.actor)
            if i % 2 == 0:
                neighbourhood.set_gpo_cadence(services, agb, 6, START, now, sc.actor)
    if week[0] <= NETWORK_AGREED <= week[1]:
        for group in NETWORK_GROUPS:
            neighbourhood.agree_network_plan(services, group, parse_partners(SAMPLES / "partners.csv"), NETWORK_AGREED,
                                             now, sc.actor)
    for plan in neighbourhood.network_plans(services):
        spring = date(week[0].year, 4, 16)
        if plan.view.status.value == "agreed" and week[0] <= spring <= week[1]:
            neighbourhood.hold_network_meeting(
                services, plan.view.gp_group, NetworkMeetingKind.CASE_DISCUSSION if spring.year % 2
                else NetworkMeetingKind.NETWORK_MEETING, spring, [], [p.name for p in plan.view.partners[:2]], now,
                sc.actor, minutes="Werkafspraken over de kwetsbare ouderen in de wijk.")
        due = plan.evaluation_due
        if plan.view.gp_group == "HAGRO-NOORD" and due and week[0] <= due - timedelta(days=7) <= week[1]:
            neighbourhood.evaluate_network_plan(services, "HAGRO-NOORD", due - timedelta(days=7),
                                                "Samen met de partners geëvalueerd; valpreventie erbij.", now, sc.actor)
    first_of_quarter = Quarter.of(week[1])
    if week[0] <= first_of_quarter.start <= week[1] and first_of_quarter.start > START:
        ended = first_of_quarter.previous
        cadences = {n.agb_code: n.cadence for n in neighbourhood.neighbourhoods(services, week[1], codes).values()}
        for i, agb in enumerate(codes):
            cadence = cadences.get(agb)
            if cadence is not None:
                held = cadence.expected(ended) - (1 if i == 2 else 0)
                neighbourhood.record_count(services, agb, ended, CountKind.GPO, held, now, sc.actor)
            neighbourhood.record_count(services, agb, ended, CountKind.MDO, (i + ended.number) % 3, now, sc.actor)


def _meetings_held(sc: Scenario, services: context.Services, week: tuple[date, date]) -> None:
    """The POH and practice-manager meetings of last week recorded as held, with someone of every practice in the
    meeting's roles, except one practice whose POH never comes (its next conversation's pack says so)."""
    for line in meetings.meetings(services, week[0].year):
        if line.status != "open" or not week[0] <= line.day <= week[1]:
            continue
        roles = MEETING_ROLES[ObligationKind(line.kind)]
        came = [(status.agb_code, person.name) for status in queries.status(services)
                if not (line.kind == "poh_meeting" and status.agb_code == NEVER_AT_MEETINGS)
                for person in queries.practice(services, status.agb_code).people if person.role in roles][:40]
        meetings.hold_meeting(services, line.key, line.day, came, sc.clock.now(), sc.actor,
                              minutes="Besproken: de landelijke ontwikkelingen, die van de zorggroep en die in de "
                                      "praktijken.")


NEVER_AT_MEETINGS = "01000002"  # the POH of this practice never comes to the POH meeting

CARD_SETS = ((date(2024, 3, 4), "2024.1", "eerste set: inhalatie, insuline en voetonderzoek"),
             (date(2025, 9, 1), "2025.2", "kaarten COPD herzien na de nieuwe NHG-standaard"))
BEHIND_ON_CARDS = "01000006"  # this practice never puts the second set in its folder: the officers hear of it
BASIC_COURSE_ON = date(2024, 4, 15)  # the POH elderly care of every third practice follows the basic course
SAMPLES = Path(__file__).resolve().parent / "samples"


def _checklist(agb: str, year: int) -> Checklist:
    """Every condition met, except at one practice in four: the policy plan partly, no complaints procedure in the
    first year."""
    answers = {c: ConditionAnswer(answer=Answer.YES) for c in conditions_for(False)}
    if int(agb) % 4 == 1:
        answers[Condition.POLICY_PLAN] = ConditionAnswer(answer=Answer.PARTLY, note="jaarverslag nog niet af")
        if year == START.year:
            answers[Condition.COMPLAINTS_PROCEDURE] = ConditionAnswer(answer=Answer.NO, note="volgt dit jaar")
    return Checklist(answers=answers)


def _cards_and_quality_system(sc: Scenario, services: context.Services, week: tuple[date, date],
                              rows: list[StoredObligation]) -> None:
    """Instruction cards published and put in the practices' folders a fortnight later (one practice stays behind
    on the second set), the course catalogue imported and a basic course followed, and each practice's own quality
    system: a first checklist, NHG accreditation for half of them, the GP groups' peer review, and each next
    checklist a week before it is due."""
    codes = sorted(queries.known_practices(services))
    now = sc.clock.now()
    if week[1] + timedelta(days=1) == START:  # the first Monday: what the care group starts from
        training.import_courses(services, parse_courses(SAMPLES / "courses.csv"), now, sc.actor)
        for i, agb in enumerate(codes):
            quality_system.record_checklist(services, agb, START, _checklist(agb, START.year), now, sc.actor)
            quality_system.record_peer_review(services, agb, PeerReviewGroup(
                group=GROUPS[i % len(GROUPS)].replace("HAGRO", "Toetsgroep").replace("-", " ").title(),
                ekc="R. Visser" if GROUPS[i % len(GROUPS)] == MIRROR_GROUP else None), now, sc.actor)
            if i % 2 == 0:  # one accreditation lapses in the demo's second year: its notice goes out before
                valid = date(2025, 6, 30) if i == 0 else date(2027, 3, 31)
                quality_system.record_accreditation(services, agb, NhgAccreditation(
                    valid_until=valid, audited_on=date(2023, 4, 3)), now, sc.actor)
    for day, version, note in CARD_SETS:
        if week[0] <= day <= week[1]:
            cards.publish_cards(services, version, day, now, sc.actor, note=note)
        if week[0] <= day + timedelta(days=14) <= week[1]:
            for agb in codes:
                if not (version == CARD_SETS[-1][1] and agb == BEHIND_ON_CARDS):
                    cards.mark_cards_current(services, agb, version, day + timedelta(days=14), now, sc.actor)
    if week[0] <= BASIC_COURSE_ON <= week[1]:
        for agb in codes[::3]:
            elderly = [p.name for p in queries.practice(services, agb).people if p.role is Role.POH_ELDERLY]
            for name in elderly:
                kits_and_courses.record_course_completion(services, agb, name, "basis_poh_ouderenzorg",
                                                          BASIC_COURSE_ON, now, sc.actor)
    for row in rows:
        filled = row.due_on - timedelta(days=7)
        if row.kind == ObligationKind.PRACTICE_CHECKLIST and row.agb_code and week[0] <= filled <= week[1]:
            quality_system.record_checklist(services, row.agb_code, filled, _checklist(row.agb_code, filled.year),
                                            now, sc.actor)


MIRROR_GROUP = "HAGRO-WEST"
MIRROR_ASKED = date(2025, 3, 3)  # the GP group asks for a mirror meeting early in the second year


def _mirror_meeting(sc: Scenario, services: context.Services, week: tuple[date, date]) -> None:
    """One GP group's mirror meeting: asked for, held on its day with a GP of each of its practices, accreditation
    asked of the group's EKC and granted a fortnight later."""
    if week[0] <= MIRROR_ASKED <= week[1]:
        mirror_meetings.request_mirror_meeting(services, MIRROR_GROUP, MIRROR_ASKED, sc.clock.now(), sc.actor,
                                               by="de huisartsen van HAGRO-WEST")
    for view in mirror_meetings.mirror_meetings(services):
        if view.status is MirrorState.REQUESTED and view.planned_on and week[0] <= view.planned_on <= week[1]:
            gps = [Attendee(role=person.role, name=person.name) for line in queries.status(services)
                   if line.gp_group == view.gp_group
                   for person in queries.practice(services, line.agb_code).people if person.role is Role.GP_PRINCIPAL]
            mirror_meetings.hold_mirror_meeting(services, view.id, view.planned_on, sc.clock.now(), sc.actor,
                                                attendees=tuple(gps), accreditation=Accreditation.REQUESTED)
        elif (view.accreditation is Accreditation.REQUESTED and view.held_on
              and week[0] <= view.held_on + timedelta(days=14) <= week[1]):
            mirror_meetings.record_accreditation(services, view.id, Accreditation.GRANTED,
                                                 view.held_on + timedelta(days=14), sc.clock.now(), sc.actor)


SUPPORT_BY = {SupportKind.COACHING: "M. Coach", SupportKind.LUNG_FUNCTION: "L. Longfunctie",
              SupportKind.RECORD_REVIEW: "R. Dossier", SupportKind.RECALL_SYSTEM: "S. Oproep",
              SupportKind.CONSULTATION: "K. Kaderhuisarts"}
SUPPORT_HALF_DAYS = {SupportKind.COACHING: 2, SupportKind.LUNG_FUNCTION: 1, SupportKind.RECORD_REVIEW: 4,
                     SupportKind.RECALL_SYSTEM: 3, SupportKind.CONSULTATION: 1}


def _annual_report(services: context.Services, agb: str, held: date) -> ConversationReport:
    """An annual conversation's report (seed section 1): the open agreements evaluated (one practice in five
    leaves one unevaluated: flagged), a practice agreement and a care-group agreement with support, chosen by the
    practice and year so the demo stays the same run after run."""
    pick = zlib.crc32(f"{agb}:{held.year}".encode())
    open_ones = queries.agreements(services, agb, open_only=True)
    skip = open_ones[-1].id if open_ones and int(agb) % 5 == 1 else None
    outcomes = (Outcome.MET, Outcome.MET, Outcome.PARTLY_MET, Outcome.NOT_MET)
    evaluations = tuple(Evaluation(agreement=a.id, outcome=Outcome(a.proposed_outcome) if a.proposed_outcome
                                   else outcomes[(pick + i) % len(outcomes)])
                        for i, a in enumerate(open_ones) if a.id != skip)
    kind = list(SupportKind)[pick % len(SupportKind)]
    return ConversationReport(
        summary="Besproken: de indicatoren van de chronische zorg en de ouderenzorg, en de projecten van de zorggroep.",
        support_needs=(kind,),
        agreements=(Agreement(text="POH plant de jaarcontroles van het komende kwartaal in",
                              owner=AgreementOwner.PRACTICE, due=held + timedelta(days=120)),
                    Agreement(text=f"{SUPPORT_NAMES_NL[kind].capitalize()} voor de praktijk",
                              owner=AgreementOwner.CARE_GROUP, due=held + timedelta(days=90), support=kind)),
        evaluations=evaluations)


def _plan_report(targets: dict[str, float], held: date) -> ConversationReport:
    """An extra conversation's report: the improvement plan's goals, due in a year, and the recall system set up."""
    return ConversationReport(
        summary="Verbeterplan: de achterblijvende controles structureel oproepen.",
        agreements=(Agreement(text="Oproepsysteem inrichten voor de jaarcontroles", owner=AgreementOwner.PRACTICE,
                              due=held + timedelta(days=90), support=SupportKind.RECALL_SYSTEM),),
        goals=tuple(Goal(programme=Programme(key.split("/")[0]), indicator=key.split("/")[1], target=target,
                         by=held + timedelta(days=365)) for key, target in sorted(targets.items())))


def _officers_follow_support(sc: Scenario, services: context.Services, week: tuple[date, date]) -> None:
    """Support asked for is planned two weeks after it was asked, and given on its day (recorded the Monday
    after)."""
    for view in support.supports(services):
        if view.kind is None:
            continue
        if view.status is SupportState.REQUESTED:
            support.plan_support(services, view.id, (view.requested_on or week[1]) + timedelta(days=14),
                                 sc.clock.now(), sc.actor, by=SUPPORT_BY[view.kind])
        elif view.status is SupportState.PLANNED and view.planned_on is not None and view.planned_on <= week[1]:
            support.complete_support(services, view.id, view.planned_on, sc.clock.now(), sc.actor,
                                     half_days=SUPPORT_HALF_DAYS[view.kind])


def _follow_up_lines(services: context.Services) -> list[str]:
    """What the summary says of the human half of the cycle: reports, agreements, support and goals."""
    agreements = queries.agreements(services)
    evaluated = Counter(OUTCOME_NAMES_NL[Outcome(a.status)] for a in agreements if a.status != "open")
    flagged = sum(1 for c in queries.conversations(services) if c.agreement_gaps)
    reports = sum(1 for c in queries.conversations(services) if c.report is not None)
    given = [v for v in support.supports(services) if v.status is SupportState.DONE and v.kind is not None]
    per_kind = Counter(SUPPORT_NAMES_NL[v.kind] for v in given if v.kind is not None)
    half_days = sum(v.half_days or 0 for v in given)
    goals = Counter(goal_status_nl(g.line.status) for g in queries.goals(services))
    mirrors = [f"huisartsengroep {v.gp_group}: aangevraagd {v.requested_on}, "
               + (f"gehouden {v.held_on} met {len(v.attendees)} aanwezigen, accreditatie "
                  f"{ACCREDITATION_NAMES_NL[v.accreditation]}" if v.held_on else f"gepland {v.planned_on}")
               for v in mirror_meetings.mirror_meetings(services)]
    return [
        f"Verslagen van gesprekken: {reports}; afspraken: {len(agreements)} gemaakt, "
        + (", ".join(f"{n} {what}" for what, n in sorted(evaluated.items())) or "geen geëvalueerd")
        + f", {sum(1 for a in agreements if a.status == 'open')} nog open; "
        f"jaargesprekken met niet-geëvalueerde afspraken (gemarkeerd): {flagged}",
        f"Ondersteuning gegeven: {len(given)} keer, {half_days:g} dagdelen ("
        + ", ".join(f"{what}: {n}" for what, n in sorted(per_kind.items())) + ")",
        "Doelen: " + (", ".join(f"{what}: {n}" for what, n in sorted(goals.items())) or "geen"),
        "Spiegelbijeenkomsten: " + ("; ".join(mirrors) or "geen"),
        "Overleggen gehouden: " + ", ".join(
            f"{year}: {sum(1 for m in meetings.meetings(services, year) if m.held_on)}"
            for year in sorted({m.day.year for y in (2024, 2025, 2026) for m in meetings.meetings(services, y)}))
        + "; bij geen enkel overleg van een jaar: " + (", ".join(sorted(
            f"{a.agb_code} ({MEETING_NAMES_NL[a.kind]} {a.year})" for y in (2024, 2025, 2026)
            for a in meetings.practice_attendance(services, y) if a.absent_all_year)) or "niemand"),
    ]


def _around_lines(services: context.Services, end: date) -> list[str]:
    """What the summary says of the parts around the cycle besides the meetings: training, the quality folder and
    the practices' own quality system."""
    lines = training.training(services, end)
    mandatory = Counter(t.status for t in lines if t.kind == "mandatory")
    followed = sum(1 for t in lines if t.status == "followed")
    with services.session() as s:
        sent = Counter(m.kind for m in repo.outbox(s))
    folders = cards.folders(services, end)
    behind = [f.agb_code for f in folders if f.standing.behind]
    systems = quality_system.quality_systems(services)
    with_open = sum(1 for q in systems if q.checklist and q.checklist.open_conditions)
    accredited = [q for q in systems if q.accreditation]
    lapsed = sum(1 for q in accredited if q.accreditation and q.accreditation.valid_until < end)
    return [
        f"Scholing op {end.isoformat()}: verplicht {mandatory['current']} bij, {mandatory['due']} aan de beurt, "
        f"{mandatory['overdue']} over tijd; herinneringen {sent['training_due']}, meldingen over tijd "
        f"{sent['training_overdue']}; basis-, start- of verdiepingsscholing gevolgd: {followed}",
        "Kwaliteitsmap: versies " + ", ".join(c.version for c in cards.card_sets(services))
        + f" gepubliceerd ({sent['cards_published']} berichten); actueel bij {len(folders) - len(behind)} "
        f"praktijken, achter: {', '.join(behind) or 'geen'} ({sent['cards_behind']} bericht(en) aan functionarissen)",
        f"Kwaliteitssysteem: {sum(1 for q in systems if q.checklist)} praktijken met een checklist, open voorwaarden "
        f"bij {with_open}; NHG-accreditatie bij {len(accredited)} ({lapsed} verlopen; {sent['accreditation_due']} "
        f"bericht(en) vooraf); toetsgroep met EKC bij "
        f"{sum(1 for q in systems if q.peer_review and q.peer_review.led_by_ekc)}; checklist-verzoeken "
        f"{sent['checklist_due']}",
        _neighbourhood_line(services, end, sent),
    ]


def _neighbourhood_line(services: context.Services, end: date, sent: Counter[str]) -> str:
    around = neighbourhood.neighbourhoods(services, end).values()
    incomplete = [n.agb_code for n in around if n.core_team is not None and not n.core_team.complete]
    behind = [n.agb_code for n in around if n.gpo_behind]
    quarter = next((n.quarter.nl for n in around if n.quarter), "-")
    plans = neighbourhood.network_plans(services)
    return (f"Wijk: kernteam bij {sum(1 for n in around if n.core_team)} praktijken, onvolledig bij "
            f"{', '.join(incomplete) or 'geen'}; GPO-ritme bij {sum(1 for n in around if n.cadence)}, achter in "
            f"{quarter}: {', '.join(behind) or 'geen'}; MDO's geteld: {neighbourhood.mdos_in(services, START, end)}; "
            "netwerkplannen: " + "; ".join(
                f"{p.view.gp_group} {len(p.view.evaluations)}x geëvalueerd, {len(p.view.meetings)} bijeenkomsten, "
                + ("evaluatie over tijd" if p.overdue(end) else f"volgende evaluatie {p.evaluation_due}")
                for p in plans) + f" ({sent['network_plan_due']} bericht(en) vooraf)")


def _summary(services: context.Services, status: list[queries.StatusLine], database: Path, end: date) -> str:
    counts = Counter(line.state for line in status)
    with services.session() as s:
        messages = Counter(m.kind for m in repo.outbox(s))
        escalations = []
        for line in status:
            for event in repo.load_events(s, line.agb_code):
                if event.trigger.value == "escalate":
                    escalations.append((line, event))
    lines = [f"Gesimuleerd tot en met {end.isoformat()}."]
    lines.append("Toestanden: " + ", ".join(f"{STATE_NAMES_NL[state]}: {n}" for state, n in sorted(counts.items())))
    lines.append(f"Gemeld aan het bestuur (beleid minder presterende praktijken): {len(escalations)} keer")
    for line, event in escalations:
        lines.append(f"  {line.agb_code} {line.name}, op {event.at.date().isoformat()}:")
        lines.extend(f"    - {r['explanation']}" for r in event.reasons)
    lines.extend(_follow_up_lines(services))
    lines.extend(_around_lines(services, end))
    lines.append("Berichten verstuurd (als .eml in de outbox-map): "
                 + (kinds_text(messages) or "geen"))
    lines.append(f"Outbox-map: {database.parent / 'outbox'} ({len(list((database.parent / 'outbox').glob('*.eml')))} "
                 "berichten, te openen met elk mailprogramma)")
    still = [line for line in status if line.state is TrajectoryState.UNDERPERFORMER_POLICY]
    lines.append(f"Nu onder het beleid: {', '.join(line.agb_code for line in still) or 'geen'}")
    lines.append(f"Database: {database}  (verder kijken: QC_DATABASE_URL=sqlite:///{database} "
                 ".venv/bin/qualitycycle status / history AGB / replay)")
    lines.append(f"Werkplek in de browser: QC_DATABASE_URL=sqlite:///{database} .venv/bin/qualitycycle web --now "
                 f"{end.isoformat()}T17:00  en open http://127.0.0.1:8000/ ; aanmelden als "
                 + ", ".join(f"{login} ({ACCOUNT_ROLE_NAMES_NL[role]}{f' {agb}' if agb else ''})"
                             for login, role, agb in DEMO_LOGINS) + f", wachtwoord {DEMO_PASSWORD}")
    return "\n".join(lines)
