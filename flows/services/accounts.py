"""The workspace's accounts and sessions (issue 15): accounts made, listed, disabled and given a new password (the
``user`` commands), a login checked against its Argon2 hash, and the sessions a signed-in browser holds.

Invariants:
- Passwords are kept only as Argon2id hashes (``argon2-cffi``'s defaults, rehashed when those change); a login is
  refused with one message whether the account is unknown, disabled or the password wrong.
- Failed logins are counted per account; after ``LOCK_AFTER`` in a row the account refuses every password for
  ``LOCK_MINUTES`` after the last failure (the web also slows each failed answer). A good login resets the count.
- A session's token is 32 random bytes shown once (the cookie); only its SHA-256 is stored. It ends on logout, when
  its account is disabled or given a new password, or after ``idle_minutes`` without use.
- Nothing here reads the clock: ``now`` comes from the caller.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session

from domain.accounts import (
    Account,
    AccountError,
    AccountRole,
    check_login,
    check_password,
    check_scope,
)
from domain.clock import as_amsterdam
from domain.errors import NotFoundError
from domain.registry import validate_agb_code
from flows.services.context import Services, UnknownPracticeError
from storage import accounts as store
from storage import repository as repo
from storage.tables import UserAccountRow

LOCK_AFTER = 10
LOCK_MINUTES = 15
_HASHER = PasswordHasher()


class UnknownAccountError(NotFoundError):
    """An account login that is not known."""


class LoginRefusedError(AccountError):
    """A login refused: unknown account, disabled, wrong password or locked (one message for all but the lock)."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(services: Services, login: str, role: AccountRole, password: str, now: datetime, actor: str, *,
             agb_code: str | None = None, gp_group: str | None = None) -> Account:
    """Make an account; a practice account names its practice (its GP group from the register unless given)."""
    login = check_login(login)
    check_password(password)
    agb_code = validate_agb_code(agb_code) if agb_code is not None else None
    check_scope(role, agb_code, gp_group)
    now = as_amsterdam(now)
    with services.transaction() as s:
        if store.get(s, login) is not None:
            raise AccountError(f"gebruiker {login} bestaat al; er is niets vastgelegd")
        if agb_code is not None:
            practice = repo.get_practice(s, agb_code)
            if practice is None:
                raise UnknownPracticeError(agb_code)
            gp_group = gp_group or practice.gp_group
        store.add(s, UserAccountRow(login=login, role=role.value, agb_code=agb_code, gp_group=gp_group,
                                    password_hash=_HASHER.hash(password), created_at=now, updated_at=now,
                                    actor=actor))
    return Account(login, role, agb_code, gp_group)


def users(services: Services) -> list[tuple[Account, datetime, int]]:
    """Every account with when it was made and its failed logins since the last good one."""
    with services.session() as s:
        return [(store.account(r), r.created_at, r.failed_logins) for r in store.all_accounts(s)]


def _row(s: Session, login: str) -> UserAccountRow:
    row = store.get(s, check_login(login))
    if row is None:
        raise UnknownAccountError(f"gebruiker {login} is niet bekend (zie qualitycycle user list)")
    return row


def disable_user(services: Services, login: str, now: datetime, actor: str) -> Account:
    """Disable an account; its sessions end."""
    now = as_amsterdam(now)
    with services.transaction() as s:
        row = _row(s, login)
        row.disabled, row.updated_at, row.actor = True, now, actor
        s.add(row)
        store.end_sessions(s, row.login, now)
        return store.account(row)


def set_password(services: Services, login: str, password: str, now: datetime, actor: str) -> Account:
    """Give an account a new password (and enable it, its failed logins forgotten); its sessions end."""
    check_password(password)
    now = as_amsterdam(now)
    with services.transaction() as s:
        row = _row(s, login)
        row.password_hash, row.disabled, row.failed_logins = _HASHER.hash(password), False, 0
        row.updated_at, row.actor = now, actor
        s.add(row)
        store.end_sessions(s, row.login, now)
        return store.account(row)


def authenticate(services: Services, login: str, password: str, now: datetime) -> Account:
    """The account whose password this is, or ``LoginRefusedError``; failures are counted."""
    now = as_amsterdam(now)
    refused = LoginRefusedError("gebruikersnaam of wachtwoord onjuist")
    try:
        login = check_login(login)
    except AccountError:
        raise refused from None
    with services.transaction() as s:
        row = store.get(s, login)
        if row is None:
            _HASHER.hash(password)  # the same time for an unknown account as for a wrong password
            raise refused
        if row.failed_logins >= LOCK_AFTER and row.last_failed_at is not None and \
                now - as_amsterdam(row.last_failed_at) < timedelta(minutes=LOCK_MINUTES):
            raise LoginRefusedError(f"te veel mislukte pogingen; probeer het over {LOCK_MINUTES} minuten opnieuw")
        try:
            _HASHER.verify(row.password_hash, password)
            good = not row.disabled
        except (VerificationError, InvalidHashError):
            good = False
        if not good:
            row.failed_logins, row.last_failed_at = row.failed_logins + 1, now
            s.add(row)
        else:
            if _HASHER.check_needs_rehash(row.password_hash):
                row.password_hash = _HASHER.hash(password)
            row.failed_logins = 0
            s.add(row)
        account = store.account(row)
    if not good:
        raise refused
    return account


def failed_logins(services: Services, login: str) -> int:
    with services.session() as s:
        try:
            row = store.get(s, check_login(login))
        except AccountError:
            return 0
        return row.failed_logins if row is not None else 0


@dataclass(frozen=True)
class SignedIn:
    account: Account
    csrf_token: str


def open_session(services: Services, account: Account, now: datetime) -> tuple[str, str]:
    """A new session for ``account``: its token (for the cookie, shown once) and its CSRF token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with services.transaction() as s:
        store.open_session(s, _hash(token), account.login, csrf, as_amsterdam(now))
    return token, csrf


def session_of(services: Services, token: str | None, now: datetime, idle_minutes: int) -> SignedIn | None:
    """Who holds the session of ``token``, if it is open and was used within ``idle_minutes`` (it is used now)."""
    if not token or len(token) > 128:
        return None
    now = as_amsterdam(now)
    with services.transaction() as s:
        row = store.get_session(s, _hash(token))
        if row is None or row.ended_at is not None:
            return None
        if now - as_amsterdam(row.last_seen_at) > timedelta(minutes=idle_minutes):
            row.ended_at = now
            s.add(row)
            return None
        user = store.get(s, row.login)
        if user is None or user.disabled:
            return None
        if now - as_amsterdam(row.last_seen_at) > timedelta(seconds=30):  # fewer writes: once in half a minute
            row.last_seen_at = now
            s.add(row)
        return SignedIn(store.account(user), row.csrf_token)


def close_session(services: Services, token: str | None, now: datetime) -> None:
    if not token:
        return
    with services.transaction() as s:
        row = store.get_session(s, _hash(token))
        if row is not None and row.ended_at is None:
            row.ended_at = as_amsterdam(now)
            s.add(row)

