"""Scenarios of a care group's staff delivering input files: accepted whole, or refused whole with every problem.

Each test writes its own files in ``tmp_path`` (Excel files with openpyxl), the way staff
produce them: exported from Excel with commas or semicolons, with a BOM, in old Windows
encoding, or as a workbook with text cells and real dates.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

import readers.files as files_module
from domain.errors import PatientDataError, QualityCycleError
from domain.indicators import IndicatorKind
from domain.registry import Programme, Role
from domain.vocabulary import ConversationKind
from readers.files import (
    ConversationLine,
    InputFileError,
    Problem,
    YamlError,
    load_yaml_text,
    parse_averages,
    parse_catalogue,
    parse_conversations,
    parse_plan,
    parse_practices,
    parse_registry,
    parse_scores,
    parse_targets,
    passes_elfproef,
    read_table,
)

TODAY = date(2025, 2, 1)
SCORE_HEADER = "agb_code,programme,indicator,period_end,numerator,denominator"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(folder: Path, name: str, rows: Sequence[Sequence[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    path = folder / name
    workbook.save(path)
    return path


def refusal(call: object, *args: object) -> InputFileError:
    assert callable(call)
    with pytest.raises(InputFileError) as caught:
        call(*args)
    return caught.value


def located(error: InputFileError) -> list[tuple[int | None, str | None]]:
    return [(p.row, p.column) for p in error.problems]


def paths(error: InputFileError) -> list[str | None]:
    """Where a YAML file's problems stand: a path to the value, never a row (YAML has none)."""
    assert all(p.row is None for p in error.problems)
    return [p.column for p in error.problems]


# --------------------------------------------------------------------------- reading CSV and Excel


def test_practice_list_exported_with_commas_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "practices.csv",
        "agb_code,name,gp_group,email\n"
        '01234567,"Huisartsenpraktijk De Linde, Utrecht",HAGRO-WEST,praktijk@delinde.example\n'
        "01234568,Praktijk Zuid,,\n",
    )

    practices = parse_practices(path)

    assert [p.agb_code for p in practices] == ["01234567", "01234568"]
    assert practices[0].name == "Huisartsenpraktijk De Linde, Utrecht"
    assert practices[0].gp_group == "HAGRO-WEST"
    assert practices[1].gp_group is None and practices[1].email is None


def test_excel_semicolon_file_with_bom_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "scores.csv",
        "AGB_Code ; Programme;Indicator;Period_End;Numerator;Denominator\r\n"
        "01234567;DM2;hba1c_measured;31-12-2024;45;50\r\n"
        "01234567;astma;inhaler_check;1-6-2024;7;10\r\n",
        encoding="utf-8-sig",
    )

    scores = parse_scores(path, TODAY)

    assert [(s.agb_code, s.programme, s.period_end, s.numerator) for s in scores] == [
        ("01234567", Programme.DM2, date(2024, 12, 31), 45),
        ("01234567", Programme.ASTHMA, date(2024, 6, 1), 7),
    ]


def test_old_windows_export_in_cp1252_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "practices.csv", "agb_code;name\n01234567;Praktijk Café Noël\n", encoding="cp1252")

    assert parse_practices(path)[0].name == "Praktijk Café Noël"


def test_workbook_with_text_agb_codes_and_real_dates_is_read(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        "scores.xlsx",
        [
            ["agb_code", "programme", "indicator", "period_end", "numerator", "denominator", "notes"],
            ["01234567", "dm2", "hba1c_measured", date(2024, 12, 31), 45, 50.0, None],
            [],
            ["01234567", "copd", "spirometry", datetime(2024, 9, 30, 0, 0), 12.0, 20, "  na controle  "],
        ],
    )

    rows = read_table(path, ["agb_code", "period_end", "numerator", "denominator"])
    scores = parse_scores(path, TODAY)

    assert rows == [
        (2, {"agb_code": "01234567", "period_end": "2024-12-31", "numerator": "45", "denominator": "50"}),
        (4, {"agb_code": "01234567", "period_end": "2024-09-30", "numerator": "12", "denominator": "20"}),
    ]
    assert [(s.programme, s.period_end, s.numerator, s.denominator) for s in scores] == [
        (Programme.DM2, date(2024, 12, 31), 45, 50),
        (Programme.COPD, date(2024, 9, 30), 12, 20),
    ]


def test_workbook_target_formatted_as_percentage_reads_as_the_percentage_seen(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, "targets.xlsx", [["programme", "indicator", "target"], ["dm2", "hba1c", 0.725]])
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    assert sheet is not None
    sheet["C2"].number_format = "0.0%"
    workbook.save(path)

    assert parse_targets(path)[0].target == 72.5


def test_agb_code_that_lost_its_leading_zero_in_excel_is_rejected_with_a_hint(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, "practices.xlsx", [["agb_code", "name"], [1234567, "Praktijk Oost"]])

    error = refusal(parse_practices, path)

    assert located(error) == [(2, "agb_code")]
    assert "voorloopnul" in error.problems[0].message and "01234567" in error.problems[0].message


def test_extra_columns_are_ignored_and_optional_columns_may_be_absent(tmp_path: Path) -> None:
    path = write(tmp_path, "practices.csv", "Opmerking,agb_code,name,Telefoon\nnieuw,01234567,De Linde,030-1234567\n")

    assert read_table(path, ["agb_code", "name"], ["email"]) == [
        (2, {"agb_code": "01234567", "name": "De Linde", "email": ""})
    ]


def test_empty_rows_are_skipped_and_rows_keep_the_numbers_excel_shows(tmp_path: Path) -> None:
    path = write(tmp_path, "practices.csv", "agb_code,name\n01234567,De Linde\n\n,\n1234,Praktijk Oost\n")

    error = refusal(parse_practices, path)

    assert located(error) == [(5, "agb_code")]


# --------------------------------------------------------------------------- files refused as a whole


def test_message_names_file_row_and_column_in_dutch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "practices.csv", "agb_code,name\n01234567,De Linde\n1234,Praktijk Oost\n")

    error = refusal(parse_practices, Path("practices.csv"))

    assert error.problems == [
        Problem("practices.csv", 3, "agb_code", "AGB-code '1234' is ongeldig: verwacht precies 8 cijfers")
    ]
    assert str(error) == "practices.csv, rij 3, kolom agb_code: AGB-code '1234' is ongeldig: verwacht precies 8 cijfers"
    assert isinstance(error, QualityCycleError)
    assert pickle.loads(pickle.dumps(error)).problems == error.problems


def test_missing_file_is_rejected(tmp_path: Path) -> None:
    error = refusal(parse_practices, tmp_path / "practices.csv")

    assert located(error) == [(None, None)]
    assert "bestaat niet" in error.problems[0].message


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("practices.csv", "", "leeg"),
        ("practices.csv", "\n \n", "leeg"),
        ("practices.csv", "agb_code,name\n", "geen gegevensrijen"),
        ("practices.csv", "agb_code,name\n,\n , \n", "geen gegevensrijen"),
        ("practices.txt", "agb_code,name\n01234567,De Linde\n", "onbekend bestandstype '.txt'"),
        ("practices.xls", "agb_code,name\n01234567,De Linde\n", ".xlsx of .csv"),
        ("practices.xlsx", "agb_code,name\n01234567,De Linde\n", "kan niet als Excel-werkmap"),
    ],
)
def test_file_that_cannot_be_read_is_rejected(tmp_path: Path, name: str, text: str, expected: str) -> None:
    error = refusal(parse_practices, write(tmp_path, name, text))

    assert expected in str(error)


def test_missing_required_columns_are_all_listed(tmp_path: Path) -> None:
    path = write(tmp_path, "scores.csv", "agb_code,programme,indicator,teller,noemer\n01234567,dm2,hba1c,1,2\n")

    error = refusal(parse_scores, path, TODAY)

    assert located(error) == [(1, None)]
    message = error.problems[0].message
    assert "period_end, numerator, denominator" in message
    assert "agb_code, programme, indicator, teller, noemer" in message


def test_single_column_found_hints_at_the_wrong_delimiter(tmp_path: Path) -> None:
    path = write(tmp_path, "practices.csv", "agb_code|name\n01234567|De Linde\n")

    error = refusal(parse_practices, path)

    assert "agb_code, name" in str(error)
    assert "maar één kolom" in str(error) and "komma (,)" in str(error)


@pytest.mark.parametrize("count", ["12.5", "-1", "abc", ""])
def test_count_that_is_not_a_whole_number_of_zero_or_more_is_rejected(tmp_path: Path, count: str) -> None:
    path = write(tmp_path, "scores.csv", f"{SCORE_HEADER}\n01234567,dm2,hba1c,2024-12-31,{count},50\n")

    error = refusal(parse_scores, path, TODAY)

    assert located(error) == [(2, "numerator")]
    assert "geheel getal van 0 of meer" in error.problems[0].message


def test_denominator_of_zero_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "scores.csv", f"{SCORE_HEADER}\n01234567,dm2,hba1c,2024-12-31,0,0\n")

    assert located(refusal(parse_scores, path, TODAY)) == [(2, "denominator")]


@pytest.mark.parametrize(
    ("written", "expected"),
    [("2024/12/31", "JJJJ-MM-DD"), ("dec 2024", "DD-MM-JJJJ"), ("31-02-2024", "bestaat niet"), ("", "ontbreekt")],
)
def test_date_in_another_form_is_rejected_naming_the_forms(tmp_path: Path, written: str, expected: str) -> None:
    path = write(tmp_path, "scores.csv", f"{SCORE_HEADER}\n01234567,dm2,hba1c,{written},1,2\n")

    error = refusal(parse_scores, path, TODAY)

    assert located(error) == [(2, "period_end")]
    assert expected in error.problems[0].message


def test_every_problem_of_the_file_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "scores.csv",
        f"{SCORE_HEADER}\n"
        "01234567,dm2,hba1c,2024-12-31,45,50\n"
        "1234,hartfalen,,2024/12/31,x,0\n"
        "01234567,dm2,ldl,2024-12-31,60,50\n",
    )

    error = refusal(parse_scores, path, TODAY)

    assert located(error) == [
        (3, "agb_code"),
        (3, "programme"),
        (3, "indicator"),
        (3, "period_end"),
        (3, "numerator"),
        (3, "denominator"),
        (4, "numerator"),
    ]
    assert "dm2, copd, asthma, cvrm, elderly" in error.problems[1].message
    assert len(str(error).splitlines()) == 7


def test_message_lists_twenty_problems_and_counts_the_rest(tmp_path: Path) -> None:
    rows = "".join(f"{i:04d},Praktijk {i}\n" for i in range(25))
    error = refusal(parse_practices, write(tmp_path, "practices.csv", f"agb_code,name\n{rows}"))

    lines = str(error).splitlines()
    assert len(error.problems) == 25
    assert len(lines) == 21 and lines[-1] == "... en 5 meer"


# --------------------------------------------------------------------------- duplicates


def test_duplicate_score_rows_name_both_rows_even_when_dates_are_written_differently(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "scores.csv",
        f"{SCORE_HEADER}\n01234567,dm2,hba1c,2024-12-31,45,50\n01234567,dm2,ldl,2024-12-31,1,2\n"
        "01234567,diabetes,hba1c,31-12-2024,46,50\n",
    )

    error = refusal(parse_scores, path, TODAY)

    assert located(error) == [(4, None)]
    assert "rij 4" in error.problems[0].message and "rij 2" in error.problems[0].message


def test_duplicate_practice_is_reported_even_when_the_row_has_other_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "practices.csv", "agb_code,name,email\n01234567,De Linde,\n01234567,,geen-adres\n")

    error = refusal(parse_practices, path)

    assert located(error) == [(3, "name"), (3, "email"), (3, None)]
    assert "als rij 2" in error.problems[2].message


def test_duplicate_national_averages_and_targets_are_rejected(tmp_path: Path) -> None:
    averages = write(
        tmp_path,
        "averages.csv",
        'programme,indicator,year,national_average\ndm2,hba1c,2023,81,5\ndm2,hba1c,2024,"82,1"\nDM2,hba1c,2024,83\n',
    )
    targets = write(tmp_path, "targets.csv", "programme;indicator;target\ncopd;spiro;70\ncopd;spiro;75\n")

    assert located(refusal(parse_averages, averages)) == [(2, None), (4, None)]
    assert located(refusal(parse_targets, targets)) == [(3, None)]


# --------------------------------------------------------------------------- patient data is never accepted


def test_nine_digit_test_numbers_pass_or_fail_the_elfproef_as_computed() -> None:
    def weighted(digits: str) -> int:
        return sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))

    assert weighted("111222333") == 66 and passes_elfproef("111222333")
    assert weighted("123456789") == 147 and not passes_elfproef("123456789")
    assert not passes_elfproef("000000000")


BSN_COLUMN = ("agb_code,name,opmerking\n01234567,De Linde,\n01234568,Praktijk Oost,111222333\n"
              "01234569,Zuid,1112.22.333\n")


@pytest.mark.parametrize(("parse", "name", "text", "where", "why"), [
    pytest.param(parse_targets, "targets.csv", "programme,indicator,target\ndm2,hba1c,72,5\ncopd,spirometry,80,\n",
                 [(2, None)], "decimale komma", id="a row with more cells than the header: a decimal comma"),
    pytest.param(parse_scores, "scores.csv",
                 f"{SCORE_HEADER}\n01234567,dm2,hba1c,2024-12-31,45,50\n01234567,dm2,ldl,2024-12-31,60,50\n",
                 [(3, "numerator")], "teller 60 is groter dan noemer 50", id="a numerator above its denominator"),
    pytest.param(parse_scores, "scores.csv", f"{SCORE_HEADER}\n01234567,dm2,hba1c,2025-03-31,1,2\n",
                 [(2, "period_end")], "ligt in de toekomst", id="a score period ending in the future"),
    pytest.param(parse_practices, "practices.csv", BSN_COLUMN, [(3, "opmerking"), (4, "opmerking")],
                 "nooit gegevens op die een patiënt identificeren", id="a column holding patient numbers"),
    pytest.param(parse_conversations, "conversations.csv",
                 "agb_code,kind,held_on\n01234567,annual,2024-03-12\n01234567,koffie,2024-03-13\n"
                 "01234567,Annual,12-03-2024\n",
                 [(3, "kind"), (4, None)], "als rij 2", id="a conversation twice and one of an unknown kind"),
])
def test_a_bad_file_is_refused_whole_naming_each_row_and_column_and_why(
        tmp_path: Path, parse: Callable[..., object], name: str, text: str, where: list[tuple[int, str | None]],
        why: str) -> None:
    args = (TODAY,) if parse is parse_scores else ()
    error = refusal(parse, write(tmp_path, name, text), *args)
    assert located(error) == where
    assert any(why in problem.message for problem in error.problems)


def test_a_patient_number_refuses_the_file_as_patient_data_and_is_never_repeated(tmp_path: Path) -> None:
    error = refusal(parse_practices, write(tmp_path, "practices.csv", BSN_COLUMN))
    assert isinstance(error, PatientDataError) and "111222333" not in str(error)


def test_bsn_in_an_unnamed_excel_column_is_refused(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, "practices.xlsx", [["agb_code", "name"], ["01234567", "De Linde", 111222333]])

    error = refusal(parse_practices, path)

    assert isinstance(error, PatientDataError)
    assert located(error) == [(2, "C (zonder naam)"), (2, None)]
    assert "kopregel" in error.problems[1].message


def test_nine_digit_number_failing_the_elfproef_is_not_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "practices.csv", "agb_code,name,kenmerk\n01234567,De Linde,123456789\n")

    assert [p.agb_code for p in parse_practices(path)] == ["01234567"]


@pytest.mark.parametrize(
    "header", ["BSN", "Burgerservicenummer", "Geboorte datum", "date-of-birth", "Patiënt naam", "DOB", "patient_bsn"]
)
def test_column_named_like_a_patient_identifier_is_refused_even_when_empty(tmp_path: Path, header: str) -> None:
    path = write(tmp_path, "practices.csv", f"agb_code,name,{header}\n01234567,De Linde,\n")

    error = refusal(parse_practices, path)

    assert isinstance(error, PatientDataError)
    assert located(error) == [(1, header.lower())]


# --------------------------------------------------------------------------- the other tables


def test_catalogue_reads_main_as_yes_or_no_in_dutch_or_english(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "catalogue.csv",
        "programme,indicator,name,kind,main\n"
        "dm2,hba1c_measured,HbA1c gemeten,process,ja\n"
        "dm2,hba1c_target,HbA1c < 53,uitkomst,Nee\n"
        "ouderenzorg,gpo,GPO gehouden,proces,WAAR\n"
        "copd,spiro,Spirometrie,process,0\n",
    )

    catalogue = parse_catalogue(path)

    assert [(d.programme, d.kind, d.main) for d in catalogue] == [
        (Programme.DM2, IndicatorKind.PROCESS, True),
        (Programme.DM2, IndicatorKind.OUTCOME, False),
        (Programme.ELDERLY, IndicatorKind.PROCESS, True),
        (Programme.COPD, IndicatorKind.PROCESS, False),
    ]


def test_catalogue_with_unclear_main_or_kind_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path, "catalogue.csv", "programme,indicator,name,kind,main\ndm2,a,A,process,misschien\ndm2,b,B,soms,\n"
    )

    assert located(refusal(parse_catalogue, path)) == [(2, "main"), (3, "kind"), (3, "main")]


def test_targets_accept_a_decimal_comma_and_refuse_values_above_100(tmp_path: Path) -> None:
    good = write(tmp_path, "targets.csv", 'programme,indicator,target\ndm2,hba1c,"72,5"\nastma,inhaler,80%\n')
    bad = write(tmp_path, "bad.csv", "programme;indicator;target\ndm2;hba1c;120\ndm2;ldl;-1\ndm2;bp;veel\n")

    assert [(t.programme, t.target) for t in parse_targets(good)] == [(Programme.DM2, 72.5), (Programme.ASTHMA, 80.0)]
    error = refusal(parse_targets, bad)
    assert located(error) == [(2, "target"), (3, "target"), (4, "target")]
    assert "mag hoogstens 100 zijn" in error.problems[0].message


def test_national_averages_are_read_per_year(tmp_path: Path) -> None:
    path = write(tmp_path, "averages.csv", "programme;indicator;year;national_average\ncvrm;bp;2024;64,3\n")
    bad = write(tmp_path, "bad.csv", "programme;indicator;year;national_average\ncvrm;bp;24;64\ncvrm;bp;1999;64\n")

    assert [(a.year, a.national_average) for a in parse_averages(path)] == [(2024, 64.3)]
    assert located(refusal(parse_averages, bad)) == [(2, "year"), (3, "year")]


def test_conversations_are_read_with_their_rows_and_optional_programme(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "conversations.csv",
        "agb_code;kind;held_on;programme\n01234567;annual;12-3-2024;\n01234567;startgesprek;2024-01-15;COPD\n",
    )

    assert parse_conversations(path) == [
        ConversationLine(2, "01234567", ConversationKind.ANNUAL, date(2024, 3, 12), None),
        ConversationLine(3, "01234567", ConversationKind.START, date(2024, 1, 15), Programme.COPD),
    ]


# --------------------------------------------------------------------------- the registry in YAML

REGISTRY_YAML = """\
care_group: {name: Cohaesie, email: kwaliteit@cohaesie.example}
officers: [{name: A. Jansen, email: a.jansen@cohaesie.example}]
board: [{name: B. de Vries, email: bestuur@cohaesie.example}]
gp_groups: [{code: HAGRO-WEST, name: Hagro West}]
practices:
  - agb_code: "01234567"
    name: Huisartsenpraktijk De Linde
    gp_group: HAGRO-WEST
    email: praktijk@delinde.example
    programmes: {dm2: 2023-01-01, ouderenzorg: 01-02-2023}
    people:
      - {name: C. Bakker, role: gp_principal, email: c.bakker@delinde.example}
      - {name: D. Smit, role: poh_chronic}
"""


def test_registry_in_yaml_is_read(tmp_path: Path) -> None:
    registry = parse_registry(write(tmp_path, "registry.yaml", REGISTRY_YAML))

    assert registry.care_group.name == "Cohaesie"
    assert [(p.name, p.role) for p in registry.officers] == [("A. Jansen", Role.OFFICER)]
    assert [(p.name, p.role) for p in registry.board] == [("B. de Vries", Role.BOARD)]
    [practice] = registry.practices
    assert practice.agb_code == "01234567"
    assert practice.programmes == {Programme.DM2: date(2023, 1, 1), Programme.ELDERLY: date(2023, 2, 1)}
    assert [p.role for p in practice.people] == [Role.GP_PRINCIPAL, Role.POH_CHRONIC]


def test_registry_with_errors_is_rejected_with_yaml_paths(tmp_path: Path) -> None:
    text = REGISTRY_YAML + (
        "  - agb_code: 1234567\n"
        "    name: Praktijk Oost\n"
        "    gp_group: HAGRO-OOST\n"
        "  - agb_code: '01234567'\n"
        "    name: Praktijk Dubbel\n"
        "    email: geen-adres\n"
        "    programmes: {hartfalen: 2023-01-01, copd: morgen}\n"
        "    people: [{name: E. Visser, role: dokter, telefoon: '06'}]\n"
    )

    error = refusal(parse_registry, write(tmp_path, "registry.yml", text))

    assert paths(error) == ["practices[1].agb_code", "practices[1].gp_group", "practices[2].email",
                            "practices[2].programmes.hartfalen", "practices[2].programmes.copd",
                            "practices[2].people[0].role", "practices[2].people[0].telefoon", "practices[2].agb_code"]
    messages = [p.message for p in error.problems]
    assert "aanhalingstekens" in messages[0]
    assert "HAGRO-WEST" in messages[1]
    assert "practices[0]" in messages[-1]


def test_registry_with_missing_care_group_and_wrong_officer_role_is_rejected(tmp_path: Path) -> None:
    text = "officers: [{name: A. Jansen, role: gp}, {email: x@y.example}]\npractices: geen\nbestuur: []\n"

    error = refusal(parse_registry, write(tmp_path, "registry.yaml", text))

    assert paths(error) == ["bestuur", "care_group", "officers[0].role", "officers[1].name", "practices"]


@pytest.mark.parametrize(
    ("text", "row"),
    [("care_group:\n  name: x\n name: y\n", 3), ("care_group:\n  name: x\n  name: y\n", 3), ("[a, b\n", 2)],
)
def test_malformed_registry_yaml_is_rejected_with_its_line(tmp_path: Path, text: str, row: int) -> None:
    error = refusal(parse_registry, write(tmp_path, "registry.yaml", text))

    assert located(error) == [(row, None)]
    assert "geen geldige YAML" in error.problems[0].message


def test_a_registry_of_the_whole_country_is_read(tmp_path: Path) -> None:
    # 5,000 practices with a GP, a POH and a practice manager each: some 2.3 MB, which the 2 MB limit refused
    lines = ["care_group: {name: Federatie, email: kwaliteit@federatie.example}",
             "officers: [{name: A. Jansen, email: a.jansen@federatie.example}]", "gp_groups:"]
    lines += [f"  - {{code: HAGRO-{g:04d}, name: Hagro {g}}}" for g in range(1, 501)]
    lines.append("practices:")
    for i in range(5000):
        site = f"praktijk{i + 1}.example"
        lines += [f'  - agb_code: "01{i + 1:06d}"', f"    name: Huisartsenpraktijk {i + 1}",
                  f"    gp_group: HAGRO-{i // 10 + 1:04d}", f"    email: info@{site}",
                  "    programmes: {dm2: 2024-01-01, copd: 2024-01-01}", "    people:",
                  f"      - {{name: Huisarts {i + 1}, role: gp_principal, email: huisarts@{site}}}",
                  f"      - {{name: POH-S {i + 1}, role: poh_chronic, email: poh.s@{site}}}",
                  f"      - {{name: Praktijkmanager {i + 1}, role: practice_manager, email: pm@{site}}}"]
    path = write(tmp_path, "registry.yaml", "\n".join(lines) + "\n")
    assert path.stat().st_size > 2_000_000

    registry = parse_registry(path)

    assert len(registry.practices) == 5000
    assert registry.practices[-1].agb_code == "01005000"
    assert [p.role for p in registry.practices[-1].people] == [Role.GP_PRINCIPAL, Role.POH_CHRONIC,
                                                               Role.PRACTICE_MANAGER]


@pytest.mark.skipif(not files_module._LIBYAML, reason="PyYAML without libyaml: only its own parser is used")
@pytest.mark.parametrize("text", [
    "care_group: {name: Cohaesie}\npractices: [{agb_code: '01234567', since: 2023-02-30}]\n",  # a date stays text
    "a: &x 1\nb: *x\n",  # an alias
    "a: &x 1\n",  # an anchor without an alias: nothing refused
    "x: " + "[" * 39 + "]" * 39 + "\n",  # forty deep: read
    "x: " + "[" * 40 + "]" * 40 + "\n",  # forty-one: refused
    "- " * 40 + "a\n",  # forty-one deep by indentation
    "- " * 39 + "a\n",
    "x: " + "[" * 2000 + "]" * 2000 + "\n",  # past libyaml's own limit of 1,000
    "a: 1\nb: {c: 2, c: 3}\n",  # a key twice
    "n: " + "9" * 31 + "\n",  # a number of 31 digits
    "n: " + "9" * 30 + "\n",
    "<<: {a: 1}\nb: 2\n",  # a merge key is no key written twice
    "!!python/object/apply:os.system ['echo gehackt']\n",
    "a: b\n---\nc: d\n",  # two documents
    "a: b\n---\nc: *x\n",  # two documents, an alias in the second: refused as two documents, on line 2
    "a: 1\n...\n",
])
def test_libyaml_and_pyyaml_read_or_refuse_a_file_alike(text: str) -> None:
    # the refusal and its line (its column may differ: libyaml scans flow brackets ahead); a syntax error's wording
    # is each parser's own, and libyaml reads a tab between tokens that PyYAML's parser refuses, so neither is here
    def outcome(fast: bool) -> object:
        with pytest.MonkeyPatch.context() as patched:
            patched.setattr(files_module, "_LIBYAML", fast)
            try:
                return ("read", load_yaml_text(text))
            except YamlError as exc:
                return ("refused", str(exc).split(": ", 1)[-1], exc.line)

    assert outcome(True) == outcome(False)


def test_registry_from_a_practice_list_derives_the_gp_groups(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        "registry.xlsx",
        [
            ["agb_code", "name", "gp_group"],
            ["01234567", "De Linde", "WEST"],
            ["01234568", "Oost", "OOST"],
            ["01234569", "Zuid", "WEST"],
            ["01234570", "Noord", None],
        ],
    )

    registry = parse_registry(path)

    assert registry.care_group.name == "Zorggroep"
    assert [(g.code, g.name) for g in registry.gp_groups] == [("WEST", "WEST"), ("OOST", "OOST")]
    assert len(registry.practices) == 4


# --------------------------------------------------------------------------- improvement plans


def test_improvement_plan_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "plan.yaml",
        "goals:\n"
        "  - {programme: dm2, indicator: hba1c_measured, target: 90, by: 2025-03-15}\n"
        "  - {programme: Astma, indicator: inhaler_check, target: '72,5', by: 30-06-2025}\n"
        "agreements: [POH belt patiënten na die niet kwamen, Spiegelbijeenkomst in juni]\n",
    )

    plan = parse_plan(path)

    assert [(g.programme, g.target, g.by) for g in plan.goals] == [
        (Programme.DM2, 90.0, date(2025, 3, 15)),
        (Programme.ASTHMA, 72.5, date(2025, 6, 30)),
    ]
    assert plan.agreements == ("POH belt patiënten na die niet kwamen", "Spiegelbijeenkomst in juni")


def test_improvement_plan_with_errors_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "plan.yml",
        "goals:\n"
        "  - {programme: dm2, indicator: hba1c, target: 120, by: 2025-03-15}\n"
        "  - {programme: hart, indicator: '', by: ooit}\n"
        "agreements: ['', 3]\n",
    )

    error = refusal(parse_plan, path)

    assert paths(error) == ["goals[0].target", "goals[1].programme", "goals[1].indicator", "goals[1].by",
                            "goals[1].target", "agreements[0]", "agreements[1]"]


def test_improvement_plan_without_goals_is_rejected(tmp_path: Path) -> None:
    error = refusal(parse_plan, write(tmp_path, "plan.yaml", "agreements: [Samen verder]\n"))

    assert paths(error) == ["goals"]


def test_a_wrong_value_repeated_down_a_column_is_reported_on_every_row_it_stands(tmp_path: Path) -> None:
    # a column's cells are converted once per distinct value (issue 16): a refusal still stands on each row
    path = write(tmp_path, "scores.csv", f"{SCORE_HEADER}\n"
                 "01234567,diabetes,hba1c,2024-12-31,40,50\n"
                 "01234567,dm3,hba1c,2024-12-31,40,50\n"
                 "01234568,dm3,foot_exam,2024-12-31,40,50\n"
                 "01234568,dm2,foot_exam,2024-12-31,4x,50\n"
                 "01234569,dm2,foot_exam,2024-12-31,4x,50\n")

    error = refusal(parse_scores, path, TODAY)

    assert located(error) == [(3, "programme"), (4, "programme"), (5, "numerator"), (6, "numerator")]
    assert error.problems[0].message == error.problems[1].message and "'dm3' is onbekend" in error.problems[0].message
    assert error.problems[2].message == error.problems[3].message


def test_the_same_bsn_in_two_rows_is_refused_on_both(tmp_path: Path) -> None:
    path = write(tmp_path, "practices.csv", "agb_code,name,note\n"
                 "01234567,De Linde,111222333\n01234568,Zuid,\n01234569,Noord,111222333\n")

    with pytest.raises(PatientDataError) as caught:
        parse_practices(path)

    assert [(p.row, p.column) for p in caught.value.problems] == [(2, "note"), (4, "note")]
