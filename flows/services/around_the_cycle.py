"""Around the cycle (issue 14): the parts of the seed besides the conversations, each in one Dutch line per practice
for ``status`` and the practice's indicator view, and counted for the board's digest.

The parts: the POH and practice-manager meetings (attendance, seed 4), training (seed 4, "Scholing"), the quality
folder of instruction cards (seed 3), the neighbourhood (seed 5) and the practice's own quality system (seed 003).

Invariants:
- Read-only; every line and count is of what had happened by the day asked (``on``), except the mandatory courses,
  which are read from the duties planning keeps now (a past day's status shows no training line).
- A part with nothing recorded for a practice has no line (``None`` in JSON): a care group that does not keep a
  part is not shown it.
- Nothing here reads the clock.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.cards import FolderStanding
from domain.neighbourhood import NETWORK_MEETING_NAMES_NL, last_closed_quarter
from domain.obligations import OBLIGATION_NAMES_NL, ObligationKind
from domain.quality_system import summary_nl
from flows.services import meetings as meeting_service
from flows.services import neighbourhood as neighbourhood_service
from flows.services import training as training_service
from flows.services.context import Services
from storage import quality_system as quality_store
from storage import repository as repo
from storage.cards import folder_standings

PARTS = ("meetings", "training", "cards", "neighbourhood", "quality_system")
PART_NAMES_NL = {"meetings": "overleg", "training": "scholing", "cards": "kwaliteitsmap", "neighbourhood": "wijk",
                 "quality_system": "kwaliteitssysteem"}
_STATUS_NL = {"overdue": "over tijd", "due": "aan de beurt", "current": "bij", "followed": "gevolgd"}


@dataclass(frozen=True)
class AroundTheCycle:
    """A practice's parts around the cycle, each in one Dutch line (a part with nothing recorded is absent)."""

    agb_code: str
    lines: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, str | None]:
        return {part: self.lines.get(part) for part in PARTS}

    def lines_nl(self) -> list[str]:
        return [f"{PART_NAMES_NL[part]}: {self.lines[part]}" for part in PARTS if part in self.lines]


def meetings_line(held_attended: Mapping[str, tuple[int, int]], year: int) -> str | None:
    """``POH-overleg 2 van 3, praktijkmanagersoverleg 0 van 3 bijgewoond in 2026``; None before any was held."""
    shown = [f"{OBLIGATION_NAMES_NL[ObligationKind(kind)]} {came} van {held}"
             for kind, (held, came) in sorted(held_attended.items()) if held]
    return f"{', '.join(shown)} bijgewoond in {year}" if shown else None


def training_line(statuses: Sequence[tuple[str, str]]) -> str | None:
    """``1 over tijd (E. Kok), 2 aan de beurt, 4 bij, 1 gevolgd`` from (person, status) of a practice's courses."""
    if not statuses:
        return None
    counts = Counter(status for _, status in statuses)
    overdue = sorted({person for person, status in statuses if status == "overdue"})
    parts = []
    for status in ("overdue", "due", "current", "followed"):
        if counts[status]:
            parts.append(f"{counts[status]} {_STATUS_NL[status]}"
                         + (f" ({', '.join(overdue)})" if status == "overdue" else ""))
    return ", ".join(parts)


def cards_line(folder: FolderStanding | None) -> str | None:
    if folder is None or folder.latest is None:
        return None
    if folder.behind_since is not None:
        return (f"achter sinds {folder.behind_since.isoformat()} (versie {folder.version or 'geen'}, actueel "
                f"{folder.latest})")
    if folder.version != folder.latest:
        return f"versie {folder.latest} nog bij te werken (map: {folder.version or 'geen'})"
    return f"actueel (versie {folder.latest}, sinds {folder.current_on.isoformat() if folder.current_on else '?'})"


def around_the_cycle(services: Services, on: date, codes: Sequence[str] | None = None, *,
                     with_training: bool = True) -> dict[str, AroundTheCycle]:
    """Per practice (``codes``, else all), its parts around the cycle as they stood on ``on``."""
    with services.session() as s:
        wanted = list(codes) if codes is not None else sorted(repo.practice_codes(s))
        folders = folder_standings(s, wanted, on)
        checklists = quality_store.latest_checklists(s, wanted, on)
        accreditations = quality_store.accreditations(s, wanted, on)
        groups = quality_store.peer_review_groups(s, wanted)
    lines: dict[str, dict[str, str]] = {code: {} for code in wanted}
    # this year's meetings held so far; early in a year, before any was held, last year's
    one = wanted[0] if len(wanted) == 1 else None  # one practice's page: read only its own
    this_year: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for a in meeting_service.practice_attendance(services, on.year, one, until=on):
        this_year[a.agb_code][a.kind] = (a.held, a.attended)
    last_year: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    if not any(held for kinds in this_year.values() for held, _ in kinds.values()):
        for a in meeting_service.practice_attendance(services, on.year - 1, one):
            last_year[a.agb_code][a.kind] = (a.held, a.attended)
    around = neighbourhood_service.neighbourhoods(services, on, wanted)
    statuses: dict[str, list[tuple[str, str]]] = defaultdict(list)
    if with_training:
        for t in training_service.training(services, on, one):
            statuses[t.agb_code].append((t.person, t.status))
    for code in wanted:
        found = {
            "meetings": (meetings_line(last_year.get(code, {}), on.year - 1) if last_year
                         else meetings_line(this_year.get(code, {}), on.year)),
            "training": training_line(statuses.get(code, [])),
            "cards": cards_line(folders.get(code)),
            "neighbourhood": around[code].line_nl() if code in around and around[code].anything else None,
            "quality_system": (summary_nl(checklists.get(code), accreditations.get(code), groups.get(code), on)
                               if code in checklists or code in accreditations or code in groups else None),
        }
        lines[code] = {part: line for part, line in found.items() if line is not None}
    return {code: AroundTheCycle(code, lines[code]) for code in wanted}


@dataclass(frozen=True)
class CountLine:
    """One count of the board's digest: the part, a Dutch label, the number, and the practices it is about."""

    part: str
    label: str
    count: int
    practices: tuple[str, ...] = ()

    def as_payload(self) -> dict[str, Any]:
        return {"part": self.part, "label": self.label, "count": self.count, "practices": list(self.practices)}


def around_counts(services: Services, start: date, end: date) -> list[CountLine]:
    """What the board's digest counts around the cycle for a period: the meetings held in it, the practices that
    came to none of the year's meetings, the people overdue on a mandatory course (per practice), the practices
    behind on their instruction cards, the practices whose core team is incomplete or whose GPOs fell behind their
    cadence in the last quarter that ended, the MDOs counted and network meetings held in the period, the GP groups
    whose network plan is overdue for its evaluation, and the practices whose checklist leaves conditions open or
    whose NHG accreditation had lapsed, each at the period's end."""
    with services.session() as s:
        practices = {p.agb_code: p for p in repo.practices(s)}
        codes = sorted(practices)
        folders = folder_standings(s, codes, end)
        checklists = quality_store.latest_checklists(s, codes, end)
        accreditations = quality_store.accreditations(s, codes, end)

    def named(agb_codes: Sequence[str], counts: Mapping[str, int] | None = None) -> tuple[str, ...]:
        return tuple(f"{practices[c].name}" + (f" ({counts[c]})" if counts else "") for c in agb_codes
                     if c in practices)

    out: list[CountLine] = []
    held = Counter(m.kind for y in range(start.year, end.year + 1) for m in meeting_service.meetings(services, y)
                   if m.held_on is not None and start <= m.held_on <= end)
    for kind in (ObligationKind.POH_MEETING, ObligationKind.PRACTICE_MANAGER_MEETING):
        out.append(CountLine("meetings", f"{OBLIGATION_NAMES_NL[kind]} gehouden", held[kind.value]))
    absent = sorted({a.agb_code for a in meeting_service.practice_attendance(
        services, end.year, until=end, registry=list(practices.values())) if a.absent_all_year})
    out.append(CountLine("meetings", f"praktijken bij geen enkel overleg van {end.year}", len(absent), named(absent)))
    overdue = training_service.overdue_people(services, end)
    out.append(CountLine("training", "mensen over tijd met een verplichte scholing", sum(overdue.values()),
                         named(sorted(overdue), overdue)))
    behind = [c for c in codes if folders[c].behind_since is not None]
    out.append(CountLine("cards", "praktijken achter met hun kwaliteitsmap", len(behind), named(behind)))
    around = neighbourhood_service.neighbourhoods(services, end, codes, counts_known_later=True,
                                                  registry=list(practices.values()))
    incomplete = [c for c in codes if (team := around[c].core_team) is not None and team.missing]
    out.append(CountLine("neighbourhood", "praktijken met een onvolledig kernteam ouderenzorg", len(incomplete),
                         named(incomplete)))
    quarter = last_closed_quarter(end)
    gpo_behind = [c for c in codes if around[c].gpo_behind and around[c].quarter == quarter]
    out.append(CountLine("neighbourhood", f"praktijken met minder GPO's dan hun ritme in {quarter.nl}",
                         len(gpo_behind), named(gpo_behind)))
    out.append(CountLine("neighbourhood", "MDO's rond kwetsbare ouderen (hele kwartalen in de periode)",
                         neighbourhood_service.mdos_in(services, start, end)))
    held_network = neighbourhood_service.held_network_meetings(services, start, end)
    for network_kind, name in NETWORK_MEETING_NAMES_NL.items():
        out.append(CountLine("neighbourhood", f"{name}en gehouden", held_network[network_kind.value]))
    overdue_plans = [line.view.gp_group for line in neighbourhood_service.network_plans(services, on=end)
                     if line.overdue(end)]
    out.append(CountLine("neighbourhood", "huisartsengroepen met de evaluatie van hun netwerkplan over tijd",
                         len(overdue_plans), tuple(overdue_plans)))
    open_ = {c: len(checklists[c].open_conditions) for c in codes if c in checklists and checklists[c].open_conditions}
    out.append(CountLine("quality_system", "praktijken met open voorwaarden in hun checklist", len(open_),
                         named(sorted(open_), open_)))
    lapsed = [c for c in codes if c in accreditations and accreditations[c].valid_until < end]
    out.append(CountLine("quality_system", "praktijken met verlopen NHG-accreditering", len(lapsed), named(lapsed)))
    return out
