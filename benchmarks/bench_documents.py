"""Benchmark of the printable documents (issue #16): the conversation pack every conversation invitation carries, and
the board's report, made in one process as a renderer worker makes them.

Three documents, each made ``--repeat`` times after one warm-up (the fonts parsed and their subsets made once per
process, as in a worker): the sample invitation's pack (``notifications.rendering.sample_messages``: three
indicators, a chart, agreements, a goal, support, a checklist and a leaflet, two pages), the pack of a start
conversation as the CLI path at 500 practices queues it (eight indicators over two programmes, nothing else: the
10,000 packs of the CLI path's first quarter at 5,000 practices look like it), and the sample board report.
Reported: milliseconds a document (the median of ``--rounds`` rounds) and its size.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_documents.py [--repeat 200] [--rounds 3]

The project is imported from ``sys.path`` as it stands (``PYTHONPATH=<a worktree>`` measures another commit's code
with the same script).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parent.parent))  # after PYTHONPATH: a worktree given there wins

MADE = datetime(2024, 2, 4, 5, 0, tzinfo=UTC)

NAMES = {("copd", "burden_measured"): "Ziektelast gemeten (CCQ of MRC) in afgelopen 12 maanden",
         ("copd", "inhaler_checked"): "Inhalatietechniek gecontroleerd in afgelopen 12 maanden",
         ("copd", "smoking_recorded"): "Rookgedrag geregistreerd in afgelopen 12 maanden",
         ("dm2", "bp_measured"): "Systolische bloeddruk gemeten in afgelopen 12 maanden",
         ("dm2", "egfr_measured"): "Nierfunctie (eGFR) bepaald in afgelopen 12 maanden",
         ("dm2", "foot_exam"): "Voetonderzoek in afgelopen 12 maanden",
         ("dm2", "hba1c_measured"): "HbA1c bepaald in afgelopen 12 maanden",
         ("dm2", "ldl_measured"): "LDL-cholesterol bepaald in afgelopen 12 maanden"}


def start_conversation_pack() -> dict[str, Any]:
    """A start conversation's invitation as the CLI path queues it (``benchmarks/cli_path.py``, first quarter)."""
    people = [("gp_principal", "Huisarts 1", "huisarts@praktijk1.example"),
              ("poh_chronic", "POH-S 1", "poh.s@praktijk1.example"),
              ("practice_manager", "Praktijkmanager 1", "pm@praktijk1.example"),
              ("officer", "Functionaris 1", "functionaris1@zorggroep.example")]
    indicators = [{"programme": p, "indicator": i, "name": name, "score": round(100 * (200 - n) / 241, 1),
                   "numerator": 200 - n, "denominator": 241, "target": None, "national_average": None,
                   "national_average_year": None, "small_numbers": False}
                  for n, ((p, i), name) in enumerate(sorted(NAMES.items()))]
    return {"care_group": {"name": "Zorggroep Benchmark"},
            "practice": {"agb_code": "01000001", "name": "Huisartsenpraktijk 1", "gp_group": "HAGRO-0001"},
            "conversation": {"kind": "start", "start": "2024-02-12T14:00:00+01:00",
                             "end": "2024-02-12T15:30:00+01:00",
                             "location": "Huisartsenpraktijk 1 (praktijkbezoek)", "programme": None},
            "organizer": {"name": "Functionaris 1", "email": "functionaris1@zorggroep.example"},
            "attendees": [{"role": r, "name": n, "email": e} for r, n, e in people],
            "calendar_key": "conversation:start_conversation:01000001:cycle:2024-01-01", "calendar_sequence": 0,
            "prepare": {"period_end": "2023-12-31", "indicators": indicators, "open_agreements": [],
                        "agreements": [], "goals": [], "meeting_absence": [], "checklist": None, "leaflets": []}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200, help="documents of each kind a round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from notifications.pdf import board_report_pdf, conversation_pack_pdf
    from notifications.rendering import sample_messages

    samples = sample_messages().values()
    invitation = dict(next(m for m in samples if m.kind == "conversation_invitation").payload)
    digest = dict(next(m for m in samples if m.kind == "board_digest").payload)
    support = [{"kind": "coaching on the job", "on": "2025-05-01", "by": "M. Coach", "half_days": 2}]
    start = start_conversation_pack()
    documents: list[tuple[str, Callable[[], bytes]]] = [
        ("the sample conversation pack (2 pages, a chart)", lambda: conversation_pack_pdf(invitation, MADE, support)),
        ("a start conversation's pack (the CLI path)", lambda: conversation_pack_pdf(start, MADE)),
        ("the sample board report", lambda: board_report_pdf(digest, MADE)),
    ]
    print(f"python {sys.version.split()[0]}; {args.repeat} documents a round, {args.rounds} rounds")
    for name, make in documents:
        size = len(make())  # the warm-up: fonts parsed, subsets made
        rounds = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            for _ in range(args.repeat):
                make()
            rounds.append((time.perf_counter() - started) / args.repeat * 1000)
        print(f"  {name}: {statistics.median(rounds):.2f} ms ({', '.join(f'{r:.2f}' for r in rounds)}); "
              f"{size:,} bytes")


if __name__ == "__main__":
    main()
