"""The documents through the services over SQLite and PostgreSQL (issue 15, "Packs and downloads"): a practice's
conversation pack is the invitation's own, with its support and checklist and nobody else's figures; the board's
report of a period; the care group's indicator table."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from domain.vocabulary import SupportKind
from flows.services import packs, support, sweep
from flows.services.context import Services, UnknownPracticeError
from flows.services.quality_system import record_checklist
from tests.integration.test_duties import EIK, LINDE, at, care_group, outbox
from tests.integration.test_two_years_around_the_cycle import checklist
from tests.unit.test_documents import pdf_text


def test_a_practices_pack_is_its_invitations_with_its_support_and_checklist_and_no_other_practice(
        services: Services) -> None:
    sc = care_group(services)
    sc.scores("2024-09-30", {LINDE: {"dm2/hba1c_measured": (172, 200)}, EIK: {"dm2/hba1c_measured": (150, 200)}})
    asked = support.request_support(services, LINDE, SupportKind.COACHING, date(2024, 10, 1), at("2024-10-01", 9),
                                    "user:a.jansen")
    support.plan_support(services, asked.id, date(2024, 10, 15), at("2024-10-02", 9), "user:a.jansen", by="M. Coach")
    support.complete_support(services, asked.id, date(2024, 10, 15), at("2024-10-16", 9), "user:a.jansen",
                             half_days=2)
    record_checklist(services, LINDE, date(2024, 11, 4), checklist(
        complaints_procedure={"answer": "no", "note": "volgt"}), at("2024-11-04", 16), "user:a.jansen")

    payload = packs.pack_payload(services, LINDE, date(2025, 1, 20), at("2025-01-20", 9))
    assert payload["conversation"]["kind"] == "annual" and payload["conversation"]["start"].startswith("2025-02-26")
    sweep.sweep_due(services, at("2025-01-29"))  # the invitation the sweep queues carries the same pack
    (sent,) = [m for m in outbox(services, "conversation_invitation")
               if m.agb_code == LINDE and m.recipient_role == "practice"]
    assert sent.payload["prepare"] == packs.pack_payload(services, LINDE, date(2025, 1, 29),
                                                         at("2025-01-29", 7))["prepare"]

    text = " ".join(pdf_text(packs.conversation_pack(services, LINDE, date(2025, 1, 20), at("2025-01-20", 9)))
                    .split())
    assert "Huisartsenpraktijk De Linde (AGB-code 01234567)" in text and "86,0% (172/200)" in text
    assert "coaching on the job" in text and "M. Coach" in text
    assert "klachtenprocedure" in text
    assert "De Eik" not in text and "150/200" not in text  # nothing of another practice
    with pytest.raises(UnknownPracticeError):
        packs.conversation_pack(services, "09999999", date(2025, 1, 20), at("2025-01-20", 9))


def test_the_board_report_of_a_period_and_the_care_groups_indicator_table(services: Services) -> None:
    sc = care_group(services)
    sc.scores("2024-09-30", {LINDE: {"dm2/hba1c_measured": (172, 200)}, EIK: {"dm2/hba1c_measured": (5, 6)}})
    report = pdf_text(packs.board_report(services, date(2024, 7, 1), date(2024, 9, 30), at("2024-10-01", 9)))
    assert "periode 1 juli 2024 tot en met 30 september 2024" in report
    assert "geen praktijken onder het beleid" in report
    assert "Rond de kwaliteitscyclus" in report
    table = packs.indicator_workbook(services, on=date(2024, 12, 1), now=at("2024-12-01", 9))
    sheet = openpyxl.load_workbook(io.BytesIO(table)).active
    assert sheet is not None and str(sheet["A1"].value).startswith("Indicatoren zorggroep")
    eik = packs.indicator_workbook(services, agb_code=EIK, on=date(2024, 12, 1), now=at("2024-12-01", 9))
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(io.BytesIO(eik)).active.iter_rows(min_row=3)]
    (hba1c,) = [r for r in rows if r[1] == "hba1c_measured"]
    assert hba1c[5:7] == [5, 6] and hba1c[7] == pytest.approx(5 / 6, abs=1e-4)
    assert hba1c[-1].startswith("te weinig patiënten")
