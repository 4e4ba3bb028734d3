"""Bringing outside data in: the registry, the indicator catalogue, targets, averages and scores, extracts
recalculated into scores (one at a time or from the inbox), and conversations from a spreadsheet.

Invariants:
- An import of scores is logged under the digest of its content: the same file again changes nothing, a corrected
  figure keeps its old value as a revision.
- Extracts leave only aggregates per practice in the database (``readers.extracts`` computes them).
- A refused conversation stops a spreadsheet's import with its row; what was recorded before it stays.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path

from domain.clock import as_amsterdam, future_fact
from domain.commands import RecordConversation
from domain.errors import ConflictError
from domain.indicators import (
    IndicatorDefinition,
    IndicatorScore,
    NationalAverage,
    Target,
)
from domain.registry import Registry
from domain.vocabulary import date_nl
from flows.services.context import ENGINE_ACTOR, Services
from flows.services.conversations import ConversationRecorded, record_conversation
from flows.services.duties import DEFAULT_BATCH, DutyReport, ReviewBasis, finish_duty, in_batches
from flows.services.sweep import evaluate_batch
from readers.files import ConversationLine
from statemachines.trajectory import (
    TrajectoryError,
)
from storage import repository as repo
from storage import review


def load_registry(services: Services, registry: Registry) -> dict[str, int]:
    with services.transaction() as s:
        return repo.save_registry(s, registry)


def import_catalogue(services: Services, definitions: Sequence[IndicatorDefinition]) -> int:
    with services.transaction() as s:
        return repo.save_catalogue(s, definitions)


def import_targets(services: Services, targets: Sequence[Target]) -> int:
    with services.transaction() as s:
        return repo.save_targets(s, targets)


def import_averages(services: Services, averages: Sequence[NationalAverage]) -> int:
    with services.transaction() as s:
        return repo.save_averages(s, averages)


def import_scores(services: Services, scores: Sequence[IndicatorScore], *, source: str, now: datetime,
                  actor: str, sha256: str | None = None) -> repo.ScoreImport:
    """Store figures; a corrected figure keeps its old value as a revision, and the import is logged.

    ``sha256`` names the content (the file's bytes); without it, a digest of the figures is used."""
    digest = sha256 or hashlib.sha256(
        "\n".join(sorted(f"{x.agb_code},{x.key},{x.period_end},{x.numerator},{x.denominator}" for x in scores))
        .encode()).hexdigest()
    with services.transaction() as s:
        return repo.save_scores(s, scores, source=source, sha256=digest, at=as_amsterdam(now), actor=actor)


def recalculate_indicators(services: Services, extract: Path, period_end: date, *, now: datetime,
                           actor: str) -> repo.ScoreImport:
    """Recalculate every computable indicator per practice from a pseudonymised extract and store only
    the aggregates, as an import whose source names the extract and the period."""
    with services.session() as s:
        catalogue = repo.load_catalogue(s)
        codes = repo.practice_codes(s)
    from readers.extracts import recalculate  # Polars is loaded only when an extract is recalculated

    scores = recalculate(extract, catalogue, period_end, known_agb_codes=codes)
    digest = hashlib.sha256(extract.read_bytes() + period_end.isoformat().encode()).hexdigest()
    return import_scores(services, scores, source=f"herberekening {extract.name} tot {period_end.isoformat()}",
                         now=now, actor=actor, sha256=digest)


def ensure_default_catalogue(services: Services) -> int:
    """Seed the shipped catalogue into an empty database; a care group's own catalogue is left alone."""
    with services.transaction() as s:
        if not repo.catalogue_is_empty(s):
            return 0
        from readers.catalogue import default_catalogue  # read only for a new database

        return repo.save_catalogue(s, default_catalogue())


def import_conversations(services: Services, lines: Sequence[ConversationLine], now: datetime, actor: str,
                         source: str) -> list[ConversationRecorded]:
    """Record conversations from a spreadsheet in the order they were held.

    Each is recorded as ``record_conversation`` would; a refused one stops the import with the
    file's row, and what was recorded before it stays (each conversation is its own fact).
    """
    results = []
    for line in sorted(lines, key=lambda item: (item.held_on, item.row)):
        cmd = RecordConversation(agb_code=line.agb_code, kind=line.kind, held_on=line.held_on,
                                 programme=line.programme)
        try:
            results.append(record_conversation(services, cmd, now, actor))
        except TrajectoryError as exc:
            raise ImportStoppedError(f"{source}, rij {line.row}: {exc} ({len(results)} eerdere rijen vastgelegd)") \
                from exc
    return results


class ImportStoppedError(ConflictError):
    """An import of conversations stopped at a row the trajectory refused."""




def _extract_digest(path: Path, period_end: date) -> str:
    """The digest ``recalculate_indicators`` logs an extract's import under."""
    return hashlib.sha256(path.read_bytes() + period_end.isoformat().encode()).hexdigest()


def _extracts(inbox: Path) -> Iterator[tuple[Path, date]]:
    """Extracts waiting in the inbox, named ``<anything>_<period end YYYY-MM-DD>`` with a suffix ``recalculate``
    reads (``.csv``, ``.parquet``, ``.pq``)."""
    from readers.extracts import EXTRACT_SUFFIXES  # the reader's own list: what it reads, the inbox takes

    for path in sorted(inbox.iterdir()) if inbox.is_dir() else []:
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
