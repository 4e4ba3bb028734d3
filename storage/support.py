"""Reading and writing support activities: their events, append-only, and the projection of each.

The caller owns the transaction, as in ``storage.repository``: a change's event and its projection are committed
together.

Invariants:
- ``support_event`` is append-only, ``UNIQUE(support_id, seq)``; the projection is written only
  ``WHERE version = <the event's seq - 1>``: two officers changing one activity at once cannot both win, the
  loser is told (``ConcurrentUpdateError``).
- The projection is the fold of the events (``domain.support.SupportView.apply``): a replay rebuilds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.messages import uuid5_text
from domain.support import SupportEvent, SupportState, SupportTrigger, SupportView
from domain.vocabulary import SupportKind
from storage import review
from storage.repository import ConcurrentUpdateError
from storage.tables import SupportEventRow, SupportRow

_DATES = ("requested_on", "planned_on", "done_on")


def view_as_json(view: SupportView) -> dict[str, Any]:
    data: dict[str, Any] = {k: getattr(view, k) for k in view.__dataclass_fields__}
    data.update({k: data[k].isoformat() if data[k] else None for k in _DATES})
    data["status"], data["kind"] = view.status.value, view.kind.value if view.kind else None
    return data


def _view_from_json(data: Mapping[str, Any]) -> SupportView:
    values = dict(data)
    values.update({k: date.fromisoformat(values[k]) if values[k] else None for k in _DATES})
    values["status"] = SupportState(values["status"])
    values["kind"] = SupportKind(values["kind"]) if values["kind"] else None
    return SupportView(**values)


def append(session: Session, event: SupportEvent, view: SupportView) -> None:
    """Store the event and move the projection to ``view`` (the view after the event)."""
    session.add(SupportEventRow(
        id=uuid5_text(f"support_event:{event.support_id}:{event.seq}"), support_id=event.support_id,
        agb_code=view.agb_code, seq=event.seq, trigger=event.trigger.value, from_state=event.from_state.value,
        to_state=event.to_state.value, on=event.on, recorded_at=event.recorded_at, actor=event.actor,
        details=dict(event.details)))
    if event.seq == 1:
        session.add(SupportRow(id=view.id, agb_code=view.agb_code, kind=view.kind.value if view.kind else "",
                               state=view.status.value, version=view.version, view=view_as_json(view)))
    else:
        t = SupportRow.__table__  # type: ignore[attr-defined]
        done = session.connection().execute(
            sa.update(t).where(t.c.id == view.id, t.c.version == event.seq - 1)
            .values(state=view.status.value, version=view.version, view=view_as_json(view)))
        if done.rowcount != 1:
            raise ConcurrentUpdateError(f"ondersteuning {view.id} is intussen door iemand anders gewijzigd; "
                                        "bekijk haar opnieuw (qualitycycle support list)")
    session.flush()
    review.touch(session, [view.agb_code])


def load(session: Session, support_id: str) -> SupportView | None:
    row = session.get(SupportRow, support_id)
    return _view_from_json(row.view) if row is not None else None


def events(session: Session, support_id: str) -> list[SupportEvent]:
    rows = session.exec(select(SupportEventRow).where(col(SupportEventRow.support_id) == support_id)
                        .order_by(col(SupportEventRow.seq)))
    return [SupportEvent(support_id=r.support_id, seq=r.seq, trigger=SupportTrigger(r.trigger),
                         from_state=SupportState(r.from_state), to_state=SupportState(r.to_state), on=r.on,
                         recorded_at=r.recorded_at, actor=r.actor, details=dict(r.details or {})) for r in rows]


def of_practice(session: Session, agb_code: str | None = None) -> list[SupportView]:
    """The support activities of a practice (or of all), by the day they were requested."""
    query = select(SupportRow)
    if agb_code is not None:
        query = query.where(col(SupportRow.agb_code) == agb_code)
    views = [_view_from_json(r.view) for r in session.exec(query)]
    return sorted(views, key=lambda v: (v.agb_code, v.requested_on or date.min, v.id))
