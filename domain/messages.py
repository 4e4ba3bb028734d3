"""Messages the quality cycle owes people, as plain values for the outbox.

Invariants: a message's ``key`` is deterministic (what, for whom, about which event), so a
retried or replayed run lands on the same outbox row; its ``id`` is a ``uuid5`` of the key.
Rendering to mail is the notifications layer's job; here a message holds the facts.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from domain.clock import AMSTERDAM
from domain.registry import Person, Practice
from domain.trajectory import BoardNotificationRequested, TrajectoryTransitioned

NAMESPACE = uuid.UUID("6f1c1d8e-3a3b-5d1e-9c55-2f6a3c0b7a11")

SUBJECTS_NL = {
    "board_escalation": "{name} ({agb}) valt onder het beleid minder presterende praktijken",
    "board_progress": "Voortgang verbetertraject {name} ({agb})",
    "board_recovery": "{name} ({agb}) voldoet weer aan de streefwaarden",
    "board_left": "{name} ({agb}) heeft de kwaliteitscyclus verlaten tijdens het verbetertraject",
}


@dataclass(frozen=True)
class OutboxMessage:
    key: str
    kind: str
    agb_code: str | None
    recipient_name: str
    recipient_email: str | None
    recipient_role: str
    subject: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, self.key)


def board_messages(
    effect: BoardNotificationRequested,
    event: TrajectoryTransitioned,
    practice: Practice,
    board: tuple[Person, ...],
    plan_agreed_on: str | None,
    progress_every_months: int | None = None,
) -> list[OutboxMessage]:
    """One message per board member for a transition the board must hear of."""
    subject = SUBJECTS_NL[effect.kind].format(name=practice.name, agb=practice.agb_code)
    payload = {
        "practice": {"agb_code": practice.agb_code, "name": practice.name, "gp_group": practice.gp_group},
        "trigger": event.trigger.value,
        "from_state": event.from_state.value,
        "to_state": event.to_state.value,
        "at": event.at.isoformat(),
        "seq": event.seq,
        "plan_agreed_on": plan_agreed_on,
        "reasons": list(event.reasons),
    }
    if progress_every_months is not None:
        payload["progress_every_months"] = progress_every_months
    if effect.kind == "board_progress":
        payload["indicators"] = [_progress_line(r) for r in event.reasons if r.get("indicator")]
    return [
        OutboxMessage(
            key=f"{effect.kind}:{practice.agb_code}:{event.seq}:{member.email or member.name}",
            kind=effect.kind,
            agb_code=practice.agb_code,
            recipient_name=member.name,
            recipient_email=member.email,
            recipient_role="board",
            subject=subject,
            payload=payload,
        )
        for member in board
    ]


def _progress_line(reason: Mapping[str, Any]) -> dict[str, Any]:
    """A progress reason as the line the board reads: the score against target *and* national average, and
    the change since the plan (the reason's own ``reference`` is the target; the average has fields of its own,
    absent from reasons stored before they existed)."""
    keys = ("programme", "indicator", "name", "score", "numerator", "denominator", "period_end",
            "national_average", "national_average_year", "improvement_points", "baseline_score",
            "baseline_period_end")
    return {**{k: reason.get(k) for k in keys}, "target": reason.get("reference_value")}


def about(message: OutboxMessage) -> datetime | None:
    """The moment a message is about when that lies ahead of its sending: the conversation or meeting it invites
    to or reminds of, the day a kit or course falls due. ``None`` for a message about what already happened (a
    board notification, an overdue notice). A backfill keeps a message as historic unless this lies ahead."""
    payload = message.payload
    for part in ("conversation", "meeting"):
        start = (payload.get(part) or {}).get("start") if isinstance(payload.get(part), dict) else None
        if isinstance(start, str) and "T" in start:
            return datetime.fromisoformat(start)
    for part in ("kits", "courses"):
        items = payload.get(part) or []
        dues = [str(i["due_on"]) for i in items if isinstance(i, dict) and isinstance(i.get("due_on"), str)]
        if dues:
            return datetime.combine(date.fromisoformat(max(dues)), time(0, 0), tzinfo=AMSTERDAM)
    return None
