"""What the repositories hand out: values read from the tables, never the ORM rows themselves.

A service reads these and passes them back to the repository that changes the row (by its id or key, guarded by
its version where two writers may race); it cannot change a row by setting an attribute, and nothing it holds
goes stale in a session's identity map.

Invariants:
- Each value carries the columns of its row under the same names, so a reader sees the schema.
- Values are frozen; a repository function that changes a row returns the new value when the caller needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, TypeVar

from domain.obligations import Obligation, ObligationKind

_T = TypeVar("_T")


def value_of(cls: type[_T], row: Any) -> _T:
    """The read model ``cls`` of a table row (or a mapping of its columns): its fields by name."""
    if isinstance(row, dict):
        return cls(**{f.name: row[f.name] for f in fields(cls)})  # type: ignore[arg-type]
    return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True)
class StoredObligation:
    """An obligation as stored: what it asks (``obligation``), where it stands (open, done, cancelled), the
    notices queued for it and the ``version`` every update is guarded by. Updates return it as it then stands."""

    id: str
    key: str
    kind: str
    agb_code: str | None
    subject: str
    anchor_on: date
    due_on: date
    planned_on: date | None
    status: str
    closed_on: date | None
    close_reason: str | None
    basis: dict[str, Any]
    details: dict[str, Any]
    notices_done: list[str]
    next_notice_on: date | None
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def obligation(self) -> Obligation:
        return Obligation(key=self.key, kind=ObligationKind(self.kind), agb_code=self.agb_code, subject=self.subject,
                          anchor_on=self.anchor_on, due_on=self.due_on, planned_on=self.planned_on,
                          basis=self.basis, details=self.details)


@dataclass(frozen=True)
class ObligationChange:
    """One change of an obligation: planned, rescheduled (old and new dates), done or cancelled, and why."""

    obligation_key: str
    change: str
    at: datetime
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    reason: str
    actor: str


@dataclass(frozen=True)
class DutyRun:
    """A duty's run for a moment, with the summary the CLI and the Prefect artifact show."""

    duty: str
    moment: datetime
    started_at: datetime
    finished_at: datetime | None
    summary: dict[str, Any]
    actor: str
    flow_run_id: str | None = None  # the Prefect flow run that ran it, when a flow did


@dataclass(frozen=True)
class StoredConversation:
    """A conversation as recorded: who attended (and what the attendance rule missed) and the plan it agreed."""

    id: str
    agb_code: str
    kind: str
    held_on: date
    programme: str | None
    attendees: list[dict[str, Any]]
    attendance_gaps: list[str]
    plan: dict[str, Any] | None
    recorded_at: datetime
    actor: str
    report: dict[str, Any] | None = None
    agreement_gaps: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoredAgreement:
    """An agreement as stored: made in a conversation (``made_on``), ``open`` until a later conversation
    evaluates it (``status`` then its outcome, with the day and the note)."""

    id: str
    agb_code: str
    conversation_id: str
    text: str
    owner: str
    due: date | None
    support: str | None
    made_on: date
    status: str
    evaluated_on: date | None
    note: str | None
    reminded_on: date | None = None


@dataclass(frozen=True)
class StoredGoal:
    """A goal as stored: set in a conversation (``set_on``), ``open`` until judged on or after its ``by`` date; a
    judged goal carries the figure it was judged by and why (``reason``, Dutch)."""

    id: str
    agb_code: str
    conversation_id: str
    programme: str
    indicator: str
    target: float
    by: date
    set_on: date
    status: str
    judged_on: date | None
    score: float | None
    numerator: int | None
    denominator: int | None
    period_end: date | None
    interval_low: float | None
    interval_high: float | None
    reason: str | None


@dataclass(frozen=True)
class TrajectoryStep:
    """A step a recorded fact asks of a practice's trajectory (``trajectory_step``): ``pending`` (``waiting``
    says why, when it could not be taken), ``taken`` (as the event ``event_seq``) or ``attention``."""

    id: str
    agb_code: str
    trigger: str
    happened_at: datetime
    recorded_at: datetime
    actor: str
    details: dict[str, Any]
    reasons: list[dict[str, Any]]
    status: str = "pending"
    waiting: str | None = None
    event_seq: int | None = None


@dataclass(frozen=True)
class StoredProjection:
    """A trajectory's stored projection as it is in the table: its columns and the view kept as JSON."""

    state: str
    version: int
    since: datetime | None
    view: dict[str, Any]


@dataclass(frozen=True)
class ImportLogEntry:
    """One import (or recalculation) of indicator figures that changed something."""

    id: str
    source: str
    sha256: str
    imported_at: datetime
    actor: str
    rows: int
    new: int
    changed: int
    unchanged: int


@dataclass(frozen=True)
class ScoreRevision:
    """A figure a later import replaced: what it was and what it became."""

    import_id: str
    agb_code: str
    programme: str
    indicator: str
    period_end: date
    old_numerator: int
    old_denominator: int
    new_numerator: int
    new_denominator: int
