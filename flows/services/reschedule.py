"""Moving a planned conversation to another day: an officer's decision, kept as a fact the planning rules read.

A move is stored (``conversation_move``: the day moved to, the reason, the day of the move and when it was
recorded, by whom) and the conversation's duty is planned again from it in the same transaction, through the
planning's own ``read_duties``/``apply_duties``: its day changes, the move is logged in the duty's change history
with the reason and the actor, what was queued for the old day is withdrawn, and the invitation and reminder are
owed again for the new day. When the invitation for the old day had gone out, the invitation for the new day is
queued at once in that transaction (the attendees' calendar entry is updated: same UID, higher SEQUENCE); else it
goes on its own day, as planned. The reminder goes on the new day's reminder date.

Invariants:
- A move is refused whole, with a Dutch message naming the field, and nothing is stored: an unknown practice, no
  open conversation of that kind, a day before the day of the move or not a working day, a reason that is empty or
  holds patient data.
- The due date stays the rule's: a move past it is allowed, and the overdue notice still follows the due date
  (``domain.obligations``).
- Moving to the day it is already set for stores nothing.
- Only the moved conversation's duty is changed here; the practice is marked for the next sweep to plan the rest.
- Nothing here reads the clock: the moment comes in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from domain.clock import as_amsterdam
from domain.errors import ConflictError, InputError, NotFoundError
from domain.inputs import check_date, check_text, checked
from domain.obligations import ObligationKind, check_move
from domain.vocabulary import KIND_NAMES_NL, ConversationKind
from flows.services.context import Services, UnknownPracticeError
from flows.services.due_notices import queue_notices
from flows.services.duties import DutyReport
from flows.services.planning import apply_duties, read_duties
from storage import obligations as store
from storage import repository as repo

OBLIGATION_OF = {
    ConversationKind.START: ObligationKind.START_CONVERSATION,
    ConversationKind.ANNUAL: ObligationKind.ANNUAL_CONVERSATION,
    ConversationKind.EXTRA: ObligationKind.EXTRA_CONVERSATION,
}


class NoOpenConversationError(NotFoundError):
    """The practice has no open conversation of that kind (or several, and the move does not say which)."""


class MoveRaceError(ConflictError):
    """The conversation's duty changed under the move (a sweep at the same moment): nothing is stored."""


@dataclass(frozen=True)
class ConversationMoved:
    agb_code: str
    kind: ConversationKind
    key: str  # the duty's key (its calendar entry is ``conversation:<key>``)
    from_day: date | None  # the day it was set for
    to: date
    due_on: date  # the rule's due date: the overdue notice follows it
    already: bool = False  # it was set for that day already: nothing stored
    queued: int = 0  # messages queued at once for the new day

    @property
    def past_due(self) -> bool:
        return self.to > self.due_on


def reschedule_conversation(services: Services, agb_code: str, kind: ConversationKind, to: date, reason: str,
                            now: datetime, actor: str, *, subject: str | None = None) -> ConversationMoved:
    """Move a practice's open conversation of ``kind`` to ``to`` (a start conversation of a programme: ``subject``
    names it when several are open), for ``reason``, decided at ``now``."""
    now = as_amsterdam(now)
    on = now.date()
    checked(check_date, to, "--to")
    reason = checked(check_text, reason, "--reason")
    name = KIND_NAMES_NL[kind]
    services = services.in_force(now)
    with services.transaction() as s:
        if not repo.is_registered(s, agb_code):
            raise UnknownPracticeError(agb_code)
        read = read_duties(s, services, [agb_code], on)
        if agb_code in read.failed:
            raise InputError(read.failed[agb_code])
        wanted = OBLIGATION_OF[kind]
        candidates = [o for o in read.desired.values() if o.kind is wanted and subject in (None, o.subject)]
        if not candidates:
            raise NoOpenConversationError(f"praktijk {agb_code} heeft geen open {name}"
                                          + (f" voor {subject}" if subject else "")
                                          + " om te verplaatsen; er is niets vastgelegd")
        if len(candidates) > 1:
            open_for = ", ".join(sorted(o.subject for o in candidates))
            raise NoOpenConversationError(f"praktijk {agb_code} heeft meer dan één open {name} ({open_for}); "
                                          "geef met --programme aan welk; er is niets vastgelegd")
        (obligation,) = candidates
        check_move(obligation, to, on, services.calendar)
        stored = next((r for r in read.rows if r.key == obligation.key), None)
        from_day = stored.planned_on if stored is not None else obligation.planned_on
        if from_day == to:
            return ConversationMoved(agb_code, kind, obligation.key, from_day, to, obligation.due_on, already=True)
        store.record_move(s, agb_code, obligation.key, to, on, reason, now, actor)
        # plan this conversation's duty again from the move (the practice's other duties: the next sweep)
        again = read_duties(s, services, [agb_code], on)
        only = replace(again, rows=[r for r in again.rows if r.key == obligation.key],
                       desired={k: o for k, o in again.desired.items() if k == obligation.key})
        report = DutyReport("reschedule", now)
        if apply_duties(s, services, only, report, now, actor, reason):
            raise MoveRaceError(f"het {name} van {agb_code} werd tegelijk door een andere taak gewijzigd; er is niets "
                                "vastgelegd, probeer het opnieuw")
        # an invitation that went out (or was queued) for the old day is sent again at once, for the new day; else
        # the invitation and reminder follow on their own days (what is due today goes now)
        announced = stored is not None and "invitation" in stored.notices_done
        (row,) = [r for r in store.open_obligations(s, kinds=[wanted], agb_codes=[agb_code]) if r.key == obligation.key]
        if announced or (row.next_notice_on is not None and row.next_notice_on <= on):
            queue_notices(s, services, [row], report, now, early=frozenset({"invitation"} if announced else ()))
    return ConversationMoved(agb_code, kind, obligation.key, from_day, to, obligation.due_on, queued=report.messages)
