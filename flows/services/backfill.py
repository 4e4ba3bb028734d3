"""Bringing in history: the declared schedule walked over past dates, as the runners would have run it.

A care group that starts with the product brings years of conversations and figures. ``backfill`` runs every
duty of ``flows/schedule.py`` at every fire time from ``start`` to ``until``, in time order, on the facts recorded
beforehand: each fact's step is taken when the walk reaches the day it happened (``flows.services.steps``),
figures count from their period end plus the policy's publication delay, so the trajectories, obligations and
board decisions of those years are recorded at the moments they would have been taken.

Invariants:
- Nothing of the past is sent: a message the walk queues about what lies before ``until`` (a board
  notification, an overdue notice, an invitation to a conversation already held) is stored ``historic`` in the
  transaction of its cause, visible in ``outbox``, never dispatched, however the walk ends; nobody gets 2024's
  invitations in 2026. One about a conversation, meeting or due day still ahead of ``until`` is queued as usual
  and goes out with the next dispatch. Messages queued by anything else are left alone.
- Not walked: ``dispatch-outbox`` (nothing of the past is sent) and ``recalculate-indicators`` (its inbox is for
  figures arriving now; history comes in through ``import-indicators``).
- After a backfill the engine's horizon is ``until``: the care group is live, and the next ordinary run plans
  and sends only what lies ahead.
- Only over a span the engine has not judged: a second backfill over the same span finds it done and adds
  nothing; one that starts before the engine's horizon (a live care group) is refused.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from domain.clock import as_amsterdam, start_of_day
from domain.errors import InputError
from flows.schedule import SCHEDULE, fire_times
from flows.services.context import Services
from flows.services.duties import DutyReport
from flows.services.run_report import title, unexpected
from flows.services.settings import Settings
from storage import obligations as store
from storage import repository as repo

NOT_WALKED = {
    "dispatch-outbox": "berichten uit het verleden worden bewaard als historisch, nooit verstuurd",
    "recalculate-indicators": "de inbox is voor cijfers van nu; historische cijfers komen via import-indicators",
}


class BackfillError(InputError):
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
    done_already: bool = False  # the engine had judged the whole span: nothing walked

    def add(self, report: DutyReport) -> None:
        self.runs[report.duty] += 1
        self.transitions += len(report.transitions)
        self.planned += report.planned
        self.queued += report.messages
        self.failures += [(f"{title(report.duty)} {report.moment:%Y-%m-%d %H:%M}: {what}", why)
                          for what, why in report.failures]


def backfill(services: Services, settings: Settings, start: date | datetime, until: datetime, *, now: datetime,
             into_the_future: bool = False, trajectories_only: bool = False) -> BackfillReport:
    """Walk the schedule from ``start`` (00:00) up to ``until``; what it queues about the past is historic.

    Refused for an ``until`` after ``now`` (the engine would judge the future), and over a span the engine has
    already judged in part (a live care group: facts taken at once would stand after the walk's moments); a span
    it has judged whole is done already, and the walk adds nothing. ``start`` may be a moment (the walk then
    takes the fire times after it); ``into_the_future`` is for a what-if on a copy only, and so is
    ``trajectories_only``: the duties that take trajectory steps alone (``ScheduledDuty.moves_trajectories``),
    their notices not queued; the same steps at the same moments as the whole walk, in a fraction of its time."""
    until, now = as_amsterdam(until), as_amsterdam(now)
    begin = as_amsterdam(start) if isinstance(start, datetime) else start_of_day(start)
    start = begin.date()
    if until.timestamp() <= begin.timestamp():
        raise BackfillError(f"backfill van {start.isoformat()} tot {until:%Y-%m-%d %H:%M}: het einde ligt niet na "
                            "het begin")
    if until.timestamp() > now.timestamp() and not into_the_future:
        raise BackfillError(f"backfill tot {until:%Y-%m-%d %H:%M} ligt na nu ({now:%Y-%m-%d %H:%M}): een backfill "
                            "brengt het verleden in, de toekomst neemt de planner")
    report = BackfillReport(start, until)
    with services.session() as s:
        horizon = repo.engine_horizon(s)
        historic_before = repo.count_historic(s)
    if horizon is not None and horizon.timestamp() >= until.timestamp():
        report.done_already = True  # every moment of the span was judged: nothing to walk
        return report
    if horizon is not None and horizon.timestamp() > begin.timestamp():
        raise BackfillError(f"de motor heeft al geoordeeld tot {horizon:%Y-%m-%d %H:%M}; een backfill kan alleen "
                            f"verder na die dag (--from {(horizon.date() + timedelta(days=1)).isoformat()})")
    # messages about the past are historic when queued
    walking = replace(services, historic_before=until, trajectories_only=trajectories_only)
    walked = [d for d in SCHEDULE if d.name not in NOT_WALKED and (d.moves_trajectories or not trajectories_only)]
    moments = sorted(((moment, order, duty) for order, duty in enumerate(walked)
                      for moment in fire_times(duty, begin, until)),
                     key=lambda item: (item[0].timestamp(), item[1]))
    for moment, _, duty in moments:
        try:
            report.add(duty.run(walking, moment, settings))
        except Exception as exc:  # one moment's fault does not stop the walk; the report says it
            report.failures.append((f"{duty.title_nl} {moment:%Y-%m-%d %H:%M}", unexpected(exc, duty.name)))
    with services.transaction() as s:
        report.historic = repo.count_historic(s) - historic_before
        if not report.failures:  # the span is judged: the engine's horizon moves to its end
            store.record_duty_run(s, "backfill", until, started_at=now, finished_at=now, actor="backfill", summary={
                "from": begin.isoformat(), "runs": dict(report.runs), "transitions": report.transitions,
                "historic": report.historic})
    return report
