"""The policy's versions: each with the day from which it applies and why it changed.

Invariants:
- A version is appended, never changed; a decision names the version in force on its own day
  (``Services.in_force``).
"""

from __future__ import annotations

from datetime import date, datetime

from domain.policy import Policy, PolicyVersion
from flows.services.context import Services
from storage import repository as repo


def policy_versions(services: Services) -> list[PolicyVersion]:
    """Every version of the policy, oldest first."""
    with services.session() as s:
        return repo.policy_versions(s)


def add_policy_version(services: Services, policy: Policy, applies_from: date, reason: str, now: datetime,
                       actor: str) -> int:
    """Record a new version of the policy, applying from ``applies_from``; returns its number."""
    with services.transaction() as s:
        return repo.add_policy_version(s, policy, applies_from, reason, now, actor)
