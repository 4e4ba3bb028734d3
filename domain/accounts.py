"""Who may do what in the care group's workspace (issue 15): accounts with a role, and the one decision every
route of the web application and its API takes before it answers.

Roles: an ``admin`` manages accounts and settings; an ``officer`` sees and edits every practice; the ``board``
reads everything and the board's pages; a ``practice`` account sees only its own practice (and, when it is given a
GP group, that group's mirror pack).

Invariants:
- Every route names an ``Access`` (``ROUTE_ACCESS`` in ``flows.web``); ``allowed`` is the only place that turns an
  access and an account into yes or no, so a test can walk every route for every role.
- A practice account is bound to one practice (``agb_code``); asking for another practice is answered as if it did
  not exist (404 in the web layer), so the existence of other practices does not leak either.
- Pure: no storage, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InputError


class AccountRole(StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"
    BOARD = "board"
    PRACTICE = "practice"


ACCOUNT_ROLE_NAMES_NL = {AccountRole.ADMIN: "beheerder", AccountRole.OFFICER: "functionaris",
                         AccountRole.BOARD: "bestuur", AccountRole.PRACTICE: "praktijk"}


class Access(StrEnum):
    """What a route asks of the one who calls it."""

    PUBLIC = "public"  # the login page, the shipped static files
    SIGNED_IN = "signed_in"  # any account (its own home, logging out)
    READ_ALL = "read_all"  # the care group's overview, every practice: officers, the board, admins
    EDIT = "edit"  # record conversations, support, moves: officers (and admins)
    BOARD = "board"  # the board's page and report: the board, officers, admins
    OPERATIONS = "operations"  # the runs page: officers and admins
    ADMIN = "admin"  # accounts
    PRACTICE = "practice"  # one practice's pages and downloads: staff, or that practice's own account
    GP_GROUP = "gp_group"  # one GP group's page and mirror pack: staff, or an account of that group


@dataclass(frozen=True)
class Account:
    login: str
    role: AccountRole
    agb_code: str | None = None  # a practice account's practice
    gp_group: str | None = None  # a practice account's GP group (its mirror pack), when it has one
    disabled: bool = False

    @property
    def staff(self) -> bool:
        return self.role in (AccountRole.ADMIN, AccountRole.OFFICER, AccountRole.BOARD)


_GRANTS: dict[Access, frozenset[AccountRole]] = {
    Access.READ_ALL: frozenset({AccountRole.ADMIN, AccountRole.OFFICER, AccountRole.BOARD}),
    Access.EDIT: frozenset({AccountRole.ADMIN, AccountRole.OFFICER}),
    Access.BOARD: frozenset({AccountRole.ADMIN, AccountRole.OFFICER, AccountRole.BOARD}),
    Access.OPERATIONS: frozenset({AccountRole.ADMIN, AccountRole.OFFICER}),
    Access.ADMIN: frozenset({AccountRole.ADMIN}),
}


def allowed(access: Access, account: Account | None, *, agb_code: str | None = None,
            gp_group: str | None = None) -> bool:
    """Whether ``account`` (None: nobody signed in) may use a route of ``access`` (about ``agb_code`` or
    ``gp_group`` when the route is about one)."""
    if access is Access.PUBLIC:
        return True
    if account is None or account.disabled:
        return False
    if access is Access.SIGNED_IN:
        return True
    if access is Access.PRACTICE:
        return account.staff or (account.role is AccountRole.PRACTICE and agb_code is not None
                                 and account.agb_code == agb_code)
    if access is Access.GP_GROUP:
        return account.staff or (account.role is AccountRole.PRACTICE and gp_group is not None
                                 and account.gp_group == gp_group)
    return account.role in _GRANTS[access]


class AccountError(InputError):
    """An account that cannot be made as asked: nothing is stored."""


_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,62}$")
PASSWORD_MIN = 12


def check_login(login: str) -> str:
    text = login.strip().lower()
    if not _LOGIN.fullmatch(text):
        raise AccountError(f"gebruikersnaam {login!r} is ongeldig: 2-63 tekens, kleine letters, cijfers en . _ @ -")
    return text


def check_password(password: str) -> str:
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"het wachtwoord is te kort: minstens {PASSWORD_MIN} tekens")
    if len(password) > 1024:
        raise AccountError("het wachtwoord is te lang: hoogstens 1024 tekens")
    return password


def check_scope(role: AccountRole, agb_code: str | None, gp_group: str | None) -> None:
    """A practice account belongs to one practice; other roles to none."""
    if role is AccountRole.PRACTICE and agb_code is None:
        raise AccountError("--practice: een praktijkaccount hoort bij één praktijk (AGB-code)")
    if role is not AccountRole.PRACTICE and (agb_code is not None or gp_group is not None):
        raise AccountError("--practice en --gp-group horen alleen bij een praktijkaccount")
