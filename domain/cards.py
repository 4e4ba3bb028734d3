"""Instruction cards (the quality folder, kwaliteitsmap) and patient leaflets: who is behind, and by when a
practice should have its folder current.

Seed, section 3: the care group publishes practical instruction cards; every practice has a folder with them and
"is zelf verantwoordelijk voor het actualiseren van deze map". The care group publishes a new set (a version, on
a day, with what changed); each practice marks its folder current with a version on a day. Patient leaflets per
programme are on the care group's website: a small register of title and web address per programme.

Invariants:
- Card sets are ordered by the day they were published (then when they were recorded, then version): the last
  one published on or before a day is the current one that day.
- A practice's folder is at the newest set it marked current on or before a day; it is behind when that is not
  the current set, behind since the publication of the first set after the one it has (the first set ever when
  it never marked one).
- A practice should be current within ``Policy.cards_current_within_weeks`` of a publication; the deadline is the
  last working day on or before that (``domain.calendar``), as every "within" of the cycle.
- Pure: no I/O, no clock; the day comes in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.calendar import WorkingCalendar
from domain.inputs import Name, Url, check_name
from domain.policy import Policy
from domain.vocabulary import Programme

_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,31}")


def check_version(text: str) -> str:
    """A card set's version as it stands in a subject line and a command: ``2026.1``, ``v7``, ``2026-03``."""
    text = check_name(text)
    if not _VERSION.fullmatch(text):
        raise ValueError(f"versie {text!r} is ongeldig: letters, cijfers, punt, streep of liggend streepje, "
                         "hoogstens 32 tekens (bijvoorbeeld 2026.1)")
    return text


@dataclass(frozen=True)
class CardSet:
    """A set of instruction cards published on a day (``published_on``), recorded at ``recorded_at``."""

    version: str
    published_on: date
    note: str | None
    recorded_at: datetime
    actor: str


@dataclass(frozen=True)
class FolderMark:
    """A practice's folder marked current with ``version`` on ``current_on`` (recorded at ``recorded_at``)."""

    agb_code: str
    version: str
    current_on: date
    recorded_at: datetime
    actor: str


@dataclass(frozen=True)
class FolderStanding:
    """Where a practice's folder stands on a day: the version it has (since when), the current version, and since
    when it is behind (None: current, or nothing published yet)."""

    agb_code: str
    version: str | None
    current_on: date | None
    latest: str | None
    behind_since: date | None

    @property
    def behind(self) -> bool:
        return self.behind_since is not None


class Leaflet(BaseModel):
    """A patient leaflet of a programme on the care group's website."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    programme: Programme
    title: Name
    url: Url


def ordered(sets: Iterable[CardSet]) -> list[CardSet]:
    return sorted(sets, key=lambda c: (c.published_on, c.recorded_at, c.version))


def published_by(sets: Iterable[CardSet], on: date) -> list[CardSet]:
    """The sets published on or before ``on``, oldest first."""
    return [c for c in ordered(sets) if c.published_on <= on]


def standing(agb_code: str, sets: Sequence[CardSet], marks: Iterable[FolderMark], on: date) -> FolderStanding:
    """Where the practice's folder stands on ``on`` (``sets`` of the care group, ``marks`` of any practice)."""
    known = published_by(sets, on)
    if not known:
        return FolderStanding(agb_code, None, None, None, None)
    place = {c.version: i for i, c in enumerate(known)}
    mine = [m for m in marks if m.agb_code == agb_code and m.current_on <= on and m.version in place]
    best = max(mine, key=lambda m: (place[m.version], m.current_on), default=None)
    latest = known[-1]
    at = place[best.version] if best is not None else -1
    behind_since = known[at + 1].published_on if at + 1 < len(known) else None
    return FolderStanding(agb_code, best.version if best else None, best.current_on if best else None,
                          latest.version, behind_since)


def behind_on(card_set: CardSet, agb_code: str, sets: Sequence[CardSet], marks: Iterable[FolderMark],
              on: date) -> bool:
    """Whether the practice's folder on ``on`` is older than ``card_set`` (a newer set than it counts as current)."""
    known = published_by(sets, on)
    place = {c.version: i for i, c in enumerate(known)}
    if card_set.version not in place:
        return False
    had = [place[m.version] for m in marks if m.agb_code == agb_code and m.current_on <= on and m.version in place]
    return max(had, default=-1) < place[card_set.version]


def current_by(published_on: date, policy: Policy, calendar: WorkingCalendar) -> date:
    """The day a practice's folder should be current with a set published on ``published_on``: within the policy's
    weeks, on the last working day on or before their end."""
    return calendar.on_or_before(published_on + timedelta(weeks=policy.cards_current_within_weeks))


def leaflets_for(leaflets: Iterable[Leaflet], programmes: Iterable[Programme]) -> list[Leaflet]:
    """The leaflets of the given programmes, by programme and title."""
    wanted = set(programmes)
    return sorted((x for x in leaflets if x.programme in wanted), key=lambda x: (x.programme.value, x.title))
