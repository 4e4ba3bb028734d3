"""The database tables.

Invariants:
- ``trajectory_event`` is append-only: one row per transition, ``UNIQUE(agb_code, seq)``.
- ``trajectory`` is a projection of those events with a ``version`` equal to the last event's
  ``seq``; it is only ever updated with ``WHERE version = <expected>`` (optimistic locking).
- ``outbox.key`` is unique: a message is written once, whatever retries happen. Its ``status`` goes
  ``pending`` -> ``sending`` (attempt recorded and committed before sending) -> ``sent``, or back to
  ``pending`` with a later ``next_attempt_at``, or ``failed`` after the last attempt. A payload several
  messages share is kept once in ``message_payload`` (``outbox.payload_id``); every reader of the outbox sees it in
  ``payload`` as if stored with each.
- Moments are stored as naive UTC and returned timezone-aware (``UtcDateTime``), the same on
  SQLite and PostgreSQL.
- No table holds data about patients: indicators are counts per practice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig


class UtcDateTime(TypeDecorator[datetime]):
    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; moments must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class _Table(SQLModel):
    """The base of every table: pydantic builds a table's validator and serializer when one is first used, not when
    the module is imported (rows are read and written through SQLAlchemy; a command starts faster)."""

    model_config = SQLModelConfig(defer_build=True)


def _moment(**kw: Any) -> Any:
    return Field(sa_type=UtcDateTime, **kw)


def _json(**kw: Any) -> Any:
    return Field(sa_type=sa.JSON, **kw)


def _json_or_null(**kw: Any) -> Any:
    """A JSON column that may be empty: ``None`` is stored as SQL NULL, not as the JSON text ``null`` (which
    ``IS NOT NULL`` lets through: a conversation without a plan once hid the last plan's agreements)."""
    return Field(sa_type=sa.JSON(none_as_null=True), **kw)


class CareGroupRow(_Table, table=True):
    __tablename__ = "care_group"
    id: int = Field(default=1, primary_key=True)
    name: str
    email: str | None = None


class ContactRow(_Table, table=True):
    """Care-group people who are not in a practice: officers and the board."""

    __tablename__ = "contact"
    __table_args__ = (sa.UniqueConstraint("role", "name", name="uq_contact_role_name"),)
    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(max_length=32)
    name: str
    email: str | None = None


class GpGroupRow(_Table, table=True):
    __tablename__ = "gp_group"
    code: str = Field(primary_key=True, max_length=64)
    name: str
    ekc_name: str | None = None  # the group's EKC, who gets a mirror meeting's accreditation request
    ekc_email: str | None = None
    anonymise_mirror: bool = False


class PracticeRow(_Table, table=True):
    __tablename__ = "practice"
    agb_code: str = Field(primary_key=True, max_length=8)
    name: str
    gp_group: str | None = Field(default=None, foreign_key="gp_group.code", max_length=64)
    email: str | None = None


class PracticePersonRow(_Table, table=True):
    __tablename__ = "practice_person"
    __table_args__ = (sa.UniqueConstraint("agb_code", "role", "name", name="uq_practice_person"),)
    id: int | None = Field(default=None, primary_key=True)
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    role: str = Field(max_length=32)
    name: str
    email: str | None = None


class EnrolmentRow(_Table, table=True):
    __tablename__ = "enrolment"
    agb_code: str = Field(foreign_key="practice.agb_code", primary_key=True, max_length=8)
    programme: str = Field(primary_key=True, max_length=16)
    started_on: date


class _ByIndicator(_Table):
    """The key of what is stored per indicator (its definition, target, national average): programme and
    indicator, the first columns of the primary key."""

    programme: str = Field(primary_key=True, max_length=16)
    indicator: str = Field(primary_key=True, max_length=64)


class IndicatorRow(_ByIndicator, table=True):
    __tablename__ = "indicator"
    name: str
    kind: str = Field(max_length=16)
    main: bool = False
    check: str | None = Field(default=None, max_length=64)
    window_months: int | None = None
    value_op: str | None = Field(default=None, max_length=2)
    value_threshold: float | None = None
    numerator: str | None = None
    denominator: str | None = None
    source: str | None = None


class TargetRow(_ByIndicator, table=True):
    __tablename__ = "target"
    target: float


class NationalAverageRow(_ByIndicator, table=True):
    __tablename__ = "national_average"
    year: int = Field(primary_key=True)
    national_average: float


class IndicatorScoreRow(_Table, table=True):
    __tablename__ = "indicator_score"
    # one period across every practice: the care group's spread of the period a page shows
    __table_args__ = (sa.Index("ix_indicator_score_period_end", "period_end"),)
    agb_code: str = Field(foreign_key="practice.agb_code", primary_key=True, max_length=8)
    programme: str = Field(primary_key=True, max_length=16)
    indicator: str = Field(primary_key=True, max_length=64)
    period_end: date = Field(primary_key=True)
    numerator: int
    denominator: int
    import_id: str | None = Field(default=None, max_length=36)  # the import that last set these figures


class ScoredIndicatorRow(_Table, table=True):
    """An indicator (programme, code) some practice has figures of, kept by ``repository.save_scores`` with the
    figures: what a chunk's latest figures are looked up by, one seek per practice and indicator, instead of every
    figure of the chunk's history aggregated (``repository.load_scores``; issue 16). The catalogue is not that list:
    figures of an indicator outside it can be stored, and are read back like any other. ``save_scores`` is the only
    writer of figures: another would have to list their indicators here too, or its figures would not be found as
    the latest."""

    __tablename__ = "scored_indicator"
    programme: str = Field(primary_key=True, max_length=16)
    indicator: str = Field(primary_key=True, max_length=64)


class PeriodSpreadRow(_Table, table=True):
    """The care group's spread of one indicator over one period, across its practices (``domain.indicator_views.
    spread``), kept by ``repository.save_scores`` in the transaction of every change to that period's figures: a
    page reads the few dozen spreads of its period, not every practice's figures of it (96,000 at 5,000
    practices; issue 16)."""

    __tablename__ = "period_spread"
    period_end: date = Field(primary_key=True)
    programme: str = Field(primary_key=True, max_length=16)
    indicator: str = Field(primary_key=True, max_length=64)
    practices: int
    pooled: float
    mean: float
    median: float
    p10: float
    p90: float


class IndicatorImportRow(_Table, table=True):
    """One import (or recalculation) of indicator figures that changed something."""

    __tablename__ = "indicator_import"
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of the content's sha256 and the moment
    source: str  # file name, or "recalculation of <file> for <period end>"
    sha256: str = Field(max_length=64, index=True)
    imported_at: datetime = _moment()
    actor: str
    rows: int
    new: int
    changed: int
    unchanged: int


class ScoreRevisionRow(_Table, table=True):
    """A figure replaced by a later import: what it was, what it became, when and by which import."""

    __tablename__ = "score_revision"
    id: int | None = Field(default=None, primary_key=True)
    import_id: str = Field(foreign_key="indicator_import.id", max_length=36, index=True)
    agb_code: str = Field(max_length=8, index=True)
    programme: str = Field(max_length=16)
    indicator: str = Field(max_length=64)
    period_end: date
    old_numerator: int
    old_denominator: int
    new_numerator: int
    new_denominator: int


class ConversationRow(_Table, table=True):
    """A conversation held with a practice (start, annual or extra): who attended, what the attendance rule missed,
    and the improvement plan it agreed; its step of the trajectory is kept in ``trajectory_step``."""

    __tablename__ = "conversation"
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of practice, kind, date, programme
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    kind: str = Field(max_length=16)
    held_on: date
    programme: str | None = Field(default=None, max_length=16)
    attendees: list[dict[str, Any]] = _json(default_factory=list)
    attendance_gaps: list[str] = _json(default_factory=list)
    plan: dict[str, Any] | None = _json_or_null(default=None)
    recorded_at: datetime = _moment()
    actor: str
    # the report (verslag): summary, support needs, the agreements made and evaluated (JSON as written); and the
    # agreements open before an annual conversation that it left unevaluated (flagged, like attendance)
    report: dict[str, Any] | None = _json_or_null(default=None)
    agreement_gaps: list[str] = _json(default_factory=list)


class AgreementRow(_Table, table=True):
    """An agreement made in a conversation's report: open until a later conversation evaluates it (seed 1:
    agreements are recorded in a report and evaluated at the next conversation). ``id`` is stable: derived from
    the conversation and the agreement's place in its report."""

    __tablename__ = "agreement"
    id: str = Field(primary_key=True, max_length=12)
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    conversation_id: str = Field(foreign_key="conversation.id", max_length=36)
    position: int
    text: str
    owner: str = Field(max_length=16)  # practice | care_group
    due: date | None = None
    support: str | None = Field(default=None, max_length=16)
    made_on: date
    status: str = Field(default="open", max_length=16, index=True)  # open | met | partly_met | not_met | dropped
    evaluated_on: date | None = None
    evaluated_in: str | None = Field(default=None, max_length=36)  # the conversation that evaluated it
    note: str | None = None
    recorded_at: datetime = _moment()
    # the day its owner was reminded that it is past its due date (once: ``flows.services.follow_up``)
    reminded_on: date | None = None


class GoalRow(_Table, table=True):
    """A goal set in a conversation (an improvement plan's, or a report's): ``open`` until its ``by`` date, then
    judged once against the latest figure (``domain.rules.goals``), with the figure it was judged by. ``id`` is
    stable: derived from the conversation and the goal's place in it."""

    __tablename__ = "goal"
    id: str = Field(primary_key=True, max_length=12)
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    conversation_id: str = Field(foreign_key="conversation.id", max_length=36)
    position: int
    programme: str = Field(max_length=16)
    indicator: str = Field(max_length=64)
    target: float
    by: date = Field(index=True)
    set_on: date  # the day of the conversation that set it
    recorded_at: datetime = _moment()
    status: str = Field(default="open", max_length=16, index=True)  # open | met | not_met | not_judged | no_figure
    judged_on: date | None = None  # the day it was judged (its ``by`` date, or the first sweep after it)
    judged_at: datetime | None = _moment(default=None)  # when the judgement was recorded
    score: float | None = None
    numerator: int | None = None
    denominator: int | None = None
    period_end: date | None = None
    interval_low: float | None = None
    interval_high: float | None = None
    reason: str | None = None


class OfficerAssignmentRow(_Table, table=True):
    """The officers who hold a practice's conversations: assigned by an officer (``by_hand``), or spread when the
    practice first needed them, and kept when another officer joins."""

    __tablename__ = "officer_assignment"
    agb_code: str = Field(foreign_key="practice.agb_code", primary_key=True, max_length=8)
    officers: list[str] = _json(default_factory=list)
    by_hand: bool = False
    assigned_at: datetime = _moment()
    actor: str


class SupportEventRow(_Table, table=True):
    """A change of a support activity (requested, planned, done, cancelled): append-only, ``UNIQUE(support_id,
    seq)``; ``on`` is the day it happened, ``recorded_at`` when it was recorded."""

    __tablename__ = "support_event"
    __table_args__ = (sa.UniqueConstraint("support_id", "seq", name="uq_support_event_seq"),)
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of (support_id, seq)
    support_id: str = Field(max_length=12, index=True)
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8)
    seq: int
    trigger: str = Field(max_length=16)
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    on: date
    recorded_at: datetime = _moment()
    actor: str
    details: dict[str, Any] = _json(default_factory=dict)


class SupportRow(_Table, table=True):
    """Where a support activity stands: the projection of its events, updated only ``WHERE version = <expected>``."""

    __tablename__ = "support"
    id: str = Field(primary_key=True, max_length=12)
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    kind: str = Field(max_length=16)
    state: str = Field(max_length=16, index=True)
    version: int = 0
    view: dict[str, Any] = _json(default_factory=dict)


class MirrorMeetingEventRow(_Table, table=True):
    """A change of a GP group's mirror meeting (requested, held, its accreditation, cancelled): append-only,
    ``UNIQUE(meeting_id, seq)``; ``on`` is the day it happened, ``recorded_at`` when it was recorded."""

    __tablename__ = "mirror_meeting_event"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "seq", name="uq_mirror_meeting_event_seq"),)
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of (meeting_id, seq)
    meeting_id: str = Field(max_length=12, index=True)
    gp_group: str = Field(foreign_key="gp_group.code", max_length=64)
    seq: int
    trigger: str = Field(max_length=16)
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    on: date
    recorded_at: datetime = _moment()
    actor: str
    details: dict[str, Any] = _json(default_factory=dict)


class MirrorMeetingRow(_Table, table=True):
    """Where a mirror meeting stands: the projection of its events, updated only ``WHERE version = <expected>``."""

    __tablename__ = "mirror_meeting"
    id: str = Field(primary_key=True, max_length=12)
    gp_group: str = Field(foreign_key="gp_group.code", max_length=64, index=True)
    state: str = Field(max_length=16)
    version: int = 0
    view: dict[str, Any] = _json(default_factory=dict)


class MeetingEventRow(_Table, table=True):
    """A change of a POH or practice-manager meeting (a topic added, moved, held): append-only,
    ``UNIQUE(meeting_key, seq)``; ``on`` is the day it happened, ``recorded_at`` when it was recorded."""

    __tablename__ = "meeting_event"
    __table_args__ = (sa.UniqueConstraint("meeting_key", "seq", name="uq_meeting_event_seq"),)
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of (meeting_key, seq)
    meeting_key: str = Field(max_length=64, index=True)  # the meeting's obligation key
    seq: int
    trigger: str = Field(max_length=16)
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    on: date
    recorded_at: datetime = _moment()
    actor: str
    details: dict[str, Any] = _json(default_factory=dict)


class MeetingRow(_Table, table=True):
    """Where a meeting stands: the projection of its events, updated only ``WHERE version = <expected>``."""

    __tablename__ = "meeting"
    key: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=32)
    state: str = Field(max_length=16, index=True)
    version: int = 0
    view: dict[str, Any] = _json(default_factory=dict)


class TrajectoryRow(_Table, table=True):
    __tablename__ = "trajectory"
    agb_code: str = Field(foreign_key="practice.agb_code", primary_key=True, max_length=8)
    state: str = Field(max_length=32, index=True)
    since: datetime | None = _moment(default=None)
    version: int = 0
    view: dict[str, Any] = _json(default_factory=dict)


class TrajectoryEventRow(_Table, table=True):
    __tablename__ = "trajectory_event"
    # by moment: the care group's first event (the board digest's first period, asked every working day) is the
    # index's first entry, not a sort of every event
    __table_args__ = (sa.UniqueConstraint("agb_code", "seq", name="uq_trajectory_event_seq"),
                      sa.Index("ix_trajectory_event_at", "at"))
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of (agb_code, seq)
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8)
    seq: int
    at: datetime = _moment()
    trigger: str = Field(max_length=32)
    from_state: str = Field(max_length=32)
    to_state: str = Field(max_length=32)
    actor: str
    reasons: list[dict[str, Any]] = _json(default_factory=list)
    details: dict[str, Any] = _json(default_factory=dict)
    recorded_at: datetime = _moment()  # when it was written; ``at`` is when it happened


class TrajectoryStepRow(_Table, table=True):
    """A step a recorded fact asks of a practice's trajectory (a conversation held, the practice leaving),
    kept until the engine takes it.

    The engine takes a step when it reaches the moment the fact happened (``happened_at``): at once when the
    fact is recorded after that moment was reached, else at the first run at or after it, in the order the
    facts happened. A step its state cannot take yet stays ``pending`` with ``waiting`` saying why, never
    dropped; once taken it is ``taken`` with the event's ``seq``. A waiting step that a later fact's step went
    past (a leave recorded for a practice that had left, before it started again) is ``attention``: shown to
    the officers, never taken by itself.
    """

    __tablename__ = "trajectory_step"
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of the fact (a conversation's id, a leave's day)
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    trigger: str = Field(max_length=32)
    happened_at: datetime = _moment(index=True)
    recorded_at: datetime = _moment()
    actor: str
    details: dict[str, Any] = _json(default_factory=dict)
    reasons: list[dict[str, Any]] = _json(default_factory=list)
    status: str = Field(default="pending", max_length=16, index=True)  # pending | taken | attention
    waiting: str | None = None
    event_seq: int | None = None


class OutboxRow(_Table, table=True):
    __tablename__ = "outbox"
    # by status, then when a retry is due, then whether it failed: the dispatcher's pending rows and the messages
    # held for want of an address (every status page reads these: a range, not a scan of the pending outbox)
    __table_args__ = (sa.Index("ix_outbox_status_retry", "status", "next_attempt_at", "last_error"),)
    id: str = Field(primary_key=True, max_length=36)  # moment queued + uuid5 of key (repository.outbox_id)
    key: str = Field(max_length=255, unique=True)
    kind: str = Field(max_length=64, index=True)
    agb_code: str | None = Field(default=None, max_length=8, index=True)  # a practice's messages (its page)
    recipient_name: str
    recipient_email: str | None = None
    recipient_role: str = Field(max_length=32)
    subject: str
    payload: dict[str, Any] = _json(default_factory=dict)
    # set when the payload is kept once for the messages that share it (``message_payload``; ``payload`` is then
    # empty): the readers of the outbox (``repository.outbox``, ``repository.due_messages``) put it back in place
    payload_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = _moment()
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = _moment(default=None)
    # delivery: a row is claimed ("sending", attempts + 1, last_attempt_at) and committed before it is sent;
    # a failure puts it back to "pending" until next_attempt_at; message_id is the Message-ID every copy carries
    next_attempt_at: datetime | None = _moment(default=None)
    last_attempt_at: datetime | None = _moment(default=None)
    message_id: str | None = Field(default=None, max_length=255)
    # a claim's lease, in the database's own real time (UTC): no other dispatcher takes a row in ``sending``
    # before it ends, whatever logical moment it works for
    lease_until: datetime | None = _moment(default=None)


class MessagePayloadRow(_Table, table=True):
    """A payload several messages share, kept once: a conversation's invitation carries the conversation's pack
    (some 4-5 KB) to each of its five or six recipients alike (issue 16). Named by a digest of its JSON, so the same
    payload queued again, by another worker or a retry, is the same row. Written in the transaction that queues its
    messages, never changed or deleted."""

    __tablename__ = "message_payload"
    id: str = Field(primary_key=True, max_length=64)  # SHA-256 of the payload's JSON, keys sorted
    payload: dict[str, Any] = _json(default_factory=dict)


class EngineRunRow(_Table, table=True):
    """One row per moment the engine ran for: what it did, so a second run can say so."""

    __tablename__ = "engine_run"
    moment: datetime = _moment(primary_key=True)
    started_at: datetime = _moment()
    finished_at: datetime | None = _moment(default=None)
    transitions: int = 0
    messages: int = 0
    actor: str


class ObligationRow(_Table, table=True):
    """A duty of the quality cycle (``domain.obligations``): open until fulfilled or cancelled.

    ``key`` is unique (kind, practice, subject, anchor), so planning twice, or two planners at once,
    write one row. ``notices_done`` lists the messages already queued for it (``invitation``,
    ``reminder``, ``overdue``, ``notice``); ``next_notice_on`` is the day the sweep must look again,
    so a sweep reads only the rows with something due, not every practice.
    """

    __tablename__ = "obligation"
    # the open rows with a notice due by a day, a range: what every sweep reads (``obligations.notices_due``); by
    # status alone it read every open row, tens of thousands at 5,000 practices (issue 16); the open rows of some
    # kinds, by kind and status: the meetings a sweep keeps in line read 30 rows, not every open one (SQLite's
    # planner, without statistics, took the status index over the kind index and read every open row)
    __table_args__ = (sa.Index("ix_obligation_status_notice", "status", "next_notice_on"),
                      sa.Index("ix_obligation_kind_status", "kind", "status"))
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of key
    key: str = Field(max_length=255, unique=True)
    kind: str = Field(max_length=32)
    agb_code: str | None = Field(default=None, max_length=8, index=True)
    subject: str = Field(max_length=160)
    anchor_on: date
    due_on: date = Field(index=True)
    planned_on: date | None = None
    status: str = Field(default="open", max_length=16)
    closed_on: date | None = None
    close_reason: str | None = None
    basis: dict[str, Any] = _json(default_factory=dict)
    details: dict[str, Any] = _json(default_factory=dict)
    notices_done: list[str] = _json(default_factory=list)
    next_notice_on: date | None = Field(default=None, index=True)
    version: int = 0  # every update is guarded by it: two sweeps cannot both advance one obligation
    created_at: datetime = _moment()
    updated_at: datetime = _moment()


class ObligationChangeRow(_Table, table=True):
    """Append-only log of what happened to an obligation: planned, rescheduled (with why), done, cancelled.

    ``UNIQUE(obligation_key, change, at)``: the same change recorded twice for one moment is one row.
    """

    __tablename__ = "obligation_change"
    __table_args__ = (sa.UniqueConstraint("obligation_key", "change", "at", name="uq_obligation_change"),)
    id: int | None = Field(default=None, primary_key=True)
    obligation_key: str = Field(max_length=255, index=True)
    change: str = Field(max_length=16)  # planned | rescheduled | done | cancelled
    at: datetime = _moment()
    old: dict[str, Any] | None = _json_or_null(default=None)
    new: dict[str, Any] | None = _json_or_null(default=None)
    reason: str
    actor: str


class ConversationMoveRow(_Table, table=True):
    """An officer moved a planned conversation to another day, and why: append-only, the last move of a duty (by
    ``moved_on``, then ``recorded_at``) sets its day. ``moved_on`` is the day the move was made, ``recorded_at``
    when it was recorded; planning as of an earlier day does not see it."""

    __tablename__ = "conversation_move"
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of (obligation key, day moved to, recorded_at)
    obligation_key: str = Field(max_length=255, index=True)
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    moved_to: date
    moved_on: date
    reason: str
    recorded_at: datetime = _moment()
    actor: str


class KitRefreshRow(_Table, table=True):
    """An instruction kit refreshed at a practice (seed section 3)."""

    __tablename__ = "kit_refresh"
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of practice, kit, day
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    kit: str = Field(max_length=16)
    refreshed_on: date
    recorded_at: datetime = _moment()
    actor: str


class CourseCompletionRow(_Table, table=True):
    """A mandatory course completed by a person of a practice (seed section 4). Names and roles only."""

    __tablename__ = "course_completion"
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of practice, person, course, day
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    person: str = Field(max_length=120)
    course: str = Field(max_length=32)
    completed_on: date
    recorded_at: datetime = _moment()
    actor: str


class CardSetRow(_Table, table=True):
    """A set of instruction cards published by the care group (seed section 3): the day it was published and the
    moment it was recorded; ``behind_reported_on`` the day the sweep listed the practices still behind on it for the
    officers (once)."""

    __tablename__ = "card_set"
    version: str = Field(primary_key=True, max_length=32)
    published_on: date = Field(index=True)
    note: str | None = None
    recorded_at: datetime = _moment()
    actor: str
    behind_reported_on: date | None = None


class CardFolderRow(_Table, table=True):
    """A practice marked its folder current with a set of instruction cards on a day: append-only."""

    __tablename__ = "card_folder"
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of practice, version, day
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    version: str = Field(foreign_key="card_set.version", max_length=32)
    current_on: date
    recorded_at: datetime = _moment()
    actor: str


class LeafletRow(_Table, table=True):
    """A patient leaflet of a programme on the care group's website (the register ``import-leaflets`` replaces)."""

    __tablename__ = "leaflet"
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of programme and title
    programme: str = Field(max_length=16, index=True)
    title: str = Field(max_length=120)
    url: str
    recorded_at: datetime = _moment()
    actor: str


class CourseRow(_Table, table=True):
    """A course of the care group's catalogue as an import gave it (seed section 4, "Scholing"). Every import is
    kept whole under its own ``import_id``; the latest import (by ``recorded_at``) is the catalogue."""

    __tablename__ = "course"
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of the import and the code
    import_id: str = Field(max_length=36, index=True)
    position: int  # the file's order
    code: str = Field(max_length=32)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=16)
    roles: list[str] = _json(default_factory=list)
    every_months: int | None = None
    first_within_months: int
    url: str | None = None
    recorded_at: datetime = _moment()
    actor: str


class DutyRunRow(_Table, table=True):
    """One row per duty and moment it ran for (``sweep_due`` at 2026-03-02 06:30, ...): what it did.

    The first run for a moment records it; a rerun for the same moment (a retry) finds it and reports
    ``already_ran``. ``summary`` is what the Prefect artifact and the CLI show.
    """

    __tablename__ = "duty_run"
    duty: str = Field(primary_key=True, max_length=32)
    moment: datetime = _moment(primary_key=True)
    started_at: datetime = _moment()
    finished_at: datetime | None = _moment(default=None)
    summary: dict[str, Any] = _json(default_factory=dict)
    actor: str
    # the Prefect flow run that ran it (its page in the Prefect UI), when a flow did; none for the CLI and runner
    flow_run_id: str | None = Field(default=None, max_length=36)


class PracticeReviewRow(_Table, table=True):
    """Which practices a sweep must look at again: a change counter per practice and what was reviewed.

    Every write of a fact a practice's trajectory or duties are computed from bumps ``changes`` (the
    trajectory, the registry, enrolments, conversations, kits, courses) or ``scores`` (indicator scores) in
    the same transaction. A sweep evaluates a practice when ``changes``/``scores`` passed what it last
    evaluated, when the rules' inputs shared by all practices changed (``evaluated_basis``: policy, calendar,
    catalogue, targets, averages) or when ``evaluate_on`` (the next day time alone can change a decision)
    has come; it plans a practice's duties when ``changes`` or the planning basis moved. Reviewing a
    practice that did not need it is harmless (the engine and the planner are idempotent); skipping one
    that did is what the counters prevent.
    """

    __tablename__ = "practice_review"
    agb_code: str = Field(foreign_key="practice.agb_code", primary_key=True, max_length=8)
    changes: int = 1
    scores: int = 0
    evaluated_changes: int = 0
    evaluated_scores: int = 0
    evaluated_basis: str = Field(default="", max_length=64)
    evaluate_on: date | None = Field(default=None, index=True)
    planned_changes: int = 0
    planned_basis: str = Field(default="", max_length=64)


class PolicyVersionRow(_Table, table=True):
    """A version of the care group's policy (every threshold), with the day from which it applies.

    Append-only: a later version with an earlier or the same day supersedes; nothing is overwritten, so every
    decision can name the version it was taken under (``details.policy_version`` of its event)."""

    __tablename__ = "policy_version"
    number: int = Field(primary_key=True)
    applies_from: date = Field(index=True)
    policy: dict[str, Any] = _json(default_factory=dict)
    reason: str
    recorded_at: datetime = _moment()
    actor: str


class PracticeChecklistRow(_Table, table=True):
    """A practice's yearly checklist of its own quality system (seed 003): each condition answered yes, partly or
    no with a note (``answers``: ``{condition: {answer, note}}``), filled in on a day. One per practice and day; the
    first recording stands."""

    __tablename__ = "practice_checklist"
    __table_args__ = (sa.UniqueConstraint("agb_code", "filled_on", name="uq_practice_checklist_day"),)
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of practice and day
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    filled_on: date
    dispensing_practice: bool = False
    answers: dict[str, Any] = _json(default_factory=dict)
    recorded_at: datetime = _moment()
    actor: str


class NhgAccreditationRow(_Table, table=True):
    """A practice's NHG accreditation as recorded: valid until a day, last audited on a day. Append-only: the latest
    recording stands."""

    __tablename__ = "nhg_accreditation"
    id: str = Field(primary_key=True, max_length=36)
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    valid_until: date
    audited_on: date | None = None
    recorded_at: datetime = _moment()
    actor: str


class PeerReviewGroupRow(_Table, table=True):
    """The peer review group (toetsgroep) a practice's GPs take part in, and the EKC who leads it, if one does.
    Append-only: the latest recording stands."""

    __tablename__ = "peer_review_group"
    id: str = Field(primary_key=True, max_length=36)
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    group_name: str
    led_by_ekc: bool = False
    ekc_name: str | None = None
    recorded_at: datetime = _moment()
    actor: str


class CoreTeamRow(_Table, table=True):
    """A practice's core team for elderly care as it stood from a day (seed 5): its members as ``[[role, name]]``.
    Append-only: the latest (by ``formed_on``, then ``recorded_at``) stands."""

    __tablename__ = "core_team"
    id: str = Field(primary_key=True, max_length=36)
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    formed_on: date
    members: list[Any] = _json(default_factory=list)
    complete: bool = False
    recorded_at: datetime = _moment()
    actor: str


class GpoCadenceRow(_Table, table=True):
    """How often a practice's core team holds its GPO: every ``every_weeks`` weeks from ``since``. Append-only: the
    latest recording stands."""

    __tablename__ = "gpo_cadence"
    id: str = Field(primary_key=True, max_length=36)
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    every_weeks: int
    since: date
    recorded_at: datetime = _moment()
    actor: str


class NeighbourhoodCountRow(_Table, table=True):
    """How many GPOs or MDOs (``kind``) a practice held in a quarter (``2026Q1``): a count, never a patient.
    Append-only: the latest recording for a practice, quarter and kind stands."""

    __tablename__ = "neighbourhood_count"
    id: str = Field(primary_key=True, max_length=36)
    agb_code: str = Field(foreign_key="practice.agb_code", max_length=8, index=True)
    quarter: str = Field(max_length=6)
    kind: str = Field(max_length=8)
    count: int
    recorded_at: datetime = _moment()
    actor: str


class NetworkPlanEventRow(_Table, table=True):
    """A change of a GP group's network plan (agreed, evaluated, a meeting held, ended): append-only,
    ``UNIQUE(gp_group, seq)``; ``on`` is the day it happened, ``recorded_at`` when it was recorded."""

    __tablename__ = "network_plan_event"
    __table_args__ = (sa.UniqueConstraint("gp_group", "seq", name="uq_network_plan_event_seq"),)
    id: str = Field(primary_key=True, max_length=36)  # uuid5 of (gp_group, seq)
    gp_group: str = Field(foreign_key="gp_group.code", max_length=64, index=True)
    seq: int
    trigger: str = Field(max_length=16)
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    on: date
    recorded_at: datetime = _moment()
    actor: str
    details: dict[str, Any] = _json(default_factory=dict)


class NetworkPlanRow(_Table, table=True):
    """Where a GP group's network plan stands: the projection of its events, updated only
    ``WHERE version = <expected>``."""

    __tablename__ = "network_plan"
    gp_group: str = Field(primary_key=True, foreign_key="gp_group.code", max_length=64)
    state: str = Field(max_length=16)
    version: int = 0
    view: dict[str, Any] = _json(default_factory=dict)


class UserAccountRow(_Table, table=True):
    """An account of the workspace: its role (and practice), the Argon2 hash of its password, whether it is
    disabled, and its failed logins since the last good one (the web slows and then refuses them)."""

    __tablename__ = "user_account"
    login: str = Field(primary_key=True, max_length=64)
    role: str = Field(max_length=16)
    agb_code: str | None = Field(default=None, foreign_key="practice.agb_code", max_length=8)
    gp_group: str | None = Field(default=None, max_length=64)
    password_hash: str
    disabled: bool = False
    failed_logins: int = 0
    last_failed_at: datetime | None = _moment(default=None)
    created_at: datetime = _moment()
    updated_at: datetime = _moment()
    actor: str


class WebSessionRow(_Table, table=True):
    """A signed-in session: the SHA-256 of its cookie's token (the token itself is never stored), its CSRF token,
    when it began and was last used; ended when the user logs out or it idles past the settings' limit."""

    __tablename__ = "web_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    login: str = Field(foreign_key="user_account.login", max_length=64, index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = _moment()
    last_seen_at: datetime = _moment()
    ended_at: datetime | None = _moment(default=None)

