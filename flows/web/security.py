"""Sessions, CSRF and the decision of every route: who is signed in, whether they may use this route, and whether a
form came from a page of ours.

Invariants:
- Every route is registered through ``route`` with its ``Access`` (``ROUTE_ACCESS``); a route without one cannot be
  added, and ``tests/web/test_access.py`` walks every route for every role.
- The session cookie is HttpOnly, SameSite=Lax, Secure when the request came over https (directly or, behind a
  TLS proxy, ``X-Forwarded-Proto: https``); its token is stored only as a hash (``flows.services.accounts``).
- Every state-changing request (any method but GET and HEAD) carries the session's CSRF token: the form field
  ``csrf_token`` or the header ``X-CSRF-Token``; the login form has its own double-submit token (it has no
  session yet).
- A practice account asking for another practice gets 404, as if it did not exist; nobody signed in gets 401 from
  the API and is sent to the login page from a page.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from domain.accounts import Access, Account, allowed
from flows.services import accounts

SESSION_COOKIE = "qc_session"
LOGIN_CSRF_COOKIE = "qc_login_csrf"
ROUTE_ACCESS: dict[tuple[str, str], Access] = {}
SAFE_METHODS = frozenset({"GET", "HEAD"})


class AccessDeniedError(Exception):
    """Raised inside a request: answered 401, 403, 404 or a redirect to the login page."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class Caller:
    """Who made the request (None: nobody signed in) and the session's CSRF token."""

    account: Account | None
    csrf_token: str | None

    @property
    def actor(self) -> str:
        """The actor every change made through the web is recorded with."""
        return f"web:{self.account.login}" if self.account else "web:anonymous"


def route(router: APIRouter, method: str, path: str, access: Access, **kw: Any) -> Callable[[Any], Any]:
    """Register a route with its access decision (``ROUTE_ACCESS``)."""
    full = (router.prefix or "") + path
    if (method, full) in ROUTE_ACCESS and ROUTE_ACCESS[(method, full)] is not access:
        raise RuntimeError(f"{method} {full}: two access decisions")
    ROUTE_ACCESS[(method, full)] = access
    return router.api_route(path, methods=[method], **kw)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=is_https(request), path="/")


def login_csrf(request: Request) -> str:
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def caller(request: Request) -> Caller:
    app = request.app.state
    signed = accounts.session_of(app.services, request.cookies.get(SESSION_COOKIE), app.clock(),
                                 app.settings.web_idle_minutes)
    return Caller(signed.account, signed.csrf_token) if signed else Caller(None, None)


async def check(request: Request) -> Caller:
    """The dependency of every route: who calls, whether they may, and (for a change) the CSRF token."""
    route_path = getattr(request.scope.get("route"), "path", request.url.path)
    access = ROUTE_ACCESS.get((request.method if request.method != "HEAD" else "GET", route_path))
    if access is None:
        raise AccessDeniedError(404, "niet gevonden")
    who = caller(request)
    api = request.url.path.startswith("/api")
    params = request.path_params
    if not allowed(access, who.account, agb_code=params.get("agb"), gp_group=params.get("code")):
        if who.account is None:
            raise AccessDeniedError(401, "niet aangemeld")
        account = who.account
        others = (params.get("agb") not in (None, account.agb_code) or
                  params.get("code") not in (None, account.gp_group)) if not account.staff else False
        if access in (Access.PRACTICE, Access.GP_GROUP) or others:
            raise AccessDeniedError(404, "niet gevonden")  # another practice is as if it did not exist
        raise AccessDeniedError(403, "geen toegang")
    if request.method not in SAFE_METHODS and access is not Access.PUBLIC:
        given = request.headers.get("x-csrf-token")
        if given is None and not api:
            form = await request.form()
            value = form.get("csrf_token")
            given = value if isinstance(value, str) else None
        if not same_token(given, who.csrf_token):
            raise AccessDeniedError(403, "formulier verlopen of niet van deze site (CSRF); laad de pagina opnieuw")
    return who


def denied_response(request: Request, exc: AccessDeniedError) -> Response:
    if request.url.path.startswith("/api"):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)
    if exc.status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html.j2", {"status": exc.status, "detail": exc.detail,
                                                                 "who": None}, status_code=exc.status)


def now(request: Request) -> datetime:
    moment: datetime = request.app.state.clock()
    return moment
