"""The workspace's forms read into the domain's own models, and their refusals mapped to the field they concern.

Invariants:
- A form is read whole before anything is called: a value that cannot be read, or that the model refuses, is a
  ``FormError`` naming its field (and the line, for a list typed one per line); nothing is stored.
- A service's refusal (a day to come, an unknown indicator, a conflicting conversation) is mapped to its field
  the same way; the services refuse whole, so nothing is stored either.
- Free text passes the same guard as every other door (``domain.inputs``: no BSN-like numbers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from domain.calendar import period_bounds
from domain.commands import RecordConversation
from domain.conversations import Agreement, Attendee, ConversationReport, Goal
from domain.errors import InFutureError, QualityCycleError
from domain.inputs import dutch_message
from domain.registry import Practice, Programme, Role
from domain.vocabulary import AgreementOwner, ConversationKind, SupportKind
from flows.services import conversations, reschedule
from flows.services import support as support_service
from flows.services.context import Services
from flows.services.conversations import ConversationRecorded, UnknownIndicatorError


class FormError(QualityCycleError):
    """A form refused: the message per field (``_form`` for the form as a whole)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FormError({field: "datum ongeldig: gebruik JJJJ-MM-DD"}) from None


def period(text: str) -> tuple[date, date]:
    """``2025K3``, ``2025-07`` or ``2025``: the first and last day."""
    try:
        return period_bounds(text)
    except ValueError as exc:
        raise FormError({"period": str(exc)}) from None


def _lines(text: str) -> list[tuple[int, str]]:
    return [(i, line.strip()) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _model(model: Any, data: Any, field: str, line: int | None = None) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = f"regel {line}: " if line is not None else ""
        raise FormError({field: where + dutch_message(first)}) from None


def conversation_defaults(practice: Practice, kind: str, today: date) -> dict[str, str]:
    """What the conversation form starts with: the practice's principal GP and chronic-care POH as attendees."""
    attendees = [f"{p.role.value}={p.name}" for p in practice.people if p.role in (Role.GP_PRINCIPAL,
                                                                                   Role.POH_CHRONIC)]
    return {"kind": kind if kind in {k.value for k in ConversationKind} else "extra",
            "held_on": today.isoformat(), "programme": "", "attendees": "\n".join(attendees), "summary": "",
            "agreements": "", "goals": ""}


def read_conversation(agb_code: str, typed: Mapping[str, str]) -> RecordConversation:
    """The form as the command the service takes, or ``FormError`` with every field that is wrong."""
    errors: dict[str, str] = {}

    def attempt(field: str, read: Any) -> Any:
        try:
            return read()
        except FormError as exc:
            errors.update({field: next(iter(exc.errors.values()))})
            return None

    kind = attempt("kind", lambda: _kind(typed.get("kind", "")))
    held_on = attempt("held_on", lambda: day(typed.get("held_on", ""), "held_on"))
    programme = attempt("programme", lambda: _programme(typed.get("programme", "")))
    attendees = attempt("attendees", lambda: _attendees(typed.get("attendees", "")))
    agreements = attempt("agreements", lambda: tuple(
        _model(Agreement, {"text": text, "owner": AgreementOwner.PRACTICE.value}, "agreements", i)
        for i, text in _lines(typed.get("agreements", ""))))
    goals = attempt("goals", lambda: _goals(typed.get("goals", "")))
    summary = typed.get("summary", "").strip()
    report = None
    if not errors:
        report = attempt("summary", lambda: _model(ConversationReport, {
            **({"summary": summary} if summary else {}), "agreements": [a.model_dump() for a in agreements],
            "goals": [g.model_dump() for g in goals]}, "summary"))
    if errors:
        raise FormError(errors)
    return RecordConversation(agb_code=agb_code, kind=kind, held_on=held_on, programme=programme,
                              attendees=attendees, report=report)


def _kind(text: str) -> ConversationKind:
    try:
        return ConversationKind(text)
    except ValueError:
        raise FormError({"kind": "kies start, annual of extra"}) from None


def _programme(text: str) -> Programme | None:
    if not text.strip():
        return None
    try:
        return Programme(text.strip())
    except ValueError:
        raise FormError({"programme": f"onbekend programma; kies een van {', '.join(p.value for p in Programme)}"}
                        ) from None


def _attendees(text: str) -> tuple[Attendee, ...]:
    found = []
    for i, line in _lines(text):
        role, sep, name = line.partition("=")
        if not sep:
            raise FormError({"attendees": f"regel {i}: gebruik ROL=NAAM, bijv. gp_principal=C. Bakker"})
        found.append(_model(Attendee, {"role": role.strip(), "name": name.strip()}, "attendees", i))
    return tuple(found)


_GOAL = re.compile(r"^(\w+)/(\S+)\s+(\d+(?:[.,]\d+)?)\s+(\S+)$")


def _goals(text: str) -> tuple[Goal, ...]:
    found = []
    for i, line in _lines(text):
        match = _GOAL.fullmatch(line)
        if not match:
            raise FormError({"goals": f"regel {i}: gebruik programma/indicator streefwaarde datum, bijv. "
                                      "dm2/hba1c_measured 85 2026-06-30"})
        found.append(_model(Goal, {"programme": match.group(1), "indicator": match.group(2),
                                   "target": float(match.group(3).replace(",", ".")), "by": match.group(4)},
                            "goals", i))
    return tuple(found)


def _service_error(exc: QualityCycleError, default: str) -> FormError:
    text = str(exc)
    if isinstance(exc, InFutureError):
        return FormError({default: text})
    if isinstance(exc, UnknownIndicatorError):
        return FormError({"goals": text})
    return FormError({"_form": text})


def record_conversation(services: Services, agb_code: str, typed: Mapping[str, str], now: datetime,
                        actor: str) -> ConversationRecorded:
    """Record the conversation the form describes (the same one twice: recorded once)."""
    cmd = read_conversation(agb_code, typed)
    try:
        return conversations.record_conversation(services, cmd, now, actor)
    except QualityCycleError as exc:
        raise _service_error(exc, "held_on") from None


def request_support(services: Services, agb_code: str, typed: Mapping[str, str], now: datetime, actor: str) -> None:
    try:
        kind = SupportKind(typed.get("kind", ""))
    except ValueError:
        raise FormError({"kind": "kies een soort ondersteuning"}) from None
    on = day(typed.get("on", ""), "on")
    try:
        support_service.request_support(services, agb_code, kind, on, now, actor, note=typed.get("note") or None)
    except QualityCycleError as exc:
        raise _service_error(exc, "on") from None


def complete_support(services: Services, agb_code: str, key: str, typed: Mapping[str, str], now: datetime,
                     actor: str) -> None:
    """Record support of this practice as given on a day (with the half-days it took, when known)."""
    views = {v.id: v for v in support_service.supports(services, agb_code)}
    if key not in views:
        raise FormError({"_form": "deze ondersteuning hoort niet bij deze praktijk"})
    on = day(typed.get("on", ""), "on")
    half_days = None
    if typed.get("half_days", "").strip():
        try:
            half_days = float(typed["half_days"].replace(",", "."))
        except ValueError:
            raise FormError({"half_days": "verwacht een aantal dagdelen, bijv. 2"}) from None
    try:
        if views[key].status.value == "requested":  # given without a day planned first: planned for that day
            support_service.plan_support(services, key, on, now, actor)
        support_service.complete_support(services, key, on, now, actor, half_days=half_days)
    except QualityCycleError as exc:
        raise _service_error(exc, "on") from None


def move_conversation(services: Services, agb_code: str, typed: Mapping[str, str], now: datetime, actor: str) -> None:
    kind = _kind(typed.get("kind", ""))
    to = day(typed.get("to", ""), "to")
    reason = typed.get("reason", "").strip()
    if not reason:
        raise FormError({"reason": "geef de reden"})
    try:
        reschedule.reschedule_conversation(services, agb_code, kind, to, reason, now, actor)
    except QualityCycleError as exc:
        raise _service_error(exc, "to") from None
