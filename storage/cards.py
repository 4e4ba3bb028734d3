"""Reading and writing instruction cards and patient leaflets: the card sets published, each practice's folder marked
current, the officers' report of who is behind, and the leaflet register.

The caller owns the transaction, as in ``storage.repository``.

Invariants:
- A card set is stored once per version (``INSERT ... ON CONFLICT DO NOTHING``): publishing it again finds the one
  stored; a folder mark is stored once per practice, version and day.
- ``behind_reported_on`` is set with ``WHERE behind_reported_on IS NULL``: of two sweeps reporting one set, one
  wins (``mark_behind_reported`` returns False for the other), so the officers hear of a set once.
- The leaflet register is replaced whole by an import.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from domain.cards import CardSet, FolderMark, FolderStanding, Leaflet, standing
from domain.messages import uuid5_text
from domain.vocabulary import Programme
from storage.tables import CardFolderRow, CardSetRow, LeafletRow


def _card_set(row: CardSetRow) -> CardSet:
    return CardSet(version=row.version, published_on=row.published_on, note=row.note, recorded_at=row.recorded_at,
                   actor=row.actor)


def add_card_set(session: Session, card_set: CardSet) -> bool:
    """Store a published set; False when its version was stored before (the caller compares with ``card_set``)."""
    from storage.obligations import insert_ignore  # loaded when a fact is written, not to show the status

    return bool(insert_ignore(session, CardSetRow, [{
        "version": card_set.version, "published_on": card_set.published_on, "note": card_set.note,
        "recorded_at": card_set.recorded_at, "actor": card_set.actor, "behind_reported_on": None}], ["version"]))


def card_set(session: Session, version: str) -> CardSet | None:
    row = session.get(CardSetRow, version)
    return _card_set(row) if row is not None else None


def card_sets(session: Session, *, recorded_by: datetime | None = None) -> list[CardSet]:
    """Every published set (recorded by ``recorded_by``, when given), oldest publication first."""
    query = select(CardSetRow)
    if recorded_by is not None:
        query = query.where(col(CardSetRow.recorded_at) <= recorded_by)
    order = (col(CardSetRow.published_on), col(CardSetRow.recorded_at), col(CardSetRow.version))
    return [_card_set(r) for r in session.exec(query.order_by(*order))]


def unreported_card_sets(session: Session) -> list[CardSet]:
    """The sets whose practices still behind have not been reported to the officers."""
    query = select(CardSetRow).where(col(CardSetRow.behind_reported_on).is_(None))
    return [_card_set(r) for r in session.exec(query.order_by(col(CardSetRow.published_on)))]


def mark_behind_reported(session: Session, version: str, on: date) -> bool:
    """Note that the officers heard on ``on`` who is behind on ``version``; False when another sweep did first."""
    t = CardSetRow.__table__  # type: ignore[attr-defined]
    done = session.execute(sa.update(t).where(t.c.version == version, t.c.behind_reported_on.is_(None))
                           .values(behind_reported_on=on))
    return bool(done.rowcount)  # type: ignore[attr-defined]


def add_folder_mark(session: Session, mark: FolderMark) -> bool:
    """Store that a practice's folder was made current; False when exactly this was stored before."""
    from storage.obligations import insert_ignore

    row_id = uuid5_text(f"card_folder:{mark.agb_code}:{mark.version}:{mark.current_on.isoformat()}")
    return bool(insert_ignore(session, CardFolderRow, [{
        "id": row_id, "agb_code": mark.agb_code, "version": mark.version, "current_on": mark.current_on,
        "recorded_at": mark.recorded_at, "actor": mark.actor}], ["id"]))


def folder_marks(session: Session, codes: Sequence[str] | None = None, *,
                 recorded_by: datetime | None = None) -> list[FolderMark]:
    """The folder marks of the given practices (of all), recorded by ``recorded_by`` when given."""
    query = select(CardFolderRow)
    if codes is not None:
        query = query.where(col(CardFolderRow.agb_code).in_(list(codes)))
    if recorded_by is not None:
        query = query.where(col(CardFolderRow.recorded_at) <= recorded_by)
    order = (col(CardFolderRow.agb_code), col(CardFolderRow.current_on), col(CardFolderRow.recorded_at))
    return [FolderMark(agb_code=r.agb_code, version=r.version, current_on=r.current_on, recorded_at=r.recorded_at,
                       actor=r.actor) for r in session.exec(query.order_by(*order))]


def folder_standings(session: Session, codes: Sequence[str], on: date, *,
                     recorded_by: datetime | None = None) -> dict[str, FolderStanding]:
    """Where the folders of ``codes`` stand on ``on`` (``domain.cards.standing``), of what was recorded by
    ``recorded_by`` when given (a past moment's view)."""
    sets = card_sets(session, recorded_by=recorded_by)
    marks = folder_marks(session, codes, recorded_by=recorded_by) if sets else []
    return {code: standing(code, sets, marks, on) for code in codes}


def replace_leaflets(session: Session, leaflets: Sequence[Leaflet], at: datetime, actor: str) -> int:
    """The register becomes ``leaflets``; returns how many it holds."""
    session.execute(delete(LeafletRow))
    for x in leaflets:
        session.add(LeafletRow(id=uuid5_text(f"leaflet:{x.programme.value}:{x.title}"),
                               programme=x.programme.value, title=x.title, url=x.url, recorded_at=at, actor=actor))
    session.flush()
    return len(leaflets)


def leaflets(session: Session) -> list[Leaflet]:
    """The leaflet register, by programme and title."""
    rows = session.exec(select(LeafletRow).order_by(col(LeafletRow.programme), col(LeafletRow.title)))
    return [Leaflet(programme=Programme(r.programme), title=r.title, url=r.url) for r in rows]
