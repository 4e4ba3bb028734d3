"""Instruction cards and patient leaflets (seed section 3): a new set of cards published and every practice told,
each practice's folder marked current, the practices still behind listed for the officers once the policy's weeks
have passed, and the register of patient leaflets per programme that the invitations link.

Who is behind and by when is decided in ``domain.cards``; this module checks what comes in, stores the facts and
queues the messages.

Invariants:
- Every fact has two times: the day it happened (``published_on``, ``current_on``) and the moment it was recorded;
  a day in the future is refused, and so are an unknown practice or version and a note holding a BSN-like number,
  before anything is stored.
- Publishing stores the set and queues one ``cards_published`` per practice in the cycle (to its own address) in
  one transaction, under deterministic keys: the same set published again stores and queues nothing new; the same
  version with another day or note is refused.
- The sweep (``report_cards_behind``) lists the practices still behind on a set for the officers once, on its first
  run after the set's deadline (``domain.cards.current_by``): the report is marked with its messages in one
  transaction.
- Nothing here reads the clock: the moment comes in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from domain.cards import (
    CardSet,
    FolderMark,
    FolderStanding,
    Leaflet,
    behind_on,
    check_version,
    current_by,
    published_by,
    standing,
)
from domain.clock import as_amsterdam, future_fact
from domain.errors import ConflictError, InFutureError, InputError, NotFoundError
from domain.inputs import check_date, check_text, checked
from domain.registry import Role
from domain.vocabulary import date_nl
from flows.services.context import Services, UnknownPracticeError
from flows.services.duties import DutyReport
from notifications.compose import cards_behind_messages, cards_published_messages
from storage import cards as store
from storage import repository as repo


class UnknownCardsVersionError(NotFoundError):
    """A version of the instruction cards that was never published."""


class CardsConflictError(ConflictError):
    """A version published before with another day or note."""


class CardsInFutureError(InFutureError):
    """A publication or a folder made current on a day that has not come."""


class CardsBeforePublicationError(InputError):
    """A folder made current with a version before that version was published."""


@dataclass(frozen=True)
class Published:
    """What ``publish_cards`` did: the set, whether it is new, the practices told now, and their deadline."""

    card_set: CardSet
    new: bool
    queued: int
    current_by: date


@dataclass(frozen=True)
class FolderLine:
    """A practice's folder as the views show it."""

    agb_code: str
    name: str
    standing: FolderStanding

    def as_json(self) -> dict[str, str | bool | None]:
        f = self.standing
        return {"agb_code": self.agb_code, "name": self.name, "version": f.version,
                "current_on": f.current_on.isoformat() if f.current_on else None, "latest": f.latest,
                "behind": f.behind, "behind_since": f.behind_since.isoformat() if f.behind_since else None}


def _not_in_future(on: date, now: datetime, what: str, option: str) -> None:
    checked(check_date, on, option)
    future = future_fact(f"{option}: {what} op", on, as_amsterdam(now).date(), "leg het vast op of na die dag")
    if future:
        raise CardsInFutureError(future)


def publish_cards(services: Services, version: str, on: date, now: datetime, actor: str, *,
                  note: str | None = None) -> Published:
    """Record a new set of instruction cards published on ``on`` and tell every practice in the cycle, with what
    changed (``note``) and by when its folder should be current."""
    version = checked(check_version, version, "VERSIE")
    note = checked(check_text, note, "--note") if note is not None else None
    _not_in_future(on, now, f"publicatie van instructiekaarten versie {version}", "--on")
    now = as_amsterdam(now)
    deadline = current_by(on, services.in_force(on).policy, services.calendar)
    card_set = CardSet(version=version, published_on=on, note=note, recorded_at=now, actor=actor)
    with services.transaction() as s:
        new = store.add_card_set(s, card_set)
        if not new:
            stored = store.card_set(s, version)
            assert stored is not None
            if (stored.published_on, stored.note) != (on, note):
                raise CardsConflictError(
                    f"VERSIE: instructiekaarten versie {version} zijn al vastgelegd als gepubliceerd op "
                    f"{stored.published_on.isoformat()}" + (f" ({stored.note})" if stored.note else "")
                    + "; kies een nieuwe versie")
            card_set = stored
        practices = repo.practices_in_cycle(s)
        sets = [c for c in store.card_sets(s) if c.version != version]
        marks = store.folder_marks(s, [p.agb_code for p in practices])
        told = [(p, standing(p.agb_code, sets, marks, on).version) for p in practices]
        queued = repo.queue_messages(s, cards_published_messages(card_set, deadline, told, repo.care_group_name(s)),
                                     created_at=now)
    return Published(card_set, new, len(queued), deadline)


def mark_cards_current(services: Services, agb_code: str, version: str, on: date, now: datetime,
                       actor: str) -> bool:
    """Record that a practice's folder holds ``version`` since ``on``; False when exactly this was recorded before."""
    version = checked(check_version, version, "--version")
    _not_in_future(on, now, f"kwaliteitsmap bijgewerkt met versie {version}", "--on")
    with services.transaction() as s:
        if not repo.is_registered(s, agb_code):
            raise UnknownPracticeError(agb_code)
        card_set = store.card_set(s, version)
        if card_set is None:
            known = ", ".join(c.version for c in store.card_sets(s)) or "nog geen"
            raise UnknownCardsVersionError(f"--version: instructiekaarten versie {version!r} zijn niet gepubliceerd "
                                           f"(gepubliceerd: {known}; qualitycycle publish-cards)")
        if on < card_set.published_on:
            raise CardsBeforePublicationError(
                f"--on {on.isoformat()} ligt voor de publicatie van versie {version} op "
                f"{card_set.published_on.isoformat()}")
        return store.add_folder_mark(s, FolderMark(agb_code=agb_code, version=version, current_on=on,
                                                   recorded_at=as_amsterdam(now), actor=actor))


def folders(services: Services, on: date, *, behind_only: bool = False) -> list[FolderLine]:
    """Every practice in the cycle with its folder on ``on``: the version it has and since when, and since when it
    is behind (``behind_only``: only those behind)."""
    with services.session() as s:
        practices = repo.practices_in_cycle(s)
        found = store.folder_standings(s, [p.agb_code for p in practices], on)
    lines = [FolderLine(p.agb_code, p.name, found[p.agb_code]) for p in practices]
    return [x for x in lines if x.standing.behind or not behind_only]


def card_sets(services: Services) -> list[CardSet]:
    with services.session() as s:
        return store.card_sets(s)


def report_cards_behind(services: Services, now: datetime, report: DutyReport) -> None:
    """For every set whose deadline has passed and not yet reported: the practices still behind on it, to the
    officers, once (a set nobody is behind on is marked without a message)."""
    now = as_amsterdam(now)
    on = now.date()
    with services.session() as s:
        pending = [c for c in store.unreported_card_sets(s) if c.published_on <= on]
    for card_set in pending:
        deadline = current_by(card_set.published_on, services.in_force(card_set.published_on).policy,
                              services.calendar)
        if on <= deadline:
            continue
        with services.transaction() as s:
            if not store.mark_behind_reported(s, card_set.version, on):
                continue  # another sweep reported it; its messages share our keys
            sets = published_by(store.card_sets(s), on)
            practices = repo.practices_in_cycle(s)
            marks = store.folder_marks(s, [p.agb_code for p in practices])
            behind = [(p, standing(p.agb_code, sets, marks, on)) for p in practices
                      if behind_on(card_set, p.agb_code, sets, marks, on)]
            messages = cards_behind_messages(card_set, deadline, behind, repo.contacts(s, Role.OFFICER),
                                             repo.care_group_name(s))
            new = repo.queue_messages(s, messages, created_at=now)
        report.queued.update(m.kind for m in messages if m.key in new)
        report.line("zorggroep", f"instructiekaarten versie {card_set.version}",
                    f"{len(behind)} praktijk(en) niet bijgewerkt op {date_nl(deadline)}"
                    + (f": {', '.join(p.agb_code for p, _ in behind)}" if behind else ""))


def import_leaflets(services: Services, leaflets: Sequence[Leaflet], now: datetime, actor: str) -> int:
    """The register of patient leaflets becomes ``leaflets`` (the file is the whole register)."""
    with services.transaction() as s:
        return store.replace_leaflets(s, leaflets, as_amsterdam(now), actor)


def leaflets(services: Services) -> list[Leaflet]:
    with services.session() as s:
        return store.leaflets(s)
