"""Which two officers hold a practice's conversations (seed section 1: two officers of the care group attend each
annual conversation): assigned by an officer, or spread evenly when a practice first needs them, and kept.

Invariants:
- Once a practice has its officers they stay, also when another officer joins; only an officer who left the
  registry is replaced (by the least loaded), and an officer's own assignment replaces any earlier one.
- Nothing here reads the clock: the moment comes in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from domain.clock import as_amsterdam
from domain.errors import NotFoundError
from domain.inputs import check_name, checked
from domain.registry import Person, Role
from domain.rules.attendance import OFFICERS_PER_PRACTICE, least_loaded, officer_load
from flows.services.context import ENGINE_ACTOR, Services, UnknownPracticeError
from storage import repository as repo


class UnknownOfficerError(NotFoundError):
    """A name that is not one of the care group's officers in the registry."""


def officers_of(s: Session, codes: Sequence[str], officers: Sequence[Person], at: datetime,
                actor: str = ENGINE_ACTOR) -> dict[str, tuple[Person, ...]]:
    """Each practice's officers, in the caller's transaction: kept ones still in the registry, else (or topped up
    with) the least loaded, stored so they stay."""
    if not codes:
        return {}
    by_name = {p.name: p for p in officers}
    needed = min(OFFICERS_PER_PRACTICE, len(by_name))
    held = repo.officer_assignments(s, codes)
    if any(len([name for name in held.get(code, []) if name in by_name]) < needed for code in codes):
        # one to choose for: the load is every practice's (it spreads the officers over the care group)
        held = repo.officer_assignments(s)
    load = officer_load(held)  # kept up to date as practices get officers (not counted again per practice)
    found: dict[str, tuple[Person, ...]] = {}
    for code in codes:
        kept = [name for name in held.get(code, []) if name in by_name]
        if len(kept) < needed:
            load.subtract(held.get(code, []))  # the practice's own officers do not count against them
            chosen = kept + list(least_loaded(sorted(set(by_name) - set(kept)), load, needed - len(kept)))
            if code in held:
                repo.assign_officers(s, code, chosen, at, actor, by_hand=False)
            else:
                chosen = repo.keep_officers(s, code, chosen, at, actor)
            load.update(chosen)
            held[code] = chosen
            kept = [name for name in chosen if name in by_name]
        found[code] = tuple(by_name[name] for name in kept)
    return found


def assign(services: Services, agb_code: str, names: Sequence[str], now: datetime, actor: str) -> tuple[str, ...]:
    """An officer's own choice of the (one or two) officers who hold a practice's conversations."""
    names = [checked(check_name, name, "--officer") for name in names]
    if not 1 <= len(set(names)) <= OFFICERS_PER_PRACTICE or len(set(names)) != len(names):
        raise UnknownOfficerError(f"geef één of {OFFICERS_PER_PRACTICE} verschillende functionarissen (--officer)")
    with services.transaction() as s:
        if not repo.is_registered(s, agb_code):
            raise UnknownPracticeError(agb_code)
        known = {p.name for p in repo.contacts(s, Role.OFFICER)}
        for name in names:
            if name not in known:
                raise UnknownOfficerError(f"--officer {name}: geen functionaris in het register (bekend: "
                                          f"{', '.join(sorted(known)) or 'geen'})")
        repo.assign_officers(s, agb_code, names, as_amsterdam(now), actor)
    return tuple(names)


def assignments(services: Services) -> dict[str, list[str]]:
    """Per practice, the officers who hold its conversations (as kept; a practice not yet given any is absent)."""
    with services.session() as s:
        return {code: list(names) for code, names in repo.officer_assignments(s).items()}
