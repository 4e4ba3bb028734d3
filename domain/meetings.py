"""The POH meetings and practice-manager meetings as they happen (seed section 4, "Overleggen": 4-6 times a year
each, "elkaar informeren en inspireren"; national developments, the care group's and the practices'): an agenda
officers add topics to, a day that can move, and a meeting held with the people who came and its minutes.

A meeting's duty on the calendar is an obligation (``domain.obligations.meeting_obligations``); what happens to it
is a lifecycle of its own (``statemachines.meeting``): planned (topics added, moved), then held. Every change is an
event; the view is the fold of its events.

Invariants:
- A view is exactly the fold of its events (``MeetingView.apply``): replaying them rebuilds it.
- A meeting is done when it is recorded as held, not when its date passes.
- Attendance is counted per practice and year over the meetings held that the practice was invited to (it has
  people in the meeting's roles); a practice that came to none of them is absent all year.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class MeetingState(StrEnum):
    PLANNED = "planned"
    HELD = "held"


class MeetingTrigger(StrEnum):
    ADD_TOPIC = "add_topic"
    MOVE = "move"
    HOLD = "hold"


MEETING_STATE_NAMES_NL = {MeetingState.PLANNED: "gepland", MeetingState.HELD: "gehouden"}


@dataclass(frozen=True)
class MeetingEvent:
    """One change of a meeting: the day it happened (``on``), when it was recorded and by whom."""

    meeting_key: str
    seq: int
    trigger: MeetingTrigger
    from_state: MeetingState
    to_state: MeetingState
    on: date
    recorded_at: datetime
    actor: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MeetingView:
    """Where a meeting stands: the fold of its events (``key`` is its obligation's)."""

    key: str
    kind: str = ""  # poh_meeting | practice_manager_meeting
    status: MeetingState = MeetingState.PLANNED
    version: int = 0
    topics: tuple[str, ...] = ()  # added by officers, besides the seed's three themes
    moved_to: date | None = None  # the day it was moved to (the latest move)
    move_reason: str | None = None
    held_on: date | None = None
    attended: tuple[tuple[str, str], ...] = ()  # (agb_code, name)
    minutes: str | None = None

    def apply(self, event: MeetingEvent) -> MeetingView:
        d = event.details
        view = replace(self, kind=d.get("kind", self.kind), status=event.to_state, version=event.seq)
        if event.trigger is MeetingTrigger.ADD_TOPIC:
            return replace(view, topics=(*self.topics, d["topic"]))
        if event.trigger is MeetingTrigger.MOVE:
            return replace(view, moved_to=date.fromisoformat(d["to"]), move_reason=d.get("reason"))
        return replace(view, held_on=event.on, attended=tuple((a["agb_code"], a["name"]) for a in d["attended"]),
                       minutes=d.get("minutes"))


@dataclass(frozen=True)
class Attendance:
    """A practice's attendance of one kind of meeting in a year: of the meetings held it was invited to, how many
    someone of it came to."""

    agb_code: str
    kind: str
    year: int
    held: int
    attended: int

    @property
    def absent_all_year(self) -> bool:
        return self.held > 0 and self.attended == 0


def attendance(views: Iterable[MeetingView], invited: Mapping[str, frozenset[str]], year: int,
               until: date | None = None) -> list[Attendance]:
    """Per practice (``invited``: the meeting kinds each practice is invited to) and kind (those it is invited to,
    and any it came to all the same), its attendance of the meetings held in ``year`` (by ``until``, when given)."""
    held = [v for v in views if v.status is MeetingState.HELD and v.held_on is not None and v.held_on.year == year
            and (until is None or v.held_on <= until)]
    held_of_kind = Counter(v.kind for v in held)
    # each practice's meetings came to, counted once per meeting however many of it came: one pass over the
    # attendance lists (a sweep asks this for every practice it invites; see test_meetings' property)
    came_to: dict[str, Counter[str]] = {}
    for v in held:
        for agb in {a for a, _ in v.attended}:
            came_to.setdefault(agb, Counter())[v.kind] += 1
    out = []
    for agb, kinds in sorted(invited.items()):
        came = came_to.get(agb, Counter())
        for kind in sorted(kinds | came.keys()):
            out.append(Attendance(agb, kind, year, held_of_kind[kind], came[kind]))
    return out
