"""Every route of the workspace, for every role: a table of route x role -> allowed or not. The table is checked
against the application's own routes, so a route added without a decision here fails this test."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from flows.web import security
from tests.web.conftest import EIK, LINDE, csrf_of

STAFF = {"admin", "officer", "board"}
EDITORS = {"admin", "officer"}
EVERYONE = {None, "admin", "officer", "board", "practice"}
SIGNED_IN = {"admin", "officer", "board", "practice"}
# who may use each route (for a route about a practice: De Linde is the practice account's own; asked for De Eik
# too, where only staff may); the practice account's GP group is HAGRO-WEST
ALLOWED: dict[tuple[str, str], set[str | None]] = {
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/"): SIGNED_IN,
    ("GET", "/overview"): STAFF,
    ("GET", "/practices/{agb}"): STAFF | {"practice"},
    ("GET", "/practices/{agb}/chart.svg"): STAFF | {"practice"},
    ("GET", "/practices/{agb}/pack.pdf"): STAFF | {"practice"},
    ("GET", "/practices/{agb}/indicators.xlsx"): STAFF | {"practice"},
    ("GET", "/practices/{agb}/conversation"): EDITORS,
    ("POST", "/practices/{agb}/conversation"): EDITORS,
    ("POST", "/practices/{agb}/support"): EDITORS,
    ("POST", "/practices/{agb}/move"): EDITORS,
    ("POST", "/practices/{agb}/support/{key}/complete"): EDITORS,
    ("GET", "/gp-groups/{code}"): STAFF | {"practice"},
    ("POST", "/gp-groups/{code}/mirror-meeting"): EDITORS,
    ("GET", "/board"): STAFF,
    ("GET", "/board/report.pdf"): STAFF,
    ("GET", "/care-group/indicators.xlsx"): STAFF,
    ("GET", "/runs"): EDITORS,
    ("GET", "/api/practices"): SIGNED_IN,
    ("GET", "/api/practices/{agb}"): STAFF | {"practice"},
    ("POST", "/api/practices/{agb}/conversations"): EDITORS,
    ("POST", "/api/practices/{agb}/support"): EDITORS,
    ("GET", "/api/openapi.json"): EVERYONE,
    ("GET", "/static/{path:path}"): EVERYONE,
}
DENIED = {401, 403, 404}


def app_routes(client: TestClient) -> set[tuple[str, str]]:
    """Every (method, path) the application answers, included routers' routes too."""
    found: set[tuple[str, str]] = set()
    pending = list(client.app.routes)  # type: ignore[attr-defined]
    while pending:
        r = pending.pop()
        if hasattr(r, "original_router"):  # FastAPI's wrapper of an included router
            pending.extend(r.original_router.routes)
        elif isinstance(r, Mount):
            found.add(("GET", r.path + "/{path:path}"))
        elif isinstance(r, APIRoute) or hasattr(r, "methods"):
            found |= {(m, r.path) for m in r.methods if m != "HEAD"}
    return found


def test_every_route_has_a_decision_here_and_in_the_application(app_of: Callable[..., TestClient]) -> None:
    routes = app_routes(app_of())
    assert routes == set(ALLOWED), "a route without a decision in the table (or a decision for no route)"
    assert routes == set(security.ROUTE_ACCESS)


def concrete(path: str, agb: str, group: str) -> str:
    return (path.replace("{agb}", agb).replace("{code}", group).replace("{path:path}", "style.css")
            .replace("{key}", "onbekend"))


CASES = [(method, path, role, target) for (method, path) in ALLOWED for role in sorted(EVERYONE, key=str)
         for target in (("own", "other") if "{agb}" in path or "{code}" in path else ("own",))]


@pytest.mark.parametrize("method, path, role, target", CASES)
def test_route_answers_each_role_as_the_table_says(app_of: Callable[..., TestClient], method: str, path: str,
                                                   role: str | None, target: str) -> None:
    client = app_of(role)
    agb, group = (LINDE, "HAGRO-WEST") if target == "own" else (EIK, "HAGRO-OOST")
    if target == "other" and "{agb}" in path:
        agb = EIK
    url = concrete(path, agb, group)
    may = role in ALLOWED[(method, path)] and not (target == "other" and role == "practice")
    if (method, path) == ("POST", "/login"):  # everyone reaches it; a wrong password is its own answer
        token = client.get("/login").cookies.get("qc_login_csrf")
        answer = client.post("/login", data={"username": "iemand", "password": "fout wachtwoord", "login_token": token})
        assert answer.status_code == 401 and "wachtwoord onjuist" in answer.text
        return
    headers = {}
    if method == "POST" and role is not None:
        headers["X-CSRF-Token"] = csrf_of(client)
    answer = client.request(method, url, headers=headers, data={} if not url.startswith("/api") else None,
                            json={} if url.startswith("/api") and method == "POST" else None)
    if may:
        assert answer.status_code not in DENIED, (method, url, role, answer.status_code, answer.text[:300])
        if answer.status_code == 303:
            assert not answer.headers["location"].startswith("/login?"), (method, url, role)
    else:
        signed_out_page = role is None and not url.startswith("/api")
        if signed_out_page:
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login?"), (method, url)
        else:
            assert answer.status_code in DENIED, (method, url, role, answer.status_code)
            if role == "practice" and target == "other":
                assert answer.status_code == 404  # another practice is as if it did not exist
