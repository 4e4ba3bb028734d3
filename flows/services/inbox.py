"""The inbox duty: new pseudonymised extracts dropped in ``$QC_HOME/inbox/`` recalculated into figures, then the
practices whose figures changed judged at once.

Invariants:
- An extract already imported (by the digest of its bytes and period) is skipped; a malformed one is refused whole
  and reported, the others still go in; an extract of a period not yet ended is refused.
- The inbox takes exactly the suffixes the extract reader reads (``readers.extracts.EXTRACT_SUFFIXES``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from domain.clock import as_amsterdam, future_fact
from domain.vocabulary import date_nl
from flows.services.context import ENGINE_ACTOR, Services
from flows.services.duties import DEFAULT_BATCH, DutyReport, ReviewBasis, finish_duty, in_batches
from flows.services.imports import recalculate_indicators
from flows.services.sweep import evaluate_batch
from storage import repository as repo
from storage import review


def _extract_digest(path: Path, period_end: date) -> str:
    """The digest ``recalculate_indicators`` logs an extract's import under."""
    return hashlib.sha256(path.read_bytes() + period_end.isoformat().encode()).hexdigest()


def _extracts(inbox: Path) -> Iterator[tuple[Path, date]]:
    """Extracts waiting in the inbox, named ``<anything>_<period end YYYY-MM-DD>`` with a suffix ``recalculate``
    reads (``.csv``, ``.parquet``, ``.pq``)."""
    waiting = sorted(inbox.iterdir()) if inbox.is_dir() else []
    if not waiting:  # the reader's module loads Polars (0.18 s a process): not for an empty inbox, every run
        return
    from readers.extracts import EXTRACT_SUFFIXES  # the reader's own list: what it reads, the inbox takes

    for path in waiting:
        if path.suffix.lower() in EXTRACT_SUFFIXES:
            try:
                yield path, date.fromisoformat(path.stem.rsplit("_", 1)[-1])
            except ValueError:
                continue


def recalculate_from_inbox(services: Services, now: datetime, inbox: Path, *, actor: str = ENGINE_ACTOR
                           ) -> DutyReport:
    """Recalculate indicators from every new extract in ``inbox`` (an extract already imported, by its
    SHA-256, is skipped), then evaluate every practice. A malformed extract is rejected whole and
    reported; the others still go in."""
    now = as_amsterdam(now)
    services = services.in_force(now)
    report = DutyReport("recalculate_indicators", now)
    with services.session() as s:
        seen = repo.imported_digests(s)
    imported = 0
    for path, period_end in _extracts(inbox):
        why = future_fact("periode-einde in de bestandsnaam", period_end, now.date(),
                          "hernoem het bestand naar het echte einde van de periode")
        if why:  # as import-indicators refuses it: figures of a period not yet ended
            report.failures.append((path.name, why))
            report.line("zorggroep", f"extract {path.name} geweigerd", why)
            continue
        if _extract_digest(path, period_end) in seen:
            continue
        try:
            result = recalculate_indicators(services, path, period_end, now=now, actor=actor)
        except Exception as exc:  # a bad file must not stop the others; the operator sees why
            report.failures.append((path.name, str(exc)))
            report.line("zorggroep", f"extract {path.name} geweigerd", str(exc))
            continue
        imported += 1
        report.line("zorggroep", f"extract {path.name}", f"periode t/m {date_nl(period_end)}: {result}")
    if imported:  # new figures: judge the practices they concern now rather than at the next sweep
        basis = ReviewBasis.load(services)
        with services.session() as s:
            due = review.due_for_evaluation(s, basis.evaluation, now.date())
        for codes in in_batches(due, DEFAULT_BATCH):
            evaluate_batch(services, now, codes, actor, report, basis)
    return finish_duty(services, report, actor)
