"""The course catalogue (issue 14, "Training followed"): a care group imports its own offer, the next sweep plans
every person's mandatory courses from it, the overview shows who is current, due, overdue or followed a basic,
start or advanced course, and the board's digest counts the people overdue per practice. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.courses import SHIPPED_CATALOGUE, DuplicateCourseError
from domain.obligations import ObligationKind
from flows.services import kits_and_courses, sweep, training
from flows.services.context import Services
from readers.files import parse_courses
from storage import courses as course_store
from tests.integration.test_duties import EIK, LINDE, at, care_group, obligations, outbox

CATALOGUE = """code,name,kind,roles,every_months,first_within_months,url
caspir,Caspir-cursus,mandatory,poh_chronic;doctors_assistant;nurse,24,,https://scholing.example/caspir
hygiene,Hygiëne in de praktijk,verplicht,practice_manager;poh_elderly,36,3,
basis_ouderenzorg,Basisscholing ouderenzorg,basic,poh_elderly,,,
verdieping_copd,Verdiepingsscholing COPD,advanced,gp_principal;poh_chronic,,,
"""


def open_courses(services: Services) -> list[tuple[str, str, str]]:
    return sorted((o.agb_code or "", o.subject, o.key.rsplit(":", 1)[-1])
                  for o in obligations(services, kinds=[ObligationKind.MANDATORY_COURSE], status="open"))


def test_before_any_import_the_shipped_catalogue_holds_and_practice_managers_follow_langerhans(
    services: Services,
) -> None:
    care_group(services)
    assert training.course_catalogue(services).shipped
    assert training.course_catalogue(services).courses == SHIPPED_CATALOGUE
    assert (LINDE, "F. de Wit|langerhans", "none") in open_courses(services)


def test_an_imported_catalogue_is_what_the_next_sweep_plans_courses_from(services: Services, tmp_path: Path) -> None:
    care_group(services)
    file = tmp_path / "scholingen.csv"
    file.write_text(CATALOGUE, encoding="utf-8")
    assert training.import_courses(services, parse_courses(file), at("2024-04-02", 9), "user:officer") == 4
    catalogue = training.course_catalogue(services)
    assert not catalogue.shipped and [c.code for c in catalogue.courses] == [
        "caspir", "hygiene", "basis_ouderenzorg", "verdieping_copd"]

    report = sweep.sweep_due(services, at("2024-04-03"))
    # langerhans left the catalogue: its duties are cancelled; hygiene is new for practice managers and POH elderly
    assert report.cancelled == 7 and report.planned == 3
    assert open_courses(services) == [
        (LINDE, "D. Mulder|caspir", "none"), (LINDE, "E. Kok|hygiene", "none"), (LINDE, "F. de Wit|hygiene", "none"),
        (EIK, "H. Vos|caspir", "none"), (EIK, "J. Bos|caspir", "none"), (EIK, "K. Dekker|hygiene", "none"),
    ]
    hygiene = next(o for o in obligations(services, agb_code=LINDE, status="open") if o.subject == "E. Kok|hygiene")
    assert hygiene.due_on == date(2024, 7, 3)  # three months after it was first planned (first_within_months)
    assert hygiene.details["course_name"] == "Hygiëne in de praktijk"

    # a basic course followed is recorded and shown, never owed
    kits_and_courses.record_course_completion(services, LINDE, "E. Kok", "basis_ouderenzorg", date(2024, 5, 6),
                                              at("2024-05-06", 16), "user:officer")
    lines = training.training(services, date(2024, 5, 7), LINDE)
    assert [(t.person, t.course, t.kind, t.status) for t in lines if t.person == "E. Kok"] == [
        ("E. Kok", "hygiene", "mandatory", "current"), ("E. Kok", "basis_ouderenzorg", "basic", "followed")]

    # past its due date the hygiene course is overdue: one notice to the person and the practice manager, and the
    # board's digest counts the people overdue per practice
    sweep.sweep_due(services, at("2024-07-04"))
    told = sorted((m.payload["person"]["name"], m.recipient_name) for m in outbox(services, "training_overdue")
                  if m.payload["course"]["code"] == "hygiene")
    assert told == [("E. Kok", "E. Kok"), ("E. Kok", "F. de Wit"), ("F. de Wit", "F. de Wit"),
                    ("K. Dekker", "K. Dekker")]
    assert training.overdue_people(services, date(2024, 7, 4)) == {EIK: 1, LINDE: 2}
    assert {t.person for t in training.training(services, date(2024, 7, 4), overdue_only=True)} == {
        "E. Kok", "F. de Wit", "K. Dekker"}


def test_a_catalogue_naming_a_course_twice_is_refused_and_the_last_one_stays(services: Services) -> None:
    care_group(services)
    twice = [SHIPPED_CATALOGUE[0], SHIPPED_CATALOGUE[0]]
    with pytest.raises(DuplicateCourseError):
        training.import_courses(services, twice, at("2024-04-02", 9), "user:officer")
    with services.session() as s:
        assert course_store.catalogue(s) is None


def test_a_course_outside_the_catalogue_cannot_be_recorded(services: Services) -> None:
    care_group(services)
    with pytest.raises(kits_and_courses.UnknownCourseError, match="staat niet in de catalogus"):
        kits_and_courses.record_course_completion(services, LINDE, "E. Kok", "duiken", date(2024, 5, 6),
                                                  at("2024-05-06", 16), "user:officer")


TWO_FOR_MANAGERS = """code,name,kind,roles,every_months,first_within_months,url
hygiene,Hygiëne in de praktijk,verplicht,practice_manager;poh_elderly,36,3,
avg,Privacy in de praktijk,verplicht,practice_manager,24,3,
"""


def test_the_digest_counts_a_person_overdue_on_two_courses_once_and_nobody_on_the_day_a_course_falls_due(
    services: Services, tmp_path: Path,
) -> None:
    care_group(services)
    file = tmp_path / "scholingen.csv"
    file.write_text(TWO_FOR_MANAGERS, encoding="utf-8")
    training.import_courses(services, parse_courses(file), at("2024-04-02", 9), "user:officer")
    sweep.sweep_due(services, at("2024-04-03"))
    sweep.sweep_due(services, at("2024-07-04"))

    overdue = training.training(services, date(2024, 7, 4), overdue_only=True)
    assert sorted((t.agb_code, t.person, t.course) for t in overdue) == [
        (LINDE, "E. Kok", "hygiene"), (LINDE, "F. de Wit", "avg"), (LINDE, "F. de Wit", "hygiene"),
        (EIK, "K. Dekker", "avg"), (EIK, "K. Dekker", "hygiene")]
    # counted in the database, per practice: the people of the overview, each once
    assert training.overdue_people(services, date(2024, 7, 4)) == {EIK: 1, LINDE: 2}
    assert training.overdue_people(services, date(2024, 7, 3)) == {}  # due that day: not yet overdue

    # the practice manager follows one of her two: still overdue on the other; the POH follows his only one
    for person in ("F. de Wit", "E. Kok"):
        kits_and_courses.record_course_completion(services, LINDE, person, "hygiene", date(2024, 7, 8),
                                                  at("2024-07-08", 16), "user:officer")
    sweep.sweep_due(services, at("2024-07-09"))
    assert training.overdue_people(services, date(2024, 7, 9)) == {EIK: 1, LINDE: 1}
