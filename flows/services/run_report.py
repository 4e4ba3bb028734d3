"""What a duty run did, told in Dutch the same way by every runner.

``qualitycycle run --now`` prints it, the embedded runner logs it, and a Prefect flow run publishes it as
two artifacts (a summary and a table). An officer reads these, so everything here is Dutch: message kinds
by their Dutch names, no code names, no tracebacks; a failure is one line naming the practice (or file,
or message) and why.

Invariants:
- One rendering of a ``DutyReport`` for all runners: the CLI, the embedded runner and Prefect cannot tell
  different stories about the same run.
- Each duty's summary shows the counts that duty is about (a dispatch: sent, held, retried, given up; a
  sweep: practices, duties, transitions, messages queued); a count of another duty's kind is left out
  unless it is not zero.
- An exception a runner catches becomes one Dutch line for officers and a traceback in the operations log
  (``$QC_HOME/logs/operations.log``, and the process's standard error for long-running runners), never in
  what officers read.
- A run failed when its report has failures (a practice the engine refused, an extract rejected, a
  message given up): runners end such a run Failed / non-zero after it finished what it could.
  Practices left to the next run (``deferred``) are not failures.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from domain.vocabulary import date_nl, message_kind_nl
from flows.schedule import BY_NAME
from flows.services.duties import DutyReport

operations = logging.getLogger("qualitycycle.operations")
TABLE_IN_SUMMARY = 200  # lines of the table repeated in the summary, where long reasons wrap and stay readable

_EXTRA_TITLES = {"plan_obligations": "Taken plannen"}

# the counts each duty is about, in the order an officer reads them
_COUNTS: dict[str, tuple[str, ...]] = {
    "sweep_due": ("practices", "planned", "rescheduled", "done", "cancelled", "transitions", "escalated",
                  "messages"),
    "plan_obligations": ("practices", "planned", "rescheduled", "done", "cancelled"),
    "plan_meetings": ("planned", "rescheduled", "done", "cancelled", "messages"),
    "refresh_kits": ("practices", "planned", "rescheduled", "done", "cancelled", "messages"),
    "board_digest": ("practices", "messages"),
    "recalculate_indicators": ("transitions", "escalated", "messages"),
}
_COUNT_NAMES = {  # as a row of the summary's table
    "practices": "Praktijken bekeken", "planned": "Taken gepland", "rescheduled": "Taken verplaatst",
    "done": "Taken afgerond", "cancelled": "Taken vervallen", "transitions": "Stappen in trajecten",
    "escalated": "Gemeld aan het bestuur (beleid)", "messages": "Berichten klaargezet",
}
_COUNT_PHRASES = {  # in a one-line report: "2 praktijken bekeken"
    "practices": "{} praktijken bekeken", "planned": "{} taken gepland", "rescheduled": "{} verplaatst",
    "done": "{} afgerond", "cancelled": "{} vervallen", "transitions": "{} stappen in trajecten",
    "escalated": "gemeld aan het bestuur: {}", "messages": "{} berichten klaargezet",
}
_DIGEST_PRACTICES = "Trajecten onder het beleid"


def title(duty: str) -> str:
    """``sweep_due`` -> ``Openstaande taken`` (the title officers know from the schedule)."""
    declared = BY_NAME.get(duty.replace("_", "-"))
    return declared.title_nl if declared is not None else _EXTRA_TITLES.get(duty, duty)


def clock(moment: datetime) -> str:
    """``06:00``, or ``12:24:32`` when the moment has seconds (a run's moment keeps them)."""
    return f"{moment:%H:%M:%S}" if moment.second or moment.microsecond else f"{moment:%H:%M}"


def moment_text(moment: datetime) -> str:
    """``maandag 9 december 2024 06:00`` (with seconds when the moment has them)."""
    return f"{date_nl(moment, weekday=True)} {clock(moment)}"


def kinds_text(counts: Mapping[str, int]) -> str:
    """``uitnodiging voor een gesprek: 18, herinnering aan een gesprek: 3``."""
    return ", ".join(f"{message_kind_nl(kind)}: {n}" for kind, n in sorted(counts.items(), key=_by_name) if n)


def _by_name(item: tuple[str, int]) -> str:
    return message_kind_nl(item[0])


def _counts(report: DutyReport) -> list[tuple[str, int | str]]:
    """The counts this duty is about (and any other that is not zero), in reading order: (name, value)."""
    values: dict[str, int | str] = {
        "practices": report.practices, "planned": report.planned, "rescheduled": report.rescheduled,
        "done": report.done, "cancelled": report.cancelled, "transitions": len(report.transitions),
        "escalated": ", ".join(report.escalated), "messages": report.messages,
    }
    shown = _COUNTS.get(report.duty, tuple(values))
    return [(name, value) for name, value in values.items() if name in shown or value]


def _phrase(report: DutyReport, name: str) -> str:
    return "{} trajecten onder het beleid" if (report.duty, name) == ("board_digest", "practices") \
        else _COUNT_PHRASES[name]


def _label(report: DutyReport, name: str) -> str:
    return _DIGEST_PRACTICES if (report.duty, name) == ("board_digest", "practices") else _COUNT_NAMES[name]


def headline(report: DutyReport) -> str:
    """One line for a log or a terminal: the duty, its moment, what it did, how many failures."""
    head = f"{report.duty.replace('_', '-')} ({title(report.duty)}) {report.moment:%Y-%m-%d} {clock(report.moment)}: "
    if report.delivery is not None:
        d = report.delivery
        parts = [f"{sum(d.sent.values())} verzonden" + (f" ({kinds_text(d.sent)})" if d.sent else ""),
                 f"{len(d.held)} wachten op een e-mailadres", f"{len(d.retrying)} later opnieuw",
                 f"{len(d.given_up)} opgegeven"]
        body = ", ".join(parts) + f"; via {d.channel}"
    else:
        body = ", ".join(_phrase(report, name).format(value or ("niemand" if name == "escalated" else 0))
                         for name, value in _counts(report))
        if report.queued:
            body += f" ({kinds_text(report.queued)})"
    tail = []
    if report.deferred:
        tail.append(f"{len(report.deferred)} uitgesteld naar de volgende run")
    if report.already_ran:
        tail.append("moment was al eerder verwerkt")
    tail.append(f"{len(report.failures)} fout(en)" if report.failures else "geen fouten")
    return head + body + "; " + "; ".join(tail)


def failure_text(what: str, why: str) -> str:
    """``praktijk 01234567: ...`` once, not ``01234567: praktijk 01234567: ...``."""
    return why if why.startswith(f"praktijk {what}") else f"{what}: {why}"


def failure_lines(report: DutyReport) -> list[str]:
    """One Dutch line per failure: ``fout: praktijk 01234567: ...``, ``fout bij extract_x.csv: ...``."""
    return [f"fout: {why}" if why.startswith(f"praktijk {what}") else f"fout bij {what}: {why}"
            for what, why in report.failures]


def deferred_lines(report: DutyReport) -> list[str]:
    return [f"uitgesteld: praktijk {agb}: {why}" for agb, why in report.deferred]


def failure_message(reports: Sequence[DutyReport]) -> str:
    """What a failed run says in one line: how many failures (per duty, when it ran several) and the first."""
    failed = [r for r in reports if r.failures]
    count = sum(len(r.failures) for r in failed)
    where = f" ({', '.join(f'{title(r.duty)}: {len(r.failures)}' for r in failed)})" if len(reports) > 1 else ""
    more = f" (en {count - 1} meer; zie de samenvatting)" if count > 1 else ""
    return f"{count} fout(en){where}. Eerste: {failure_text(*failed[0].failures[0])}{more}"


def dutch_error(exc: BaseException) -> str:
    """An exception as one Dutch line for officers (no traceback)."""
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        return f"database niet bereikbaar of niet bruikbaar: {first_line(exc.orig if exc.orig is not None else exc)}"
    return f"onverwachte fout ({type(exc).__name__}): {first_line(exc)}"


def unexpected(exc: BaseException, where: str = "") -> str:
    """A failure no duty reported (an exception, caught by a runner): its traceback goes to the operations log,
    and the one Dutch line officers read comes back."""
    operations.error("%s: %s", where or "run", dutch_error(exc), exc_info=exc)
    return dutch_error(exc)


def log_operations_to(home: Path, *, stderr: bool = False) -> Path:
    """Send the operations log (tracebacks of unexpected failures) to ``<home>/logs/operations.log`` and, for a
    long-running process whose own output operations staff read (the embedded runner, ``serve``, a worker),
    to standard error. Idempotent: a handler is added once per target."""
    folder = home / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = (folder / "operations.log").resolve()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%d %H:%M:%S")
    present = {getattr(h, "baseFilename", None) or type(h).__name__ for h in operations.handlers}
    if str(path) not in present:
        to_file = logging.FileHandler(path, encoding="utf-8")
        to_file.setFormatter(formatter)
        operations.addHandler(to_file)
    if stderr and "StreamHandler" not in present:
        to_stderr = logging.StreamHandler()
        to_stderr.setFormatter(formatter)
        operations.addHandler(to_stderr)
    operations.setLevel(logging.INFO)
    operations.propagate = False  # never into a handler officers read (Prefect's run log, the runner's lines)
    return path


def first_line(exc: BaseException) -> str:
    """The first line of an error's text (a driver's message can run over many)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def summary_markdown(report: DutyReport) -> str:
    """The Dutch summary a Prefect run publishes: status, the duty's counts, failures, and what it did."""
    lines = [f"# {title(report.duty)}, {moment_text(report.moment)}", ""]
    if report.failures:
        lines += [f"**Mislukt: {len(report.failures)} fout(en).** De rest van het werk is gedaan; de fouten "
                  "staan hieronder.", ""]
    else:
        lines += ["**Gelukt.**", ""]
    if report.already_ran:
        lines += ["Dit moment was al eerder verwerkt: deze run heeft alleen afgemaakt wat nog openstond.", ""]
    lines += ["| | |", "|---|---|"]
    if report.delivery is not None:
        d = report.delivery
        lines += [f"| Verzonden | {sum(d.sent.values())} |"]
        if d.resent:
            lines += [f"| waarvan opnieuw na een onderbreking | {d.resent} |"]
        lines += [f"| Wachten op een e-mailadres | {len(d.held)} |", f"| Later opnieuw | {len(d.retrying)} |",
                  f"| Opgegeven | {len(d.given_up)} |", f"| Verzonden via | {_cell(d.channel)} |"]
        if d.sent:
            lines += ["", "Verzonden per soort:", ""] + [f"- {message_kind_nl(k)}: {n}"
                                                          for k, n in sorted(d.sent.items(), key=_by_name)]
    else:
        lines += [f"| {_label(report, name)} | {_cell(str(value or ('geen' if name == 'escalated' else 0)))} |"
                  for name, value in _counts(report)]
        if report.deferred:
            lines += [f"| Uitgesteld naar de volgende run | {len(report.deferred)} |"]
        lines += [f"| Fouten | {len(report.failures)} |"]
        if report.queued:
            lines += ["", "Berichten per soort:", ""] + [f"- {message_kind_nl(k)}: {n}"
                                                          for k, n in sorted(report.queued.items(), key=_by_name)]
    if report.failures:
        lines += ["", "## Fouten", ""] + [f"- {_cell(failure_text(what, why))}" for what, why in report.failures]
    if report.delivery is not None:
        for heading, problems in (("Wachten op een e-mailadres", report.delivery.held),
                                  ("Later opnieuw", report.delivery.retrying)):
            if problems:
                lines += ["", f"## {heading}", ""] + [f"- {message_kind_nl(kind)}: {_cell(why)}"
                                                     for kind, why in problems]
    if report.deferred:
        lines += ["", "## Uitgesteld naar de volgende run", ""] + [f"- praktijk {agb}: {_cell(why)}"
                                                                    for agb, why in report.deferred]
    shown = report.lines[:TABLE_IN_SUMMARY]
    if shown:
        lines += ["", "## Wat deze run deed", "", "| Praktijk | Wat | Details |", "|---|---|---|"]
        lines += [f"| {_cell(r['praktijk'])} | {_cell(r['wat'])} | {_cell(r['details'])} |" for r in shown]
        if len(report.lines) > len(shown):
            lines += ["", f"De eerste {len(shown)} van {len(report.lines)} regels; alle regels staan in de "
                      "tabel van deze run."]
    return "\n".join(lines)


def table_rows(report: DutyReport, limit: int) -> list[dict[str, str]]:
    """The table a Prefect run publishes: praktijk, wat, details (a line saying so when there was nothing)."""
    return report.lines[:limit] or [{"praktijk": "-", "wat": "niets te doen", "details": ""}]
