"""The workspace's FastAPI application: ``create_app(services, settings)``, served by ``qualitycycle web``.

Server-rendered pages (Jinja2, Dutch) with htmx for partial updates, a JSON API under ``/api`` with its own OpenAPI
document, the shipped static files; nothing served refers to an outside address, so the pages work in a care
group's closed network.

Invariants:
- The clock is read at this edge only (``clock``; tests hand in their own) and passed to the services as ``now``.
- Every route goes through ``security.check`` (its access, the session, CSRF): see ``flows.web.security``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from domain.accounts import ACCOUNT_ROLE_NAMES_NL, Access
from domain.clock import AMSTERDAM, as_amsterdam
from domain.inputs import dutch_message
from domain.vocabulary import STATE_NAMES_NL, date_nl
from flows.services.context import Services
from flows.services.settings import Settings
from flows.web import security

HERE = Path(__file__).parent


def _wall_clock() -> datetime:
    return as_amsterdam(datetime.now(tz=AMSTERDAM))


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%".replace(".", ",")


def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=str(HERE / "templates"))
    found.env.filters.update({"datum": lambda d: date_nl(d) if d else "", "pct": _percent,
                              "state_nl": lambda s: STATE_NAMES_NL.get(str(s), str(s)),
                              "moment": lambda m: as_amsterdam(m).strftime("%Y-%m-%d %H:%M") if m else "",
                              "role_nl": lambda r: ACCOUNT_ROLE_NAMES_NL.get(r, str(r))})
    return found


def create_app(services: Services, settings: Settings, clock: Callable[[], datetime] | None = None) -> FastAPI:
    from flows.web import api, pages

    app = FastAPI(title="qualitycycle", version="1", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.services, app.state.settings = services, settings
    app.state.clock = clock or _wall_clock
    app.state.templates = templates()
    app.include_router(pages.router)
    app.include_router(api.router)
    security.ROUTE_ACCESS[("GET", "/static/{path:path}")] = Access.PUBLIC
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(security.AccessDeniedError)
    async def _denied(request: Request, exc: security.AccessDeniedError) -> Any:
        return security.denied_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        """The API's bad input: 422 with each field and a Dutch message (``Problem``), as the forms say it."""
        errors = {".".join(str(p) for p in e["loc"] if p != "body") or "body": dutch_message(e)
                  for e in exc.errors()}
        return JSONResponse({"errors": errors}, status_code=422)

    def _openapi() -> dict[str, Any]:
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(title="qualitycycle API", version="1", routes=api.router.routes,
                             description="De API van de werkplek: dezelfde rollen en sessies als de pagina's.")
        return schema

    async def openapi_json(request: Request) -> JSONResponse:
        return JSONResponse(_openapi())

    security.ROUTE_ACCESS[("GET", "/api/openapi.json")] = Access.PUBLIC
    app.add_api_route("/api/openapi.json", openapi_json, methods=["GET"], include_in_schema=False)
    return app
