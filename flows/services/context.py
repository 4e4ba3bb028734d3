"""What every service function works with: the database, the policy in force and the working calendar.

``Services`` is opened once by ``flows.services.bootstrap``; a function that judges or plans for a moment first
asks ``services.in_force(moment)`` for the policy version of that day.

Invariants:
- A service function opens its own short transactions (``services.transaction()``): a state change, its event and
  the outbox messages it causes commit together or not at all.
- Nothing here reads the clock: every service function takes the moment as an argument.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session

from domain.calendar import WorkingCalendar
from domain.clock import as_amsterdam
from domain.errors import NotFoundError
from domain.policy import Policy, PolicyVersion, in_force
from storage import repository as repo
from storage.database import create_db_engine, migrate


@dataclass(frozen=True)
class Services:
    """What the service functions work with: a database, the policy and the working calendar.

    ``policy`` is the settings' policy until ``in_force(moment)`` gives these services with the policy version
    that applies on that day (``qualitycycle policy set``); every service function that judges or plans for a
    moment starts with it, so a decision is taken under the version of its own day and names it."""

    db: sa.Engine
    policy: Policy = field(default_factory=Policy)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    base_policy: Policy | None = None  # the settings' policy, once ``policy`` is a version's
    policy_version: PolicyVersion | None = None
    # a backfill's services: every message about what lies before this moment is stored historic when queued
    historic_before: datetime | None = None
    # the policy versions as read once by ``pinned`` (a batch recorded in one transaction), else read per call
    versions: tuple[PolicyVersion, ...] | None = None
    # a what-if's walk on its copy (``backfill(trajectories_only=True)``): its comparison reads the trajectories
    # alone, so a sweep queues no notices of due obligations (no step reads them; ``flows.schedule``)
    trajectories_only: bool = False

    def in_force(self, moment: datetime | date) -> Services:
        """These services with the policy version that applies on the day of ``moment``."""
        on = moment.date() if isinstance(moment, datetime) and moment.tzinfo is None else (
            as_amsterdam(moment).date() if isinstance(moment, datetime) else moment)
        base = self.base_policy or self.policy
        versions = self.versions
        if versions is None:
            with self.session() as s:
                versions = tuple(repo.policy_versions(s))
        version = in_force(versions, base, on)
        if version.policy is self.policy and self.policy_version == version:
            return self
        return replace(self, policy=version.policy, base_policy=base, policy_version=version)

    def pinned(self, s: Session) -> Services:
        """These services with the policy versions read once, in ``s``: for work done in one transaction that
        asks ``in_force`` for many days (a batch of conversations), where nothing it does changes the policy."""
        return replace(self, versions=tuple(repo.policy_versions(s)))

    @property
    def policy_label(self) -> str:
        return (self.policy_version or PolicyVersion(0, None, self.policy)).label

    @classmethod
    def open(cls, url: str, policy: Policy | None = None, calendar: WorkingCalendar | None = None,
             upgrade: bool = True) -> Services:
        db = create_db_engine(url)
        if upgrade:
            migrate(db)
        return cls(db=db, policy=policy or Policy(), calendar=calendar or WorkingCalendar())

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.db, expire_on_commit=False) as session:
            if self.historic_before is not None:
                session.info[repo.HISTORIC_BEFORE] = self.historic_before
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed when the block ends normally, rolled back otherwise."""
        with self.session() as session:
            yield session
            session.commit()

ENGINE_ACTOR = "engine"


class UnknownPracticeError(NotFoundError):
    def __init__(self, agb_code: str) -> None:
        super().__init__(f"praktijk met AGB-code {agb_code} is niet bekend; laad eerst het register")
