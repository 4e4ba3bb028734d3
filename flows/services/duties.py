"""What every duty shares: its report, the review basis that lets a sweep skip unchanged practices, practices in
batches, and the record of the duty's run.

Invariants:
- A duty's run for a moment is recorded once (``finish_duty``): the first recorder wins, a rerun says it already ran.
- Practices are rows taken in batches of stable order, never one schedule or one task per practice.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from domain.clock import as_amsterdam
from domain.courses import catalogue_fingerprint
from domain.obligations import calendar_fingerprint
from domain.policy import MissingAverage
from domain.trajectory import Trigger
from flows.services.context import Services
from flows.services.evaluation import TransitionTaken
from storage import courses as course_store
from storage import obligations as store
from storage import repository as repo

DEFAULT_BATCH = 500


@dataclass
class DutyReport:
    """What a duty did for a moment: what the CLI prints, the duty run records and the artifact shows."""

    duty: str
    moment: datetime
    already_ran: bool = False
    practices: int = 0
    planned: int = 0
    rescheduled: int = 0
    done: int = 0
    cancelled: int = 0
    transitions: list[TransitionTaken] = field(default_factory=list)
    queued: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (what, why), Dutch: the run failed
    deferred: list[tuple[str, str]] = field(default_factory=list)  # (practice, why): left to the next run
    lines: list[dict[str, str]] = field(default_factory=list)  # the artifact's table: praktijk, wat, details
    delivery: Delivery | None = None  # what a dispatch sent, held, retried and gave up

    @property
    def messages(self) -> int:
        return sum(self.queued.values())

    @property
    def escalated(self) -> list[str]:
        return [t.agb_code for t in self.transitions if t.trigger is Trigger.ESCALATE]

    def merge(self, other: DutyReport) -> None:
        self.practices += other.practices
        self.planned += other.planned
        self.rescheduled += other.rescheduled
        self.done += other.done
        self.cancelled += other.cancelled
        self.transitions.extend(other.transitions)
        self.queued.update(other.queued)
        self.failures.extend(other.failures)
        self.deferred.extend(other.deferred)
        self.lines.extend(other.lines)

    def line(self, practice: str, what: str, details: str) -> None:
        self.lines.append({"praktijk": practice, "wat": what, "details": details})

    def summary(self) -> dict[str, Any]:
        return {
            "duty": self.duty, "moment": self.moment.isoformat(), "already_ran": self.already_ran,
            "practices": self.practices, "planned": self.planned, "rescheduled": self.rescheduled,
            "done": self.done, "cancelled": self.cancelled, "transitions": len(self.transitions),
            "escalated": self.escalated, "messages": self.messages, "queued": dict(sorted(self.queued.items())),
            "failures": [{"what": w, "why": y} for w, y in self.failures],
            "deferred": [{"practice": p, "why": y} for p, y in self.deferred],
            **({"delivery": self.delivery.summary()} if self.delivery is not None else {}),
        }

    @property
    def failed(self) -> bool:
        return bool(self.failures)


@dataclass
class Delivery:
    """What one dispatch of the outbox did: counted per message kind, with the reason for each problem."""

    channel: str
    sent: Counter[str] = field(default_factory=Counter)  # per kind
    resent: int = 0  # of those: found half-sent after an interruption, sent again with the same Message-ID
    held: list[tuple[str, str]] = field(default_factory=list)  # (kind, why): waiting for an address
    retrying: list[tuple[str, str]] = field(default_factory=list)  # (kind, why): tried again later
    given_up: list[tuple[str, str]] = field(default_factory=list)  # (kind, why): failed for good

    def summary(self) -> dict[str, Any]:
        return {"channel": self.channel, "sent": dict(sorted(self.sent.items())), "resent": self.resent,
                "held": len(self.held), "retrying": len(self.retrying), "given_up": len(self.given_up)}




@dataclass(frozen=True)
class ReviewBasis:
    """What every practice's review shares, as digests: a review made under another basis is stale.

    ``planning``: the policy, the working calendar and the course catalogue's mandatory courses. ``evaluation``:
    the policy and the calendar, the indicator catalogue, the targets and national averages, and (when the policy
    falls back to the care group's median) every import of scores, since a median moves with any practice's
    figures."""

    evaluation: str
    planning: str

    @classmethod
    def load(cls, services: Services) -> ReviewBasis:
        rules = _digest(services.policy.fingerprint(), calendar_fingerprint(services.calendar))
        with services.session() as s:
            # the course catalogue is part of what planning reads: an import makes every practice's plan stale
            planning = _digest(rules, catalogue_fingerprint(course_store.current(s)))
            parts = [rules]
            # without a national average the judgement depends on when figures came in: the imports count too
            parts.extend(repo.reference_rows(
                s, with_imports=services.policy.without_national_average is not MissingAverage.NONE))
        return cls(evaluation=_digest(*parts), planning=planning)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


T = TypeVar("T")


def in_batches(items: Sequence[T], size: int) -> list[list[T]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def practice_batches(services: Services, size: int = DEFAULT_BATCH) -> list[list[str]]:
    """The care group's practices in batches of ``size`` AGB codes, in a stable order."""
    with services.session() as s:
        return in_batches(sorted(repo.practice_codes(s)), size)


def day_of(moment: datetime) -> date:
    return as_amsterdam(moment).date()




def attach_flow_run(services: Services, report: DutyReport, flow_run_id: str) -> bool:
    """Name the Prefect flow run whose run of the duty was recorded, so the workspace's runs page links to it
    (a rerun that found the moment already run names nothing)."""
    if report.already_ran:
        return False
    with services.transaction() as s:
        return store.attach_flow_run(s, report.duty, report.moment, flow_run_id)


def finish_duty(services: Services, report: DutyReport, actor: str) -> DutyReport:
    """Record the duty's run for its moment (the first recorder wins; a rerun says it already ran)."""
    with services.transaction() as s:
        # one insert-or-ignore: whether it was new says whether the moment had run (was a read, then the insert)
        report.already_ran = not store.record_duty_run(s, report.duty, report.moment, started_at=report.moment,
                                                       finished_at=report.moment, summary=report.summary(),
                                                       actor=actor)
    return report
