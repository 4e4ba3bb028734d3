"""Bringing in history: the declared schedule walked over past dates, as the runners would have run it.

A care group that starts with the product brings years of conversations and figures. ``backfill`` runs every
duty of ``flows/schedule.py`` at every fire time from ``start`` to ``until``, in time order, on the facts recorded
beforehand: each fact's step is taken when the walk reaches the day it happened (``flows.engine``), figures count
from their period end plus the policy's publication delay, so the trajectories, obligations and board decisions
of those years are recorded at the moments they would have been taken.

Invariants:
- Nothing is sent: every message the walk queues (it fell due before ``until``) is kept as ``historic``, visible
  in ``outbox``, never dispatched; nobody gets 2024's invitations in 2026. Messages queued before the backfill
  are left alone.
- Not walked: ``dispatch-outbox`` (nothing of the past is sent) and ``recalculate-indicators`` (its inbox is for
  figures arriving now; history comes in through ``import-indicators``).
- After a backfill the engine's horizon is ``until``: the care group is live, and the next ordinary run plans
  and sends only what lies ahead.
- Idempotent: a second backfill over the same span finds every moment done and adds nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from domain.clock import as_amsterdam, start_of_day
from flows.duties import DutyReport
from flows.engine import Services
from flows.run_report import title, unexpected
from flows.schedule import SCHEDULE, fire_times
from flows.settings import Settings
from storage import repository as repo

NOT_WALKED = {
    "dispatch-outbox": "berichten uit het verleden worden bewaard als historisch, nooit verstuurd",
    "recalculate-indicators": "de inbox is voor cijfers van nu; historische cijfers komen via import-indicators",
}


class BackfillError(ValueError):
    """A backfill span that cannot be walked (it ends before it starts)."""


@dataclass
class BackfillReport:
    start: date
    until: datetime
    runs: Counter[str] = field(default_factory=Counter)  # duty -> moments walked
    transitions: int = 0
    planned: int = 0
    queued: int = 0
    historic: int = 0  # messages kept as historic
    failures: list[tuple[str, str]] = field(default_factory=list)

    def add(self, report: DutyReport) -> None:
        self.runs[report.duty] += 1
        self.transitions += len(report.transitions)
        self.planned += report.planned
        self.queued += report.messages
        self.failures += [(f"{title(report.duty)} {report.moment:%Y-%m-%d %H:%M}: {what}", why)
                          for what, why in report.failures]


def backfill(services: Services, settings: Settings, start: date, until: datetime) -> BackfillReport:
    """Walk the schedule from ``start`` (00:00) up to ``until`` and keep what it queued as historic."""
    until = as_amsterdam(until)
    begin = start_of_day(start)
    if until.timestamp() <= begin.timestamp():
        raise BackfillError(f"backfill van {start.isoformat()} tot {until:%Y-%m-%d %H:%M}: het einde ligt niet na "
                            "het begin")
    report = BackfillReport(start, until)
    with services.session() as s:
        before = repo.outbox_ids(s)
    walked = [d for d in SCHEDULE if d.name not in NOT_WALKED]
    moments = sorted(((moment, order, duty) for order, duty in enumerate(walked)
                      for moment in fire_times(duty, begin, until)),
                     key=lambda item: (item[0].timestamp(), item[1]))
    for moment, _, duty in moments:
        try:
            report.add(duty.run(services, moment, settings))
        except Exception as exc:  # one moment's fault does not stop the walk; the report says it
            report.failures.append((f"{duty.title_nl} {moment:%Y-%m-%d %H:%M}", unexpected(exc, duty.name)))
    with services.transaction() as s:
        report.historic = repo.keep_as_historic(s, before=until, except_ids=before)
    return report
