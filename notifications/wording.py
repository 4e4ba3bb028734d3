"""The phrases only a rendered mail uses: how it names its recipient, greets them and names an indicator.

Every Dutch name and format the product shares (roles, programmes, states, kits, courses, meetings, dates,
numbers) lives in ``domain.vocabulary``; this module builds on it.

Invariant: pure functions of their input (no clock, no locale settings), so a message renders the
same on every machine.
"""

from __future__ import annotations

from typing import Any

from domain.vocabulary import role_nl


def indicator_nl(item: dict[str, Any]) -> str:
    """An indicator by its Dutch name when the payload has one, with its code: ``HbA1c gemeten (dm2/hba1c)``."""
    code = f"{item.get('programme')}/{item.get('indicator')}"
    name = item.get("name")
    return f"{name} ({code})" if name else code


def recipient_line(role: str, name: str, practice: str | None, care_group: str) -> str:
    """Who a message is for, by role: ``C. Bakker, praktijkhoudende huisarts van Huisartsenpraktijk De Linde``."""
    if role == "practice":
        return name
    if role == "board":
        return f"{name}, lid van het bestuur van {care_group}"
    if role == "officer":
        return f"{name}, functionaris van {care_group}"
    if role == "care_group":
        return f"{name} ({care_group})"
    where = f" van {practice}" if practice else ""
    return f"{name}, {role_nl(role)}{where}"


def greeting(role: str, name: str) -> str:
    if role == "practice":
        return f"Beste collega's van {name},"
    if role == "care_group":
        return "Beste collega's,"
    return f"Beste {name},"
