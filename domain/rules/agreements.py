"""The agreements of a conversation's report: what a report may not say, and which earlier agreements an annual
conversation leaves unevaluated.

Seed, section 1: "de gemaakte afspraken worden vastgelegd in een verslag en bij het volgende gesprek
geëvalueerd". An agreement stays open until a conversation evaluates it (met, partly met, not met, dropped).

Invariants:
- An agreement's id is derived from the conversation it was made in and its place in the report: recording the
  same conversation again gives the same ids.
- An annual conversation that does not evaluate every agreement open before it is stored and flagged (like a
  gap in attendance), never refused: the conversation happened. The agreements stay open.
- A support activity given for an agreement proposes its outcome (``proposed_outcome``); only a conversation
  evaluates it.
- A report that evaluates an agreement that does not exist or is no longer open, evaluates one twice, or gives an
  agreement a due date before the conversation is refused whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from domain.conversations import ConversationReport
from domain.vocabulary import ConversationKind, Outcome

_NAMESPACE = uuid.UUID("2d3f6c8a-5b1e-5c4d-9e7f-0a1b2c3d4e5f")


def agreement_id(conversation_id: str, position: int) -> str:
    """The stable id of the agreement at ``position`` in the report of ``conversation_id`` (12 hex digits)."""
    return uuid.uuid5(_NAMESPACE, f"{conversation_id}:{position}").hex[:12]


@dataclass(frozen=True)
class OpenAgreement:
    """An agreement not yet evaluated, as the rules read it."""

    id: str
    text: str
    made_on: date


def report_problems(report: ConversationReport, held_on: date, known: Mapping[str, str | None]
                    ) -> list[tuple[str, str]]:
    """What a report may not say, as (field, Dutch reason). ``known`` maps every agreement id of the practice to
    its state (``None``: still open, else its outcome)."""
    problems: list[tuple[str, str]] = []
    for index, agreement in enumerate(report.agreements):
        if agreement.due is not None and agreement.due < held_on:
            problems.append((f"agreements[{index}].due", f"{agreement.due.isoformat()} ligt voor het gesprek van "
                                                         f"{held_on.isoformat()}"))
    seen: set[str] = set()
    for index, evaluation in enumerate(report.evaluations):
        where = f"evaluations[{index}].agreement"
        if evaluation.agreement not in known:
            problems.append((where, f"afspraak {evaluation.agreement} is niet bekend bij deze praktijk"))
        elif known[evaluation.agreement] is not None:
            problems.append((where, f"afspraak {evaluation.agreement} is al geëvalueerd "
                                    f"({known[evaluation.agreement]})"))
        elif evaluation.agreement in seen:
            problems.append((where, f"afspraak {evaluation.agreement} wordt twee keer geëvalueerd"))
        seen.add(evaluation.agreement)
    return problems


def unevaluated(kind: ConversationKind, held_on: date, open_agreements: Sequence[OpenAgreement],
                report: ConversationReport | None) -> tuple[str, ...]:
    """The agreements open before an annual conversation that it leaves unevaluated (Dutch, empty when none)."""
    if kind is not ConversationKind.ANNUAL:
        return ()
    evaluated = {e.agreement for e in report.evaluations} if report is not None else set()
    return tuple(f"afspraak {a.id} van {a.made_on.isoformat()} niet geëvalueerd: {a.text}"
                 for a in open_agreements if a.made_on < held_on and a.id not in evaluated)


@dataclass(frozen=True)
class LinkedSupport:
    """A support activity that follows an agreement up, as the rules read it: where it stands and when it was given."""

    status: str  # requested | planned | done | cancelled (``domain.support.SupportState``)
    done_on: date | None = None


def proposed_outcome(supports: Sequence[LinkedSupport]) -> Outcome | None:
    """The outcome proposed for an open agreement's evaluation from the support that follows it up (seed 2: the
    coach is deployed "om specifieke zaken die uit het kwaliteitsjaargesprek zijn gekomen" further): ``met`` once
    every such activity not cancelled was given, none while one is still requested or planned. A proposal only:
    the next conversation evaluates, and the officers may judge otherwise."""
    live = [s for s in supports if s.status != "cancelled"]
    if live and all(s.status == "done" for s in live):
        return Outcome.MET
    return None
