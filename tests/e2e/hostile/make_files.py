"""Writes the hostile input files of ``cases.yaml`` into ``files/`` (run once; the files are committed).

Each file has exactly one thing wrong, so that each case expects exactly one line naming where. Files that
text cannot hold (stray bytes, UTF-16, Excel workbooks, a 50,000-bracket YAML) are made here rather than typed.
Run: ``.venv/bin/python tests/e2e/hostile/make_files.py``.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import openpyxl

FILES = Path(__file__).resolve().parent / "files"
HEADER = "agb_code,programme,indicator,period_end,numerator,denominator"
ROW = "01000001,dm2,hba1c_measured,2024-03-31,60,100"
BSN = "111222333"  # passes the eleven-test; belongs to nobody (the test number of the Dutch government's examples)
REGISTRY = """\
care_group: {name: Zorggroep Voorbeeld, email: kwaliteit@zorggroep.example}
officers:
  - {name: A. Jansen, email: a.jansen@zorggroep.example}
board:
  - {name: B. de Vries, email: bestuur@zorggroep.example}
gp_groups:
  - {code: HAGRO-NOORD, name: Hagro Noord}
practices:
  - agb_code: "01000001"
    name: PRACTICE_NAME
    gp_group: HAGRO-NOORD
    email: PRACTICE_EMAIL
    programmes: {dm2: PROGRAMME_START}
    people:
      - {name: PERSON_NAME, role: gp_principal, email: c.bakker@delinde.example}
"""


def registry(**changes: str) -> str:
    text = REGISTRY
    defaults = {"PRACTICE_NAME": "Huisartsenpraktijk De Linde", "PRACTICE_EMAIL": "praktijk@delinde.example",
                "PROGRAMME_START": "2024-01-01", "PERSON_NAME": "C. Bakker"}
    for key, value in {**defaults, **changes}.items():
        text = text.replace(key, value)
    return text


def scores(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def goals(*, indicator: str = "hba1c_measured", target: str = "90", by: str = "2025-03-15") -> str:
    return f"goals: [{{programme: dm2, indicator: {indicator}, target: {target}, by: {by}}}]\n"


def text_files() -> dict[str, str]:
    return {
        # indicator files (import-indicators)
        "scores-bsn-header.csv": scores(f"{ROW},", header=f"{HEADER},bsn"),
        "scores-geb-datum-header.csv": scores(f"{ROW},", header=f"{HEADER},geb_datum"),
        "scores-patient-name-header.csv": scores(f"{ROW},", header=f"{HEADER},Patiënt naam"),
        "scores-bsn-in-remark.csv": scores(f"{ROW},{BSN}", header=f"{HEADER},opmerking"),
        "scores-bsn-in-free-text.csv": scores(f"{ROW},gebeld met pt. bsn 1112.22.333 over recall",
                                              header=f"{HEADER},opmerking"),
        "scores-count-20-digits.csv": scores("01000001,dm2,hba1c_measured,2024-03-31,60,12345678901234567890"),
        "scores-count-5000-digits.csv": scores("01000001,dm2,hba1c_measured,2024-03-31,60," + "9" * 5000),
        "scores-count-3-billion.csv": scores("01000001,dm2,hba1c_measured,2024-03-31,60,3000000000"),
        "scores-count-negative.csv": scores("01000001,dm2,hba1c_measured,2024-03-31,-5,100"),
        "scores-numerator-above-denominator.csv": scores("01000001,dm2,hba1c_measured,2024-03-31,120,100"),
        "scores-period-in-future.csv": scores("01000001,dm2,hba1c_measured,2099-03-31,60,100"),
        "scores-period-impossible-day.csv": scores("01000001,dm2,hba1c_measured,2023-02-30,60,100"),
        "scores-period-placeholder.csv": scores("01000001,dm2,hba1c_measured,9999-12-31,60,100"),
        "scores-unknown-practice.csv": scores("09999999,dm2,hba1c_measured,2024-03-31,60,100"),
        "scores-agb-lost-leading-zero.csv": scores("1000001,dm2,hba1c_measured,2024-03-31,60,100"),
        "scores-unknown-indicator.csv": scores("01000001,dm2,eye_exam_by_drone,2024-03-31,60,100"),
        "scores-escape-in-header.csv": scores(ROW, header=HEADER.replace("denominator", "\x1b[31mdenominator\x1b[0m")),
        "scores-header-only.csv": scores(),
        "scores-empty.csv": "",
        "scores-extra-cell.csv": scores("01000001,dm2,hba1c_measured,2024-03-31,60,100,72,5"),
        "scores-duplicate-column.csv": scores(f"{ROW},61", header=f"{HEADER},numerator"),
        "scores-wrong-extension.txt": scores(ROW),
        # registry CSV (load-registry)
        "practices-email-injection.csv": ('agb_code,name,email\n'
                                          '01000001,De Linde,"praktijk@delinde.example>,<postmaster"\n'),
        "practices-name-with-bsn.csv": f"agb_code,name\n01000001,De Linde {BSN}\n",
        "practices-name-with-line-break.csv": 'agb_code,name\n01000001,"De Linde\r\nHuisartsen"\n',
        "practices-name-too-long.csv": "agb_code,name\n01000001," + "Linde" * 60 + "\n",
        # registry YAML (load-registry)
        "registry-person-name-with-bsn.yaml": registry(PERSON_NAME=f"C. Bakker {BSN}"),
        "registry-practice-name-with-line-break.yaml": registry(PRACTICE_NAME='"De Linde\\r\\nHuisartsen"'),
        "registry-email-injection.yaml": registry(PRACTICE_EMAIL='"praktijk@delinde.example>,<postmaster"'),
        "registry-two-addresses.yaml": registry(PRACTICE_EMAIL='"praktijk@delinde.example, ik@elders.example"'),
        "registry-programme-start-placeholder.yaml": registry(PROGRAMME_START="9999-12-31"),
        "registry-impossible-date.yaml": registry(PROGRAMME_START="2023-02-30"),
        "registry-control-character-in-name.yaml": registry(PERSON_NAME='"C. Bakker\\u0007"'),
        "registry-name-too-long.yaml": registry(PERSON_NAME="C. " + "Bakker" * 30),
        "registry-agb-as-number.yaml": registry().replace('agb_code: "01000001"', "agb_code: 1000001"),
        "registry-agb-5000-digits.yaml": registry().replace('agb_code: "01000001"', "agb_code: " + "1" * 5000),
        "registry-unknown-role.yaml": registry().replace("role: gp_principal", "role: wizard"),
        "registry-duplicate-key.yaml": registry().replace("gp_group: HAGRO-NOORD",
                                                          "gp_group: HAGRO-NOORD\n    gp_group: HAGRO-ZUID"),
        "registry-billion-laughs.yaml": (
            'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
            + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
            + "care_group: *i\n"),
        "registry-deeply-nested.yaml": "practices: " + "[" * 50_000 + "]" * 50_000 + "\n",
        "registry-not-yaml.yaml": "practices: [01000001, {name: De Linde\n",
        "registry-python-object.yaml": "care_group: !!python/object/apply:os.system ['echo gehackt']\n",
        # plans and reports (record-conversation --plan)
        "plan-agreement-with-bsn.yaml": (
            "goals: [{programme: dm2, indicator: hba1c_measured, target: 90, by: 2025-03-15}]\n"
            f'agreements: ["Recall nalopen, te beginnen bij patiënt {BSN}"]\n'),
        "plan-agreement-with-formatted-bsn.yaml": (
            "goals: [{programme: dm2, indicator: hba1c_measured, target: 90, by: 2025-03-15}]\n"
            'agreements: ["Dossier 111-222-333 nakijken"]\n'),
        "plan-goal-placeholder-date.yaml": goals(by="9999-12-31"),
        "plan-goal-impossible-date.yaml": goals(by="2025-02-30"),
        "plan-target-5000-digits.yaml": goals(target="9" * 5000),
        "plan-target-above-100.yaml": goals(target="150"),
        "plan-unknown-indicator.yaml": goals(indicator="eye_exam_by_drone"),
        "plan-agreement-too-long.yaml": (
            "goals: [{programme: dm2, indicator: hba1c_measured, target: 90, by: 2025-03-15}]\n"
            f'agreements: ["{"Recall nalopen. " * 200}"]\n'),
        "plan-agreement-with-escape.yaml": (
            "goals: [{programme: dm2, indicator: hba1c_measured, target: 90, by: 2025-03-15}]\n"
            'agreements: ["Recall nalopen\\u001b[2J"]\n'),
        "plan-no-goals.yaml": 'agreements: ["Recall nalopen"]\n',
        # conversations file (import-conversations)
        "conversations-placeholder-date.csv": "agb_code,kind,held_on\n01000001,annual,9999-12-31\n",
        "conversations-bsn-in-remark.csv": f"agb_code,kind,held_on,opmerking\n01000001,annual,2024-06-03,{BSN}\n",
        "conversations-unknown-kind.csv": "agb_code,kind,held_on\n01000001,koffie,2024-06-03\n",
        # policy files (policy set, policy what-if, QC_POLICY_FILE)
        "policy-billion-laughs.yaml": (
            'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
            + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))),
        "policy-negative-threshold.yaml": "deviation_share_of_target: -0.5\n",
        "policy-unknown-threshold.yaml": "deviaton_share_of_target: 0.15\n",
        "policy-meeting-location-line-break.yaml": 'meeting_location: "Zaal 1\\r\\nBcc: iedereen@example.org"\n',
        "policy-with-courses.yaml": (
            "mandatory_courses: [{code: caspir, name: Caspir, roles: [gp], every_months: 24}]\n"),
        # course catalogues (import-courses)
        "courses-url-with-line-break.csv": (
            "code,name,kind,roles,every_months,url\n"
            'caspir,Caspir,mandatory,gp,24,"https://scholing.example/caspir\r\nBcc: iedereen@example.org"\n'),
        "courses-unknown-role.csv": "code,name,kind,roles,every_months\ncaspir,Caspir,mandatory,gp;tandarts,24\n",
        "courses-every-0-months.csv": "code,name,kind,roles,every_months\ncaspir,Caspir,mandatory,gp,0\n",
        "courses-mandatory-without-months.csv": "code,name,kind,roles,every_months\ncaspir,Caspir,mandatory,gp,\n",
        "courses-unknown-kind.csv": "code,name,kind,roles,every_months\ncaspir,Caspir,facultatief,gp,24\n",
        "courses-code-twice.csv": ("code,name,kind,roles,every_months\ncaspir,Caspir,mandatory,gp,24\n"
                                   "caspir,Caspir opnieuw,mandatory,poh_chronic,24\n"),
        "courses-bsn-in-name.csv": f"code,name,kind,roles,every_months\ncaspir,Caspir voor {BSN},mandatory,gp,24\n",
        "policy-text-instead-of-number.yaml": "deviation_share_of_target: veel\n",
        "policy-not-yaml.toml": "deviation_share_of_target = = 0.15\n",
        # settings files (QC_SETTINGS_FILE)
        "settings-closure-day-garbage.toml": 'closure_days = ["garbage"]\n',
        "settings-mail-from-two-addresses.toml": 'mail_from = "kwaliteit@zorggroep.example, ik@elders.example"\n',
        "settings-broken.toml": "smtp_host = \n",
    }


def byte_files() -> dict[str, bytes]:
    utf8 = scores(ROW).encode()
    return {
        # one stray Windows-1252 byte (0xEB, ë) in a UTF-8 registry: read either way, names would be garbled
        "practices-mixed-encoding.csv": "agb_code,name\n01000001,Praktijk Ëlië\n".encode()
        + b"01000002,Praktijk Zo\xeb\n",
        "registry-mixed-encoding.yaml": registry(PERSON_NAME="C. Bakker-Ëlië").encode()
        .replace(b"email: praktijk@delinde.example", b"email: praktijk@delinde.example  # van Ro\xeb"),
        "scores-utf16-broken.csv": codecs.BOM_UTF16_LE + b"a\x00g\x00b\x00\x00\xd8",
        "scores-excel-named-csv.csv": b"PK\x03\x04" + b"\x00" * 40,
        "scores-binary-garbage.xlsx": b"\x00\x01\x02 dit is geen werkmap " + bytes(range(256)),
        "scores-nul-bytes.csv": utf8.replace(b"60", b"6\x000"),
    }


def workbooks() -> None:
    book = openpyxl.Workbook()
    book.active.title = "Toelichting"
    data = book.create_sheet("Cijfers")
    data.append(HEADER.split(","))
    data.append(["01000001", "dm2", "hba1c_measured", "2024-03-31", 60, 100])
    book.save(FILES / "scores-data-on-second-sheet.xlsx")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([*HEADER.split(","), "Patiënt"])
    sheet.append(["01000001", "dm2", "hba1c_measured", "2024-03-31", 60, 100, int(BSN)])
    book.save(FILES / "scores-bsn-as-number.xlsx")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["agb_code", "name", "email"])
    sheet.append(["01000001", "De Linde\nHuisartsen", "praktijk@delinde.example"])  # Alt-Enter in Excel
    book.save(FILES / "practices-alt-enter.xlsx")


def main() -> None:
    FILES.mkdir(exist_ok=True)
    for name, text in text_files().items():
        (FILES / name).write_text(text, encoding="utf-8", newline="")
    for name, data in byte_files().items():
        (FILES / name).write_bytes(data)
    workbooks()


if __name__ == "__main__":
    main()
