"""Reading and writing what happens to POH and practice-manager meetings: their events, append-only, and the
projection of each.

The caller owns the transaction, as in ``storage.repository``: a change's event and its projection are committed
together (with the meeting's obligation it moves or closes).

Invariants:
- ``meeting_event`` is append-only, ``UNIQUE(meeting_key, seq)``; the projection is written only
  ``WHERE version = <the event's seq - 1>``: two officers changing one meeting at once cannot both win, the loser
  is told (``ConcurrentUpdateError``).
- The projection is the fold of the events (``domain.meetings.MeetingView.apply``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.meetings import MeetingEvent, MeetingState, MeetingTrigger, MeetingView
from domain.messages import uuid5_text
from storage.repository import ConcurrentUpdateError
from storage.tables import MeetingEventRow, MeetingRow

_DATES = ("moved_to", "held_on")


def _as_json(view: MeetingView) -> dict[str, Any]:
    data: dict[str, Any] = {k: getattr(view, k) for k in view.__dataclass_fields__}
    data.update({k: data[k].isoformat() if data[k] else None for k in _DATES})
    data["status"], data["topics"] = view.status.value, list(view.topics)
    data["attended"] = [list(a) for a in view.attended]
    return data


def _from_json(data: Mapping[str, Any]) -> MeetingView:
    values = dict(data)
    values.update({k: date.fromisoformat(values[k]) if values[k] else None for k in _DATES})
    values["status"], values["topics"] = MeetingState(values["status"]), tuple(values["topics"])
    values["attended"] = tuple((agb, name) for agb, name in values["attended"])
    return MeetingView(**values)


def append(session: Session, event: MeetingEvent, view: MeetingView) -> None:
    """Store the event and move the projection to ``view`` (the view after the event)."""
    session.add(MeetingEventRow(
        id=uuid5_text(f"meeting_event:{event.meeting_key}:{event.seq}"), meeting_key=view.key,
        seq=event.seq, trigger=event.trigger.value, from_state=event.from_state.value, to_state=event.to_state.value,
        on=event.on, recorded_at=event.recorded_at, actor=event.actor, details=dict(event.details)))
    if event.seq == 1:
        session.add(MeetingRow(key=view.key, kind=view.kind, state=view.status.value, version=view.version,
                               view=_as_json(view)))
    else:
        t = MeetingRow.__table__  # type: ignore[attr-defined]
        done = session.connection().execute(
            sa.update(t).where(t.c.key == view.key, t.c.version == event.seq - 1)
            .values(state=view.status.value, version=view.version, view=_as_json(view)))
        if done.rowcount != 1:
            raise ConcurrentUpdateError(f"overleg {view.key} is intussen door iemand anders gewijzigd; bekijk het "
                                        "opnieuw (qualitycycle meeting)")
    session.flush()


def load(session: Session, key: str) -> MeetingView | None:
    row = session.get(MeetingRow, key)
    return _from_json(row.view) if row is not None else None


def load_many(session: Session, keys: Sequence[str] | None = None) -> dict[str, MeetingView]:
    """The meetings with something recorded (of ``keys``, or all), by key."""
    query = select(MeetingRow)
    if keys is not None:
        query = query.where(col(MeetingRow.key).in_(list(keys)))
    return {r.key: _from_json(r.view) for r in session.exec(query)}


def events(session: Session, key: str) -> list[MeetingEvent]:
    rows = session.exec(select(MeetingEventRow).where(col(MeetingEventRow.meeting_key) == key)
                        .order_by(col(MeetingEventRow.seq)))
    return [MeetingEvent(meeting_key=r.meeting_key, seq=r.seq, trigger=MeetingTrigger(r.trigger),
                         from_state=MeetingState(r.from_state), to_state=MeetingState(r.to_state), on=r.on,
                         recorded_at=r.recorded_at, actor=r.actor, details=dict(r.details or {})) for r in rows]
