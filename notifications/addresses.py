"""Where a queued message goes: the one place an address is resolved.

A message is composed with the address its recipient had in the registry when it was queued
(``notifications.compose``); that address is a record of whom it was meant for, not a promise. At sending,
``resolve_address`` asks the registry again, so a correction reaches the messages still waiting: a message held
for want of an address, or after a mail server refused its address for good, goes out as soon as the registry
gives the recipient another one (issue 11). The dispatcher (``flows.services.outbox``) calls it for every
message it is about to send and stores the address it used on the row.

Invariants:
- A message about a practice goes only to an address registered for that practice (its own or one of its
  people's), whatever was queued: a wrong address never receives a practice's figures.
- The registry's current address wins; the queued one is used only when the registry no longer knows the
  recipient (a person renamed or gone).
- An address is checked (``domain.inputs.check_email``: one recipient, nothing a header reads as more) before
  use; otherwise the message gets no address and the reason an officer reads.
"""

from __future__ import annotations

from domain.inputs import check_email
from domain.messages import MessageLike
from domain.registry import Registry
from domain.vocabulary import role_nl

CARE_GROUP_ROLES = frozenset({"board", "officer", "care_group"})


def recipient_nl(message: MessageLike) -> str:
    """``Huisartsenpraktijk De Linde (praktijk 01234567)``, ``C. Bakker (praktijkmanager, praktijk 01234567)``."""
    if message.recipient_role == "practice":
        return f"{message.recipient_name} (praktijk {message.agb_code})"
    where = (f", praktijk {message.agb_code}"
             if message.agb_code and message.recipient_role not in CARE_GROUP_ROLES else "")
    return f"{message.recipient_name} ({role_nl(message.recipient_role)}{where})"


def resolve_address(message: MessageLike, registry: Registry) -> tuple[str | None, str | None]:
    """The address to send ``message`` to now, from the registry when it knows the recipient, else the
    queued one; and why not, when there is none or it is not the practice's own."""
    practice = registry.practices_by_code.get(message.agb_code) if message.agb_code else None
    current: str | None = None
    if message.recipient_role == "care_group":
        current = registry.care_group.email
    elif message.recipient_role in ("board", "officer"):
        people = registry.board if message.recipient_role == "board" else registry.officers
        current = next((p.email for p in people if p.name == message.recipient_name and p.email), None)
    elif practice is not None:
        if message.recipient_role == "practice":
            current = practice.email
        else:
            current = next((p.email for p in practice.people if p.role.value == message.recipient_role
                            and p.name == message.recipient_name and p.email), None)
    address = current or message.recipient_email
    if not address:
        return None, f"geen e-mailadres bekend voor {recipient_nl(message)}"
    try:  # an address stored before addresses were checked: one recipient, nothing a header reads as more
        check_email(address)
    except ValueError as exc:
        return None, f"e-mailadres voor {recipient_nl(message)} onbruikbaar: {exc}"
    if message.recipient_role not in CARE_GROUP_ROLES and message.agb_code:
        own = {a.lower() for a in [practice.email if practice else None,
                                   *(p.email for p in (practice.people if practice else ()))] if a}
        if address.lower() not in own:
            return None, (f"e-mailadres {address} is niet geregistreerd bij praktijk {message.agb_code}; "
                          f"bericht voor {recipient_nl(message)} niet verstuurd")
    return address, None
