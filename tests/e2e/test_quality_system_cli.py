"""Staff at the command line record a practice's own quality system (seed 003): its yearly checklist from a YAML
file, its NHG accreditation and its peer review group, list them and see them in ``status``; a checklist that cannot
be is refused naming the file and field, exit 1, and the database stays as it was."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_cli import LINDE, Staff, flat, write


@pytest.fixture
def staff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Staff]:
    """A member of staff with a folder of their own, as in ``test_cli``."""
    for name in list(os.environ):
        if name.startswith("QC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield Staff(home=tmp_path / "var")

CHECKLIST = """\
team_meetings: yes
policy_plan: {answer: partly, note: "jaarverslag 2024 nog niet klaar"}
quality_initiator: yes
regular_evaluation: yes
competence_review: yes
planned_improvement: yes
complaints_procedure: yes
nhg_accreditation: yes
gp_group: yes
peer_review_group: {answer: no, note: "toetsgroep zoekt een EKC"}
"""


def test_an_officer_records_the_quality_system_of_de_linde_and_sees_it_in_status(staff: Staff) -> None:
    staff.set_up_care_group()
    staff.start_cycles()
    recorded = staff("checklist", LINDE, "--on", "2024-06-10", "--file", write("checklist.yaml", CHECKLIST),
                     "--now", "2024-06-10T16:00", "--actor", "user:a.jansen")
    assert flat(recorded.stdout) == ("checklist van 01234567 op 2024-06-10 vastgelegd: 2 voorwaarde(n) niet "
                                     "(volledig) voldaan: policy_plan, peer_review_group")
    staff("accreditation", LINDE, "--valid-until", "2026-03-31", "--audited-on", "2023-03-20",
          "--now", "2024-06-10T16:00")
    staff("peer-review", LINDE, "--group", "Toetsgroep Oost", "--ekc", "R. Visser", "--now", "2024-06-10T16:00")
    (listed,) = staff.json("checklist", LINDE)
    assert listed["checklist"]["filled_on"] == "2024-06-10"
    assert listed["checklist"]["open_conditions"] == ["policy_plan", "peer_review_group"]
    assert listed["checklist"]["answers"]["peer_review_group"] == {"answer": "no", "note": "toetsgroep zoekt een EKC"}
    assert listed["accreditation"] == {"valid_until": "2026-03-31", "audited_on": "2023-03-20"}
    assert listed["peer_review_group"] == {"group": "Toetsgroep Oost", "led_by_ekc": True, "ekc": "R. Visser"}
    assert len(staff.json("checklist")) == 2  # every practice, De Eik without anything on record
    assert staff.status()[LINDE]["quality_system"] == (
        "checklist 2024-06-10: 2 open (policy_plan, peer_review_group); NHG tot 2026-03-31; "
        "toetsgroep Toetsgroep Oost (EKC R. Visser)")
    assert "Toetsgroep Oost" in flat(staff("checklist").stdout)


def test_a_checklist_that_cannot_be_is_refused_whole_and_nothing_is_stored(staff: Staff) -> None:
    staff.set_up_care_group()
    staff.start_cycles()
    before = staff.database()
    bad = write("slecht.yaml", CHECKLIST.replace("team_meetings: yes", "team_meetings: misschien") + "klachten: yes\n")
    said = staff.refused("checklist", LINDE, "--on", "2024-06-10", "--file", bad, "--now", "2024-06-10T16:00")
    assert "slecht.yaml, kolom team_meetings.answer: antwoord 'misschien' is onbekend" in said
    assert "slecht.yaml, kolom klachten: onbekende voorwaarde 'klachten'" in said
    bsn = write("bsn.yaml", CHECKLIST.replace('"jaarverslag 2024 nog niet klaar"', '"patiënt 111222333 klaagde"'))
    said = staff.refused("checklist", LINDE, "--on", "2024-06-10", "--file", bsn, "--now", "2024-06-10T16:00")
    assert "bsn.yaml, kolom policy_plan.note:" in said and "BSN" in said and "111222333" not in said
    good = write("checklist.yaml", CHECKLIST)
    said = staff.refused("checklist", LINDE, "--on", "2024-06-11", "--file", good, "--now", "2024-06-10T16:00")
    assert "--on: checklist ingevuld op 2024-06-11 ligt in de toekomst" in said
    said = staff.refused("accreditation", LINDE, "--valid-until", "2027-01-01", "--audited-on", "2024-07-01",
                         "--now", "2024-06-10T16:00")
    assert "--audited-on: NHG-audit op 2024-07-01 ligt in de toekomst" in said
    staff.refused("checklist", LINDE, "--on", "2024-06-10", "--now", "2024-06-10T16:00")  # no --file
    staff.refused("peer-review", LINDE, "--group", "Toetsgroep 111222333")
    assert staff.database() == before
