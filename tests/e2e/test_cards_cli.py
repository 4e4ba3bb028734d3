"""An officer keeps the practices' quality folders current at the command line (seed section 3): a new set of
instruction cards published, folders marked current, who is behind, the patient leaflets' register; bad input
refused with the field named, exit 1 and the database as it was."""

from __future__ import annotations

from tests.e2e.test_cli import EIK, LINDE, REGISTRY, Staff, flat, staff, write

__all__ = ["staff"]  # the fixture: a member of staff with their own QC_HOME

LEAFLETS = """\
programme,title,url
dm2,Diabetes type 2: wat kunt u zelf doen?,https://www.cohaesie.example/folders/dm2.pdf
copd,Leven met COPD,https://www.cohaesie.example/folders/copd.pdf
"""


def test_an_officer_publishes_cards_records_folders_current_and_sees_who_is_behind(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    published = staff("publish-cards", "2026.1", "--on", "2026-03-02", "--note", "Kaart inhalatie herzien",
                      "--now", "2026-03-02T10:00")
    assert "versie 2026.1 (gepubliceerd op 2026-03-02) vastgelegd; 2 bericht(en)" in flat(published.stdout)
    assert "uiterlijk op 2026-04-13" in flat(published.stdout)
    again = staff("publish-cards", "2026.1", "--on", "2026-03-02", "--note", "Kaart inhalatie herzien",
                  "--now", "2026-03-03T10:00")
    assert "was al vastgelegd; 0 bericht(en)" in flat(again.stdout)
    staff("cards-current", LINDE, "--version", "2026.1", "--on", "2026-03-16", "--now", "2026-03-16T12:00")
    behind = staff.json("cards", "--behind", "--now", "2026-03-20T12:00")
    assert [(x["agb_code"], x["version"], x["behind_since"]) for x in behind] == [(EIK, None, "2026-03-02")]
    everyone = {x["agb_code"]: x for x in staff.json("cards", "--now", "2026-03-20T12:00")}
    assert (everyone[LINDE]["version"], everyone[LINDE]["current_on"], everyone[LINDE]["behind"]) == (
        "2026.1", "2026-03-16", False)
    assert "Praktijk De Eik" in staff("cards", "--now", "2026-03-20T12:00").stdout
    status = {x["agb_code"]: x for x in staff.json("status")}
    assert (status[EIK]["cards_behind_since"], status[LINDE]["cards_behind_since"]) == ("2026-03-02", None)
    assert "kwaliteitsmap: achter sinds 2026-03-02" in flat(staff("status").stdout)  # its line around the cycle
    staff("run", "--now", "2026-04-14T06:00", "--only", "sweep-due")
    assert sorted(m["recipient_name"] for m in staff.json("outbox") if m["kind"] == "cards_behind") == [
        "A. Jansen", "P. de Boer"]  # every officer (P. de Boer's held for an address)


def test_bad_input_about_the_cards_is_refused_with_the_field_named_and_nothing_stored(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    staff("publish-cards", "2026.1", "--on", "2026-03-02", "--now", "2026-03-02T10:00")
    before = staff.database()
    assert "--on: publicatie van instructiekaarten versie 2026.2 op 2026-03-09 ligt in de toekomst" in staff.refused(
        "publish-cards", "2026.2", "--on", "2026-03-09", "--now", "2026-03-02T10:00")
    refused = staff.refused("publish-cards", "2026.2", "--on", "2026-03-02", "--note", "patiënt 111222333 belde",
                            "--now", "2026-03-02T10:00")
    assert "--note" in refused and "BSN" in refused and "111222333" not in refused
    assert "--version" in staff.refused("cards-current", LINDE, "--version", "2030.1", "--on", "2026-03-02",
                                        "--now", "2026-03-02T10:00")
    assert "09999999 is niet bekend" in staff.refused("cards-current", "09999999", "--version", "2026.1",
                                                      "--on", "2026-03-02", "--now", "2026-03-02T10:00")
    assert "--on" in staff.refused("cards-current", LINDE, "--version", "2026.1", "--on", "2026-03-04",
                                   "--now", "2026-03-02T10:00")
    assert "VERSIE" in staff.refused("publish-cards", "2026.1", "--on", "2026-03-01", "--now", "2026-03-02T10:00")
    refused = staff.refused("import-leaflets", write("folders.csv", LEAFLETS + "astma,Astma,ftp://x\n"))
    assert "folders.csv, rij 4, kolom url" in refused
    assert staff.database() == before


def test_an_officer_imports_the_patient_leaflets_and_lists_them(staff: Staff) -> None:
    staff("init")
    assert "patiëntenfolders: 2 ingelezen" in staff("import-leaflets", write("folders.csv", LEAFLETS)).stdout
    assert [(x["programme"], x["title"]) for x in staff.json("leaflets")] == [
        ("copd", "Leven met COPD"), ("dm2", "Diabetes type 2: wat kunt u zelf doen?")]
    assert "Leven met COPD" in staff("leaflets").stdout
