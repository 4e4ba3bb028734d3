"""The care group's schedule, declared once: which duty runs when, in Europe/Amsterdam.

Both ways of running it read this declaration: ``qualitycycle serve`` registers it as Prefect
deployments (``flows/runners/prefect_flows.py``, ``Cron`` schedules with a time zone), and ``qualitycycle run``
without ``--now`` fires the same duties from an embedded APScheduler (``flows/runners/embedded.py``).
``qualitycycle run --now T`` runs every duty once for moment ``T``, in the order declared here.

Invariants:
- Weekdays are written as names (``mon-fri``): APScheduler reads ``1-5`` as Tuesday to Saturday, cron
  and Prefect as Monday to Friday; names mean the same to both, and a test compares their fire times.
- Every schedule is a five-field cron in Europe/Amsterdam local time, never firing between 02:00 and
  03:00 (the hour that happens twice or not at all when the clocks change); ``check_schedule`` proves it
  over a year, and a test runs it.
- Per-practice due dates are rows in our database, swept by these few duties: 5,000 practices are
  5,000 rows, not 5,000 schedules (Prefect also plans at most 100 days ahead).
- A duty is a function ``(services, moment, settings) -> DutyReport``; the moment is passed in.
- ``moves_trajectories`` marks the duties that take trajectory steps: every step but those a fact takes as it is
  recorded is taken by the evaluation (``evaluation.run_due``), which only the sweep and the recalculation after an
  import run. A what-if walks these alone (``backfill(trajectories_only=True)``); the others plan meetings and kits
  and queue messages (the board's digest among them), which no step reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from domain.clock import AMSTERDAM, as_amsterdam
from domain.vocabulary import message_kind_nl
from flows.services import digest, inbox, kits_and_courses, planning, sweep
from flows.services.context import Services
from flows.services.duties import Delivery, DutyReport
from flows.services.settings import Settings

TIMEZONE = "Europe/Amsterdam"


def _recalculate(services: Services, now: datetime, settings: Settings) -> DutyReport:
    return inbox.recalculate_from_inbox(services, now, settings.home / "inbox")


def _sweep(services: Services, now: datetime, settings: Settings) -> DutyReport:
    return sweep.sweep_due(services, now, workers=settings.workers)


def _meetings(services: Services, now: datetime, settings: Settings) -> DutyReport:
    return planning.plan_meetings(services, now)


def _kits(services: Services, now: datetime, settings: Settings) -> DutyReport:
    return kits_and_courses.refresh_kits(services, now)


def _digest(services: Services, now: datetime, settings: Settings) -> DutyReport:
    return digest.board_digest(services, now)


def _dispatch(services: Services, now: datetime, settings: Settings) -> DutyReport:
    from flows.services.outbox import channel_from_settings, dispatch_outbox

    result = dispatch_outbox(services, channel_from_settings(settings), now, mail_from=settings.mail_from)
    report = DutyReport("dispatch_outbox", as_amsterdam(now))
    delivery = report.delivery = Delivery(channel=result.channel, sent=result.sent_kinds, resent=len(result.resent))
    for agb, kind, who in result.sent_to:
        report.line(agb or "zorggroep", f"{message_kind_nl(kind)} verzonden", f"aan {who}")
    for stage, problems, into in (("later opnieuw", result.retrying, delivery.retrying),
                                  ("opgegeven", result.failed, delivery.given_up),
                                  ("wacht op een e-mailadres", result.held, delivery.held)):
        for p in problems:
            into.append((p.kind, p.reason))
            when = f" (volgende poging {p.next_attempt_at:%Y-%m-%d %H:%M})" if p.next_attempt_at else ""
            report.line(p.agb_code or "zorggroep", f"{message_kind_nl(p.kind)} {stage}", f"{p.reason}{when}")
    # a message given up is a failure of the run: an officer must look (a missing address is not: the
    # officers were sent a notice, and the message goes once the address is in the registry)
    report.failures += [(f"{message_kind_nl(p.kind)} aan {p.recipient}"
                         + (f" (praktijk {p.agb_code})" if p.agb_code else ""), p.reason) for p in result.failed]
    return report


@dataclass(frozen=True)
class ScheduledDuty:
    name: str  # the deployment's and the job's name: "sweep-due"
    cron: str  # minute hour day month weekday, Europe/Amsterdam
    run: Callable[[Services, datetime, Settings], DutyReport]
    title_nl: str  # what an officer reads in the UI
    description_nl: str
    tags: tuple[str, ...] = ()
    moves_trajectories: bool = False  # takes trajectory steps (see the invariants above)


SCHEDULE: tuple[ScheduledDuty, ...] = (
    ScheduledDuty("recalculate-indicators", "30 5 * * mon-fri", _recalculate, "Indicatoren herberekenen",
                  "Nieuwe extracten in QC_HOME/inbox herberekenen en daarna elke praktijk beoordelen.",
                  ("indicatoren",), moves_trajectories=True),
    ScheduledDuty("sweep-due", "0 6 * * mon-fri", _sweep, "Openstaande taken",
                  "Trajecten bijwerken, gesprekken plannen, uitnodigingen, herinneringen en "
                  "termijnoverschrijdingen klaarzetten.", ("kwaliteitscyclus",), moves_trajectories=True),
    ScheduledDuty("plan-meetings", "15 6 * * mon", _meetings, "POH- en praktijkmanagersoverleg",
                  "Overleggen van dit en volgend jaar plannen en uitnodigen.", ("overleg",)),
    ScheduledDuty("refresh-kits", "30 6 * * mon", _kits, "Instructiekoffers",
                  "Praktijken berichten waarvan een instructiekoffer aan actualisatie toe is.", ("koffers",)),
    ScheduledDuty("board-digest", "0 7 * * mon-fri", _digest, "Overzicht voor het bestuur",
                  "Het periodieke overzicht van de verbetertrajecten onder het beleid, eens per periode.",
                  ("bestuur",)),
    ScheduledDuty("dispatch-outbox", "*/15 7-19 * * *", _dispatch, "Berichten versturen",
                  "Klaargezette berichten versturen, mislukte later opnieuw.", ("berichten",)),
)
BY_NAME = {d.name: d for d in SCHEDULE}


def trigger(duty: ScheduledDuty) -> CronTrigger:
    return CronTrigger.from_crontab(duty.cron, timezone=AMSTERDAM)


def fire_times(duty: ScheduledDuty, start: datetime, end: datetime) -> list[datetime]:
    """When a duty fires between ``start`` and ``end`` (local time), as APScheduler computes it."""
    times: list[datetime] = []
    cron = trigger(duty)
    moment = cron.get_next_fire_time(None, as_amsterdam(start))
    # arithmetic and comparisons in UTC: within one zone Python compares wall times, and in the
    # repeated autumn hour 02:30 (second) would look no later than 02:30 (first)
    while moment is not None and moment.timestamp() < end.timestamp():
        times.append(moment)
        search = moment.astimezone(UTC) + timedelta(seconds=1)
        following = cron.get_next_fire_time(moment, search)
        while following is not None and following.timestamp() <= moment.timestamp():
            search += timedelta(minutes=30)
            following = cron.get_next_fire_time(moment, search)
        moment = following
    return times


class ScheduleError(Exception):
    """The schedule declares a duty in the night hour that daylight saving repeats or skips."""


def check_schedule(schedule: tuple[ScheduledDuty, ...] = SCHEDULE, year: int = 2026) -> None:
    """Refuse a schedule with any fire time between 02:00 and 03:00 local time over a whole year."""
    start = datetime(year, 1, 1, tzinfo=AMSTERDAM)
    end = datetime(year + 1, 1, 1, tzinfo=AMSTERDAM)
    for duty in schedule:
        bad = [t for t in fire_times(duty, start, end) if t.hour == 2]
        if bad:
            raise ScheduleError(f"{duty.name} ({duty.cron}) valt tussen 02:00 en 03:00, o.a. op {bad[0].isoformat()}")


def run_all(services: Services, now: datetime, settings: Settings,
            only: tuple[str, ...] | None = None) -> list[DutyReport]:
    """Every declared duty once for ``now``, in declaration order (``qualitycycle run --now``). A duty that
    raises does not stop the others: its report carries the failure, in Dutch."""
    from flows.services.run_report import unexpected

    reports = []
    for duty in SCHEDULE:
        if only is not None and duty.name not in only:
            continue
        try:
            reports.append(duty.run(services, now, settings))
        except Exception as exc:
            failed = DutyReport(duty.name.replace("-", "_"), as_amsterdam(now))
            failed.failures.append((duty.title_nl, unexpected(exc, duty.name)))
            reports.append(failed)
    return reports
