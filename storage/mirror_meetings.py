"""Reading and writing GP groups' mirror meetings: their events, append-only, and the projection of each.

The caller owns the transaction, as in ``storage.repository``: a change's event and its projection are committed
together (with the obligation the request opens, or the held meeting closes).

Invariants:
- ``mirror_meeting_event`` is append-only, ``UNIQUE(meeting_id, seq)``; the projection is written only
  ``WHERE version = <the event's seq - 1>``: two officers changing one meeting at once cannot both win, the loser is
  told (``ConcurrentUpdateError``).
- The projection is the fold of the events (``domain.mirror_meetings.MirrorMeetingView.apply``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.messages import uuid5_text
from domain.mirror_meetings import Accreditation, MirrorEvent, MirrorMeetingView, MirrorState, MirrorTrigger
from storage.repository import ConcurrentUpdateError
from storage.tables import MirrorMeetingEventRow, MirrorMeetingRow

_DATES = ("requested_on", "due_on", "planned_on", "held_on", "accreditation_on")


def view_as_json(view: MirrorMeetingView) -> dict[str, Any]:
    data: dict[str, Any] = {k: getattr(view, k) for k in view.__dataclass_fields__}
    data.update({k: data[k].isoformat() if data[k] else None for k in _DATES})
    data["status"], data["accreditation"] = view.status.value, view.accreditation.value
    data["attendees"] = [list(a) for a in view.attendees]
    return data


def _view_from_json(data: Mapping[str, Any]) -> MirrorMeetingView:
    values = dict(data)
    values.update({k: date.fromisoformat(values[k]) if values[k] else None for k in _DATES})
    values["status"], values["accreditation"] = MirrorState(values["status"]), Accreditation(values["accreditation"])
    values["attendees"] = tuple((role, name) for role, name in values["attendees"])
    return MirrorMeetingView(**values)


def append(session: Session, event: MirrorEvent, view: MirrorMeetingView) -> None:
    """Store the event and move the projection to ``view`` (the view after the event)."""
    session.add(MirrorMeetingEventRow(
        id=uuid5_text(f"mirror_meeting_event:{event.meeting_id}:{event.seq}"),
        meeting_id=event.meeting_id, gp_group=view.gp_group, seq=event.seq, trigger=event.trigger.value,
        from_state=event.from_state.value, to_state=event.to_state.value, on=event.on,
        recorded_at=event.recorded_at, actor=event.actor, details=dict(event.details)))
    if event.seq == 1:
        session.add(MirrorMeetingRow(id=view.id, gp_group=view.gp_group, state=view.status.value,
                                     version=view.version, view=view_as_json(view)))
    else:
        t = MirrorMeetingRow.__table__  # type: ignore[attr-defined]
        done = session.connection().execute(
            sa.update(t).where(t.c.id == view.id, t.c.version == event.seq - 1)
            .values(state=view.status.value, version=view.version, view=view_as_json(view)))
        if done.rowcount != 1:
            raise ConcurrentUpdateError(f"spiegelbijeenkomst {view.id} is intussen door iemand anders gewijzigd; "
                                        "bekijk haar opnieuw (qualitycycle mirror-meeting)")
    session.flush()


def load(session: Session, meeting_id: str) -> MirrorMeetingView | None:
    row = session.get(MirrorMeetingRow, meeting_id)
    return _view_from_json(row.view) if row is not None else None


def events(session: Session, meeting_id: str) -> list[MirrorEvent]:
    rows = session.exec(select(MirrorMeetingEventRow).where(col(MirrorMeetingEventRow.meeting_id) == meeting_id)
                        .order_by(col(MirrorMeetingEventRow.seq)))
    return [MirrorEvent(meeting_id=r.meeting_id, seq=r.seq, trigger=MirrorTrigger(r.trigger),
                        from_state=MirrorState(r.from_state), to_state=MirrorState(r.to_state), on=r.on,
                        recorded_at=r.recorded_at, actor=r.actor, details=dict(r.details or {})) for r in rows]


def of_group(session: Session, gp_group: str | None = None) -> list[MirrorMeetingView]:
    """The mirror meetings of a GP group (or of all), by the day they were requested."""
    query = select(MirrorMeetingRow)
    if gp_group is not None:
        query = query.where(col(MirrorMeetingRow.gp_group) == gp_group)
    views = [_view_from_json(r.view) for r in session.exec(query)]
    return sorted(views, key=lambda v: (v.gp_group, v.requested_on or date.min, v.id))
