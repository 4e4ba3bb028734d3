"""Reading and writing the workspace's accounts and sessions.

The caller owns the transaction, as in ``storage.repository``.

Invariants:
- A session is found by the SHA-256 of its token; the token itself is never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from domain.accounts import Account, AccountRole
from storage.tables import UserAccountRow, WebSessionRow


def account(row: UserAccountRow) -> Account:
    return Account(row.login, AccountRole(row.role), row.agb_code, row.gp_group, row.disabled)


def get(session: Session, login: str) -> UserAccountRow | None:
    return session.get(UserAccountRow, login)


def all_accounts(session: Session) -> Sequence[UserAccountRow]:
    return session.exec(select(UserAccountRow).order_by(col(UserAccountRow.login))).all()


def add(session: Session, row: UserAccountRow) -> None:
    session.add(row)
    session.flush()


def open_session(session: Session, token_hash: str, login: str, csrf_token: str, now: datetime) -> None:
    session.add(WebSessionRow(token_hash=token_hash, login=login, csrf_token=csrf_token, created_at=now,
                              last_seen_at=now))
    session.flush()


def get_session(session: Session, token_hash: str) -> WebSessionRow | None:
    return session.get(WebSessionRow, token_hash)


def end_sessions(session: Session, login: str, now: datetime) -> None:
    for row in session.exec(select(WebSessionRow).where(col(WebSessionRow.login) == login,
                                                        col(WebSessionRow.ended_at).is_(None))):
        row.ended_at = now
        session.add(row)
    session.flush()

