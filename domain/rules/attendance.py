"""Who is asked to come, and who must have come: the attendance rules of conversations and meetings.

Seed, section 1: at the annual conversation at least one practice-holding GP, a practice nurse for chronic care
and one for elderly care (who may also be a nurse practitioner or a nurse) attend, and two officers of the care
group; the extra conversation is held likewise. The start conversation is with the GP and the practice manager,
who arrange the programme, and the POH chronic care who runs it. Seed, section 4: the POH meeting is for every
practice nurse, the practice-manager meeting for the practice managers.

Invariants:
- A conversation that misses its attendance is stored and flagged (``attendance_gaps``), never refused: the
  conversation happened.
- The practice's people invited to an annual or extra conversation are exactly the roles its attendance check
  asks for (``invited_roles`` is derived from ``REQUIRED``), so invitation and check cannot drift apart.
- Two officers hold a practice's conversations: the two an officer assigned, else the two who hold the fewest
  practices (``spread_officers``); once chosen they stay, also when another officer joins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from domain.conversations import Attendee
from domain.obligations import ObligationKind
from domain.registry import Role
from domain.vocabulary import ConversationKind

ELDERLY_CARE_ROLES = frozenset({Role.POH_ELDERLY, Role.NURSE_PRACTITIONER, Role.NURSE})


@dataclass(frozen=True)
class Required:
    """At least ``at_least`` attendees in one of ``roles``; ``missing_nl`` says what is missing (with the number
    present and required where it names them)."""

    roles: frozenset[Role]
    missing_nl: str
    at_least: int = 1


_CYCLE_CONVERSATION = (
    Required(frozenset({Role.GP_PRINCIPAL}), "geen praktijkhoudende huisarts aanwezig"),
    Required(frozenset({Role.POH_CHRONIC}), "geen praktijkondersteuner chronische zorg aanwezig"),
    Required(ELDERLY_CARE_ROLES,
             "geen praktijkondersteuner ouderenzorg (of verpleegkundig specialist/verpleegkundige) aanwezig"),
    Required(frozenset({Role.OFFICER}), "{present} functionaris(sen) van de zorggroep aanwezig, vereist: {required}",
             at_least=2),
)
REQUIRED: dict[ConversationKind, tuple[Required, ...]] = {
    ConversationKind.ANNUAL: _CYCLE_CONVERSATION,
    ConversationKind.EXTRA: _CYCLE_CONVERSATION,
}

# Invited to a start conversation (its attendance is not checked: the seed asks nothing of it).
_START_INVITED = frozenset({Role.GP_PRINCIPAL, Role.PRACTICE_MANAGER, Role.POH_CHRONIC})

MEETING_ROLES: dict[ObligationKind, frozenset[Role]] = {
    ObligationKind.POH_MEETING: frozenset({Role.POH_CHRONIC}) | ELDERLY_CARE_ROLES,
    ObligationKind.PRACTICE_MANAGER_MEETING: frozenset({Role.PRACTICE_MANAGER}),
}


# a GP group's mirror meeting (seed section 1): every practice's GPs, its POH and its practice manager
MIRROR_MEETING_ROLES = frozenset({Role.GP_PRINCIPAL, Role.GP, Role.POH_CHRONIC, Role.PRACTICE_MANAGER}) \
    | ELDERLY_CARE_ROLES


def invited_roles(kind: ConversationKind) -> frozenset[Role]:
    """The practice's people invited to a conversation (the care group's officers are invited besides)."""
    if kind not in REQUIRED:
        return _START_INVITED
    return frozenset(role for required in REQUIRED[kind] for role in required.roles) - {Role.OFFICER}


def attendance_gaps(kind: ConversationKind, attendees: Iterable[Attendee]) -> tuple[str, ...]:
    """What the seed's attendance rule misses in this conversation (Dutch, empty when complete)."""
    roles = Counter(a.role for a in attendees)
    gaps = []
    for required in REQUIRED.get(kind, ()):
        present = sum(roles[r] for r in required.roles)
        if present < required.at_least:
            gaps.append(required.missing_nl.format(present=present, required=required.at_least))
    return tuple(gaps)


OFFICERS_PER_PRACTICE = 2  # seed section 1: two officers of the care group attend each annual conversation


def spread_officers(officers: Sequence[str], held: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The officers a practice without its own gets: the ``OFFICERS_PER_PRACTICE`` who hold the fewest practices
    in ``held`` (practice -> its officers), ties by name."""
    return least_loaded(officers, officer_load(held), OFFICERS_PER_PRACTICE)


def officer_load(held: Mapping[str, Sequence[str]]) -> Counter[str]:
    """How many practices each officer holds."""
    return Counter(name for names in held.values() for name in names)


def least_loaded(officers: Sequence[str], load: Mapping[str, int], count: int) -> tuple[str, ...]:
    """The ``count`` officers of ``officers`` who hold the fewest practices, ties by name."""
    return tuple(sorted(officers, key=lambda name: (load.get(name, 0), name))[:count])
