"""Domain errors. Each ends in ``Error`` and carries a message a member of staff can read (Dutch)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class InvalidAgbCodeError(DomainError, ValueError):
    """An AGB code is not eight digits."""


class PatientDataError(DomainError):
    """Input holds something that could identify a patient (a BSN, a name, a birth date)."""
