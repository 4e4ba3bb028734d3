"""The workspace's JSON API under ``/api`` (its OpenAPI document at ``/api/openapi.json``), with the same roles and
sessions as the pages: the practices with where they stand, one practice whole, and the forms' actions.

Invariants:
- Nobody signed in gets 401; a practice account asking for another practice gets 404; a change needs the session's
  CSRF token in ``X-CSRF-Token``.
- Bad input is answered 422 with the field and a Dutch message; nothing is stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from domain.accounts import Access, AccountRole
from flows.services import queries
from flows.services import support as support_service
from flows.web import forms, security
from flows.web.security import Caller, check, route

router = APIRouter(prefix="/api")
Who = Annotated[Caller, Depends(check)]
NOT_FOUND = {404: {"description": "Niet gevonden (of niet van deze praktijk)"},
             401: {"description": "Niet aangemeld"}, 403: {"description": "Geen toegang"}}


class PracticeSummary(BaseModel):
    agb_code: str
    name: str
    gp_group: str | None
    state: str
    since: datetime | None
    next_due: date | None


class IndicatorOut(BaseModel):
    programme: str
    indicator: str
    name: str
    period_end: date
    numerator: int
    denominator: int
    score: float | None = Field(description="Leeg bij minder patiënten dan het beleid beoordeelt (small_numbers)")
    small_numbers: bool
    target: float | None
    national_average: float | None


class AgreementOut(BaseModel):
    id: str
    text: str
    made_on: date
    status: str


class SupportOut(BaseModel):
    id: str
    kind: str | None
    status: str
    requested_on: date | None


class ObligationOut(BaseModel):
    key: str
    kind: str
    due_on: date
    planned_on: date | None
    status: str


class PracticeDetail(PracticeSummary):
    reasons: list[dict[str, Any]]
    indicators: list[IndicatorOut]
    agreements: list[AgreementOut]
    support: list[SupportOut]
    obligations: list[ObligationOut]


class AttendeeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(max_length=64)
    name: str = Field(max_length=200)


class GoalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    programme: str = Field(max_length=32)
    indicator: str = Field(max_length=200)
    target: float
    by: date


class ConversationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(description="start, annual of extra", max_length=16)
    held_on: date
    programme: str | None = Field(None, max_length=32)
    attendees: list[AttendeeIn] = Field(default_factory=list, max_length=50)
    summary: str = Field("", max_length=5000)
    agreements: list[str] = Field(default_factory=list, max_length=50)
    goals: list[GoalIn] = Field(default_factory=list, max_length=50)


class ConversationOut(BaseModel):
    conversation_id: str
    already_recorded: bool
    state: str


class SupportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=64)
    on: date
    note: str | None = Field(None, max_length=2000)


class Problem(BaseModel):
    errors: dict[str, str]


def _summary(line: queries.StatusLine) -> PracticeSummary:
    return PracticeSummary(agb_code=line.agb_code, name=line.name, gp_group=line.gp_group, state=line.state.value,
                           since=line.since, next_due=line.next_due.on if line.next_due else None)


@route(router, "GET", "/practices", Access.SIGNED_IN, response_model=list[PracticeSummary],
       responses={401: {"description": "Niet aangemeld"}})
def practices(request: Request, who: Who) -> list[PracticeSummary]:
    """Every practice with where it stands (a practice account: only its own)."""
    account = who.account
    lines = queries.status(request.app.state.services)
    if account is not None and account.role is AccountRole.PRACTICE:
        lines = [x for x in lines if x.agb_code == account.agb_code]
    return [_summary(x) for x in lines]


@route(router, "GET", "/practices/{agb}", Access.PRACTICE, response_model=PracticeDetail, responses=NOT_FOUND)
def practice(request: Request, who: Who, agb: str) -> PracticeDetail:
    """One practice: its state and reasons, indicators, agreements, support and open obligations."""
    services = request.app.state.services
    found = queries.status(services, agb_codes=[agb])
    if not found:
        raise security.AccessDeniedError(404, "niet gevonden")
    line = found[0]
    today = security.now(request).date()
    view = queries.indicator_view(services, agb_code=agb, on=today)
    return PracticeDetail(
        **_summary(line).model_dump(), reasons=[dict(r) for r in line.reasons],
        indicators=[IndicatorOut(programme=x.key.programme.value, indicator=x.key.indicator, name=x.name,
                                 period_end=x.period_end, numerator=x.numerator, denominator=x.denominator,
                                 score=None if x.small_numbers else x.score, small_numbers=x.small_numbers,
                                 target=x.target, national_average=x.national_average) for x in view.lines],
        agreements=[AgreementOut(id=a.id, text=a.text, made_on=a.made_on, status=a.status)
                    for a in queries.agreements(services, agb)],
        support=[SupportOut(id=v.id, kind=v.kind.value if v.kind else None, status=v.status.value,
                            requested_on=v.requested_on) for v in support_service.supports(services, agb)],
        obligations=[ObligationOut(key=o.key, kind=o.kind, due_on=o.due_on, planned_on=o.planned_on, status=o.status)
                     for o in queries.obligations(services, agb) if o.status == "open"])


@route(router, "POST", "/practices/{agb}/conversations", Access.EDIT, response_model=ConversationOut,
       status_code=201, responses={**NOT_FOUND, 422: {"model": Problem, "description": "Ongeldige invoer"}})
def record_conversation(request: Request, who: Who, agb: str, body: ConversationIn) -> Any:
    """Record a conversation with its report: agreements, and goals (an extra conversation's goals are its plan)."""
    services = request.app.state.services
    if agb not in queries.known_practices(services):
        raise security.AccessDeniedError(404, "niet gevonden")
    typed = {"kind": body.kind, "held_on": body.held_on.isoformat(), "programme": body.programme or "",
             "attendees": "\n".join(f"{a.role}={a.name}" for a in body.attendees), "summary": body.summary,
             "agreements": "\n".join(body.agreements),
             "goals": "\n".join(f"{g.programme}/{g.indicator} {g.target} {g.by.isoformat()}" for g in body.goals)}
    if any("\n" in a or "\r" in a for a in body.agreements):
        return JSONResponse({"errors": {"agreements": "één afspraak per element, zonder regeleinde"}}, 422)
    try:
        recorded = forms.record_conversation(services, agb, typed, security.now(request), who.actor)
    except forms.FormError as exc:
        return JSONResponse({"errors": exc.errors}, status_code=422)
    (line,) = queries.status(services, agb_codes=[agb])
    return ConversationOut(conversation_id=recorded.conversation_id, already_recorded=recorded.already_recorded,
                           state=line.state.value)


@route(router, "POST", "/practices/{agb}/support", Access.EDIT, response_model=list[SupportOut], status_code=201,
       responses={**NOT_FOUND, 422: {"model": Problem, "description": "Ongeldige invoer"}})
def request_support(request: Request, who: Who, agb: str, body: SupportIn) -> Any:
    """Ask for support for a practice on a day; the practice's support as it then stands."""
    services = request.app.state.services
    if agb not in queries.known_practices(services):
        raise security.AccessDeniedError(404, "niet gevonden")
    typed = {"kind": body.kind, "on": body.on.isoformat(), "note": body.note or ""}
    try:
        forms.request_support(services, agb, typed, security.now(request), who.actor)
    except forms.FormError as exc:
        return JSONResponse({"errors": exc.errors}, status_code=422)
    return [SupportOut(id=v.id, kind=v.kind.value if v.kind else None, status=v.status.value,
                       requested_on=v.requested_on) for v in support_service.supports(services, agb)]
