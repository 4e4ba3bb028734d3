"""Reading and writing the practice's own quality system (seed 003): checklists, NHG accreditation, peer review group.

The caller owns the transaction, as in ``storage.repository``.

Invariants:
- A checklist is one row per practice and day (id derived from both); the first recording stands (``checklist_on``
  lets the service tell the same checklist from another).
- Accreditations and peer review groups are append-only; the latest recording (by ``recorded_at``) stands.
- Every write counts as a change of the practice's facts (``storage.review.touch``), so the next sweep plans it.
- Planning reads what had happened by a day (``on``): a checklist filled in later is not seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from domain.clock import as_amsterdam
from domain.messages import uuid5_text
from domain.quality_system import Accreditation, Checklist, FilledChecklist, PeerReviewGroup
from storage import review
from storage.tables import NhgAccreditationRow, PeerReviewGroupRow, PracticeChecklistRow


def checklist_id(agb_code: str, filled_on: date) -> str:
    return uuid5_text(f"practice_checklist:{agb_code}:{filled_on.isoformat()}")


def _answers(checklist: Checklist) -> dict[str, Any]:
    return {c.value: a.model_dump(mode="json", exclude_none=True) for c, a in checklist.answers.items()}


def _filled(row: PracticeChecklistRow) -> FilledChecklist:
    return FilledChecklist(row.agb_code, row.filled_on, Checklist.model_validate(
        {"dispensing_practice": row.dispensing_practice, "answers": row.answers}))


def checklist_on(session: Session, agb_code: str, filled_on: date) -> FilledChecklist | None:
    row = session.get(PracticeChecklistRow, checklist_id(agb_code, filled_on))
    return _filled(row) if row is not None else None


def add_checklist(session: Session, agb_code: str, filled_on: date, checklist: Checklist, now: datetime,
                  actor: str) -> None:
    session.add(PracticeChecklistRow(id=checklist_id(agb_code, filled_on), agb_code=agb_code, filled_on=filled_on,
                                     dispensing_practice=checklist.dispensing_practice, answers=_answers(checklist),
                                     recorded_at=now, actor=actor))
    session.flush()
    review.touch(session, [agb_code])


def latest_checklists(session: Session, codes: Sequence[str] | None = None, on: date | None = None
                      ) -> dict[str, FilledChecklist]:
    """Per practice, its latest checklist filled in by ``on``."""
    query = select(PracticeChecklistRow)
    if codes is not None:
        query = query.where(col(PracticeChecklistRow.agb_code).in_(list(codes)))
    if on is not None:
        query = query.where(col(PracticeChecklistRow.filled_on) <= on)
    out: dict[str, FilledChecklist] = {}
    for row in session.exec(query.order_by(col(PracticeChecklistRow.filled_on))):
        out[row.agb_code] = _filled(row)  # the last one stands
    return out


def checklists(session: Session, agb_code: str | None = None) -> list[FilledChecklist]:
    """Every checklist (of a practice), by practice and day."""
    query = select(PracticeChecklistRow)
    if agb_code is not None:
        query = query.where(col(PracticeChecklistRow.agb_code) == agb_code)
    return [_filled(r) for r in session.exec(query.order_by(col(PracticeChecklistRow.agb_code),
                                                            col(PracticeChecklistRow.filled_on)))]


def add_accreditation(session: Session, agb_code: str, accreditation: Accreditation, now: datetime,
                      actor: str) -> None:
    key = f"nhg_accreditation:{agb_code}:{accreditation.valid_until}:{accreditation.audited_on}:{now.isoformat()}"
    session.add(NhgAccreditationRow(id=uuid5_text(key), agb_code=agb_code,
                                    valid_until=accreditation.valid_until, audited_on=accreditation.audited_on,
                                    recorded_at=now, actor=actor))
    session.flush()
    review.touch(session, [agb_code])


def accreditations(session: Session, codes: Sequence[str] | None = None, on: date | None = None
                   ) -> dict[str, Accreditation]:
    """Per practice, its accreditation as last recorded (by the end of ``on``)."""
    query = select(NhgAccreditationRow)
    if codes is not None:
        query = query.where(col(NhgAccreditationRow.agb_code).in_(list(codes)))
    out: dict[str, Accreditation] = {}
    for row in session.exec(query.order_by(col(NhgAccreditationRow.recorded_at), col(NhgAccreditationRow.id))):
        if on is not None and as_amsterdam(row.recorded_at).date() > on:
            continue
        out[row.agb_code] = Accreditation(valid_until=row.valid_until, audited_on=row.audited_on)
    return out


def add_peer_review(session: Session, agb_code: str, group: PeerReviewGroup, now: datetime, actor: str) -> None:
    key = f"peer_review_group:{agb_code}:{group.group}:{group.ekc}:{now.isoformat()}"
    session.add(PeerReviewGroupRow(id=uuid5_text(key), agb_code=agb_code, group_name=group.group,
                                   led_by_ekc=group.led_by_ekc, ekc_name=group.ekc, recorded_at=now, actor=actor))
    session.flush()


def peer_review_groups(session: Session, codes: Sequence[str] | None = None) -> dict[str, PeerReviewGroup]:
    """Per practice, its peer review group as last recorded."""
    query = select(PeerReviewGroupRow)
    if codes is not None:
        query = query.where(col(PeerReviewGroupRow.agb_code).in_(list(codes)))
    out: dict[str, PeerReviewGroup] = {}
    for row in session.exec(query.order_by(col(PeerReviewGroupRow.recorded_at), col(PeerReviewGroupRow.id))):
        out[row.agb_code] = PeerReviewGroup(group=row.group_name, ekc=row.ekc_name)
    return out
