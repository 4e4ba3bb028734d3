"""Reading and writing the neighbourhood (seed 5): core teams, GPO cadences, GPO and MDO counts per quarter, and the
GP groups' network plans (events and projection).

The caller owns the transaction, as in ``storage.repository``.

Invariants:
- Core teams, cadences and counts are append-only; the latest recording stands (a core team: the latest
  ``formed_on`` by a day, then the latest recorded; a count: the latest recorded for its practice, quarter and kind).
  Reading ``on`` a day sees only what had been recorded by its end, so a status of a day gone by shows what was
  known then.
- ``network_plan_event`` is append-only, ``UNIQUE(gp_group, seq)``; the projection is written only
  ``WHERE version = <the event's seq - 1>`` (two officers at once cannot both win: ``ConcurrentUpdateError``).
- Counts are counts: there is no column a patient could go in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.clock import as_amsterdam
from domain.messages import uuid5_text
from domain.neighbourhood import (
    CoreTeam,
    CountKind,
    GpoCadence,
    HeldNetworkMeeting,
    NetworkMeetingKind,
    NetworkPlanEvent,
    NetworkPlanState,
    NetworkPlanTrigger,
    NetworkPlanView,
    Partner,
    Quarter,
)
from domain.vocabulary import Role
from storage import review
from storage.repository import ConcurrentUpdateError
from storage.tables import CoreTeamRow, GpoCadenceRow, NeighbourhoodCountRow, NetworkPlanEventRow, NetworkPlanRow


def _id(*parts: object) -> str:
    return uuid5_text(":".join(str(p) for p in parts))


def _known_by(recorded_at: datetime, on: date | None) -> bool:
    return on is None or as_amsterdam(recorded_at).date() <= on


# --- core team, cadence, counts ------------------------------------------------------------------------------------

def add_core_team(session: Session, team: CoreTeam, now: datetime, actor: str) -> None:
    session.add(CoreTeamRow(id=_id("core_team", team.agb_code, team.formed_on, now.isoformat()),
                            agb_code=team.agb_code, formed_on=team.formed_on,
                            members=[[role.value, name] for role, name in team.members], complete=team.complete,
                            recorded_at=now, actor=actor))
    session.flush()
    review.touch(session, [team.agb_code])


def core_teams(session: Session, codes: Sequence[str] | None = None, on: date | None = None) -> dict[str, CoreTeam]:
    """Per practice, its core team as it stood on ``on`` (formed by then and recorded by then), or the latest."""
    query = select(CoreTeamRow)
    if codes is not None:
        query = query.where(col(CoreTeamRow.agb_code).in_(list(codes)))
    if on is not None:
        query = query.where(col(CoreTeamRow.formed_on) <= on)
    out: dict[str, CoreTeam] = {}
    for row in session.exec(query.order_by(col(CoreTeamRow.formed_on), col(CoreTeamRow.recorded_at))):
        if _known_by(row.recorded_at, on):
            out[row.agb_code] = CoreTeam(row.agb_code, row.formed_on,
                                         tuple((Role(role), name) for role, name in row.members))
    return out


def add_cadence(session: Session, agb_code: str, cadence: GpoCadence, now: datetime, actor: str) -> None:
    session.add(GpoCadenceRow(id=_id("gpo_cadence", agb_code, now.isoformat()), agb_code=agb_code,
                              every_weeks=cadence.every_weeks, since=cadence.since, recorded_at=now, actor=actor))
    session.flush()


def cadences(session: Session, codes: Sequence[str] | None = None, on: date | None = None) -> dict[str, GpoCadence]:
    query = select(GpoCadenceRow)
    if codes is not None:
        query = query.where(col(GpoCadenceRow.agb_code).in_(list(codes)))
    out: dict[str, GpoCadence] = {}
    for row in session.exec(query.order_by(col(GpoCadenceRow.recorded_at), col(GpoCadenceRow.id))):
        if _known_by(row.recorded_at, on):
            out[row.agb_code] = GpoCadence(row.every_weeks, row.since)
    return out


def add_count(session: Session, agb_code: str, quarter: Quarter, kind: CountKind, count: int, now: datetime,
              actor: str) -> None:
    session.add(NeighbourhoodCountRow(id=_id("neighbourhood_count", agb_code, quarter, kind.value, now.isoformat()),
                                      agb_code=agb_code, quarter=str(quarter), kind=kind.value, count=count,
                                      recorded_at=now, actor=actor))
    session.flush()


def counts(session: Session, codes: Sequence[str] | None = None, on: date | None = None
           ) -> dict[tuple[str, Quarter, CountKind], int]:
    """Per (practice, quarter, kind), the count as last recorded (by the end of ``on``)."""
    query = select(NeighbourhoodCountRow)
    if codes is not None:
        query = query.where(col(NeighbourhoodCountRow.agb_code).in_(list(codes)))
    out: dict[tuple[str, Quarter, CountKind], int] = {}
    for row in session.exec(query.order_by(col(NeighbourhoodCountRow.recorded_at), col(NeighbourhoodCountRow.id))):
        if _known_by(row.recorded_at, on):
            out[(row.agb_code, Quarter.parse(row.quarter), CountKind(row.kind))] = row.count
    return out


# --- network plans -------------------------------------------------------------------------------------------------

def _as_json(view: NetworkPlanView) -> dict[str, Any]:
    return {
        "gp_group": view.gp_group, "status": view.status.value, "version": view.version,
        "agreed_on": view.agreed_on.isoformat() if view.agreed_on else None,
        "partners": [p.model_dump(mode="json", exclude_none=True) for p in view.partners],
        "evaluations": [[day.isoformat(), note] for day, note in view.evaluations],
        "meetings": [{"kind": m.kind.value, "held_on": m.held_on.isoformat(),
                      "attended": [list(a) for a in m.attended], "partners": list(m.partners),
                      **({"minutes": m.minutes} if m.minutes else {})} for m in view.meetings],
        "ended_on": view.ended_on.isoformat() if view.ended_on else None,
    }


def _from_json(data: Mapping[str, Any]) -> NetworkPlanView:
    def day(value: str | None) -> date | None:
        return date.fromisoformat(value) if value else None

    return NetworkPlanView(
        gp_group=data["gp_group"], status=NetworkPlanState(data["status"]), version=data["version"],
        agreed_on=day(data.get("agreed_on")), partners=tuple(Partner.model_validate(p) for p in data["partners"]),
        evaluations=tuple((date.fromisoformat(d), note) for d, note in data["evaluations"]),
        meetings=tuple(HeldNetworkMeeting(NetworkMeetingKind(m["kind"]), date.fromisoformat(m["held_on"]),
                                          tuple((a, n) for a, n in m["attended"]), tuple(m["partners"]),
                                          m.get("minutes")) for m in data["meetings"]),
        ended_on=day(data.get("ended_on")))


def append(session: Session, event: NetworkPlanEvent, view: NetworkPlanView) -> None:
    """Store the event and move the projection to ``view`` (the view after the event)."""
    session.add(NetworkPlanEventRow(
        id=_id("network_plan_event", event.gp_group, event.seq), gp_group=event.gp_group, seq=event.seq,
        trigger=event.trigger.value, from_state=event.from_state.value, to_state=event.to_state.value, on=event.on,
        recorded_at=event.recorded_at, actor=event.actor, details=dict(event.details)))
    if event.seq == 1:
        session.add(NetworkPlanRow(gp_group=view.gp_group, state=view.status.value, version=view.version,
                                   view=_as_json(view)))
    else:
        t = NetworkPlanRow.__table__  # type: ignore[attr-defined]
        done = session.connection().execute(
            sa.update(t).where(t.c.gp_group == view.gp_group, t.c.version == event.seq - 1)
            .values(state=view.status.value, version=view.version, view=_as_json(view)))
        if done.rowcount != 1:
            raise ConcurrentUpdateError(f"netwerkplan van {view.gp_group} is intussen door iemand anders gewijzigd; "
                                        "bekijk het opnieuw (qualitycycle network-plan)")
    session.flush()


def load(session: Session, gp_group: str) -> NetworkPlanView | None:
    row = session.get(NetworkPlanRow, gp_group)
    return _from_json(row.view) if row is not None else None


def load_all(session: Session) -> dict[str, NetworkPlanView]:
    return {r.gp_group: _from_json(r.view) for r in session.exec(select(NetworkPlanRow))}


def events(session: Session, gp_group: str) -> list[NetworkPlanEvent]:
    rows = session.exec(select(NetworkPlanEventRow).where(col(NetworkPlanEventRow.gp_group) == gp_group)
                        .order_by(col(NetworkPlanEventRow.seq)))
    return [NetworkPlanEvent(gp_group=r.gp_group, seq=r.seq, trigger=NetworkPlanTrigger(r.trigger),
                             from_state=NetworkPlanState(r.from_state), to_state=NetworkPlanState(r.to_state),
                             on=r.on, recorded_at=r.recorded_at, actor=r.actor, details=dict(r.details or {}))
            for r in rows]


def views_on(session: Session, on: date) -> dict[str, NetworkPlanView]:
    """Every GP group's plan as it stood on ``on``: the fold of the events that had happened and been recorded by
    then (a status of a day gone by). The events were checked against the machine when they were stored."""
    rows = session.exec(select(NetworkPlanEventRow).where(col(NetworkPlanEventRow.on) <= on)
                        .order_by(col(NetworkPlanEventRow.gp_group), col(NetworkPlanEventRow.seq)))
    out: dict[str, NetworkPlanView] = {}
    for r in rows:
        view = out.get(r.gp_group) or NetworkPlanView(gp_group=r.gp_group)
        if r.seq != view.version + 1 or not _known_by(r.recorded_at, on):
            continue  # the fold stops at the first event not yet known then (later ones follow it)
        out[r.gp_group] = view.apply(NetworkPlanEvent(
            gp_group=r.gp_group, seq=r.seq, trigger=NetworkPlanTrigger(r.trigger),
            from_state=NetworkPlanState(r.from_state), to_state=NetworkPlanState(r.to_state), on=r.on,
            recorded_at=r.recorded_at, actor=r.actor, details=dict(r.details or {})))
    return out
