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
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from domain.clock import as_amsterdam
from domain.commands import RecordConversation
from domain.errors import ConflictError
from domain.indicators import IndicatorDefinition, IndicatorScore, NationalAverage, Target
from domain.registry import Registry
from flows.services.context import Services
from flows.services.conversations import ConversationRecorded, record_conversations
from statemachines.trajectory import TrajectoryError
from storage import repository as repo

if TYPE_CHECKING:
    from readers.files import ConversationLine  # the readers (and YAML) are not loaded to run a service


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
    """Record conversations from a spreadsheet in the order they were held, in one transaction
    (``record_conversations``).

    Each is recorded as ``record_conversation`` would; a refused one stops the import with the
    file's row, and what was recorded before it stays (each conversation is its own fact).
    """
    ordered = sorted(lines, key=lambda item: (item.held_on, item.row))
    cmds = [RecordConversation(agb_code=line.agb_code, kind=line.kind, held_on=line.held_on, programme=line.programme)
            for line in ordered]
    done = record_conversations(services, cmds, now, actor)
    if done.refused is not None:
        index, exc = done.refused
        if isinstance(exc, TrajectoryError):
            raise ImportStoppedError(f"{source}, rij {ordered[index].row}: {exc} ({len(done.recorded)} eerdere rijen "
                                     "vastgelegd)") from exc
        raise exc
    return list(done.recorded)


class ImportStoppedError(ConflictError):
    """An import of conversations stopped at a row the trajectory refused."""
