"""One hierarchy of the refusals a person can act on, so that every entry point (the CLI, the runners, later the
web) maps them once: each carries a Dutch message a member of staff can read, and its kind says what went wrong.

- ``InputError``: what was given is wrong (a file, a form field, an option, a setting).
- ``NotFoundError``: it names something the care group does not know (a practice, a person, an indicator).
- ``ConflictError``: it contradicts what is stored (recorded before with other content, a state that cannot
  take it, someone else changed it at the same time).
- ``InFutureError``: a fact dated after the moment it is recorded.

Errors of operation (a mail server down, a database unreachable) are not refusals and stay outside it.
"""

from __future__ import annotations


class QualityCycleError(Exception):
    """Base of every refusal the product makes on purpose."""


class InputError(QualityCycleError, ValueError):
    """Outside input refused: wrong, unreadable, or holding what the product never stores."""


class NotFoundError(QualityCycleError, LookupError):
    """It names something the care group does not know."""


class ConflictError(QualityCycleError):
    """It contradicts what is stored."""


class InFutureError(QualityCycleError, ValueError):
    """A fact is recorded once it has happened, not before."""


class InvalidAgbCodeError(InputError):
    """An AGB code is not eight digits."""


class PatientDataError(InputError):
    """Input holds something that could identify a patient (a BSN, a name, a birth date)."""
