"""An officer keeps the neighbourhood's elderly care at the command line (seed 5): a practice's core team (flagged
when incomplete), its GPO cadence and counts, MDOs counted, the GP group's network plan with its partners evaluated
yearly and the meetings held under it; bad input refused with the file, row, column or option named, exit 1 and the
database as it was."""

from __future__ import annotations

from tests.e2e.test_cli import EIK, LINDE, REGISTRY, Staff, flat, staff, write

__all__ = ["staff"]  # the fixture: a member of staff with their own QC_HOME

PARTNERS = """\
name,kind,email
Thuiszorg De Wijk,wijkverpleging,
Gemeente Westerveld,gemeente,wmo@westerveld.example
"""


def test_an_officer_records_the_neighbourhood_and_sees_it_in_one_line(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    recorded = staff("core-team", EIK, "--member", "gp_principal=G. Peters", "--member", "nurse=J. Bos",
                     "--on", "2026-01-05", "--now", "2026-01-06T10:00")
    assert "ONVOLLEDIG: mist wijkverpleegkundige" in flat(recorded.stdout)
    staff("core-team", LINDE, "--member", "huisarts=C. Bakker", "--member", "poh=E. Kok", "--member",
          "wijkverpleegkundige=W. de Vries", "--now", "2026-01-06T10:00")
    staff("gpo", LINDE, "--every-weeks", "6", "--since", "2026-01-05", "--now", "2026-01-06T10:00")
    staff("gpo", LINDE, "--quarter", "2026K1", "--held", "3", "--now", "2026-04-02T10:00")
    staff("mdo", LINDE, "--quarter", "2026Q1", "--count", "2", "--now", "2026-04-02T10:00")
    agreed = staff("network-plan", "HAGRO-WEST", "--partners", write("partners.csv", PARTNERS), "--agreed-on",
                   "2026-01-12", "--now", "2026-01-12T15:00")
    assert "afgesproken op 2026-01-12 met 2 partner(s)" in flat(agreed.stdout)
    staff("network-meeting", "HAGRO-WEST", "--kind", "case_discussion", "--on", "2026-02-10", "--attended",
          f"{LINDE}:C. Bakker", "--partner", "Thuiszorg De Wijk", "--minutes", write("verslag.txt", "Werkafspraken."),
          "--now", "2026-02-11T09:00")
    (plan,) = staff.json("network-plan", "--now", "2026-04-02T10:00")
    assert (plan["state"], plan["evaluation_due"], [p["kind"] for p in plan["partners"]]) == (
        "agreed", "2027-01-12", ["district_nursing", "municipality"])
    assert [m["kind"] for m in plan["meetings"]] == ["case_discussion"]
    around = {x["agb_code"]: x for x in staff.json("neighbourhood", "--now", "2026-04-02T12:00")}
    assert around[LINDE]["line"] == ("kernteam compleet (3); GPO elke 6 weken: 3 van 3 in 2026K1; MDO 2 in 2026K1; "
                                     "netwerkplan HAGRO-WEST: evaluatie uiterlijk 2027-01-12")
    assert around[EIK]["core_team"]["missing"] == ["wijkverpleegkundige"]
    status = {x["agb_code"]: x for x in staff.json("status", "--as-of", "2026-04-02")}
    assert status[EIK]["around_the_cycle"]["neighbourhood"].startswith("kernteam onvolledig")
    assert "wijk: kernteam onvolledig (mist wijkverpleegkundige)" in flat(staff("status", "--as-of",
                                                                               "2026-04-02").stdout)
    # the GP group's practices hear of the evaluation six weeks before it falls due
    staff("run", "--now", "2026-12-01T06:00", "--only", "sweep-due")
    assert sorted(m["agb_code"] for m in staff.json("outbox") if m["kind"] == "network_plan_due") == [LINDE, EIK]


def test_bad_neighbourhood_input_is_refused_with_the_field_named_and_nothing_stored(staff: Staff) -> None:
    staff("init")
    staff("load-registry", write("registry.yaml", REGISTRY))
    before = staff.database()
    assert "onbekend in een kernteam" in staff.refused("core-team", LINDE, "--member", "tandarts=X. Y",
                                                       "--now", "2026-01-06T10:00")
    refused = staff.refused("core-team", LINDE, "--member", "gp=C. Bakker 111222333", "--now", "2026-01-06T10:00")
    assert "--member gp" in refused and "BSN" in refused and "111222333" not in refused
    assert "ROL=NAAM" in staff.refused("core-team", LINDE, "--member", "C. Bakker", "--now", "2026-01-06T10:00")
    assert "--on: kernteam gevormd op 2026-02-01 ligt in de toekomst" in staff.refused(
        "core-team", LINDE, "--member", "gp=C. Bakker", "--on", "2026-02-01", "--now", "2026-01-06T10:00")
    assert "--every-weeks 0" in staff.refused("gpo", LINDE, "--every-weeks", "0", "--since", "2026-01-05",
                                              "--now", "2026-01-06T10:00")
    assert "--quarter 2026K3 is nog niet begonnen" in staff.refused("mdo", LINDE, "--quarter", "2026K3", "--count",
                                                                    "1", "--now", "2026-01-06T10:00")
    assert "--quarter" in staff.refused("mdo", LINDE, "--quarter", "2026K5", "--count", "1")
    assert "--every-weeks N --since" in staff.refused("gpo", LINDE, "--held", "2")
    bad = write("partners.csv", PARTNERS + "Buurtzorg,kapper,\n")
    refused = staff.refused("network-plan", "HAGRO-WEST", "--partners", bad, "--agreed-on", "2026-01-12",
                            "--now", "2026-01-12T15:00")
    assert "partners.csv" in refused and "rij 4" in refused and "kind" in refused and "kapper" in refused
    assert "HAGRO-OOST" in staff.refused("network-plan", "HAGRO-OOST", "--partners",
                                         write("ok.csv", PARTNERS), "--agreed-on", "2026-01-12")
    assert "evalueren kan niet" in staff.refused("network-plan", "HAGRO-WEST", "--evaluated-on", "2026-01-12",
                                                 "--note", "Goed.", "--now", "2026-01-12T15:00")
    assert "--kind" in staff.refused("network-meeting", "HAGRO-WEST", "--kind", "borrel", "--on", "2026-01-12")
    refused = staff.refused("network-meeting", "HAGRO-WEST", "--on", "2026-01-12", "--minutes",
                            write("verslag.txt", "Casus mw. 111.222.333"), "--now", "2026-01-12T15:00")
    assert "--minutes" in refused and "111.222.333" not in refused
    assert staff.database() == before
