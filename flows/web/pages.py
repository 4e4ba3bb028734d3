"""The workspace's pages (Dutch): logging in and out, the care group's overview, a practice's page with its forms,
a GP group's page, the board's page, the runs page, and the downloads (packs as PDF, indicator tables as XLSX).

Invariants:
- Pages read the services and forms call them; nothing here decides a rule, a state or a message.
- A form refused by a service is shown again with the message at its field and what the user typed; nothing is
  stored (the services refuse whole). Recording the same conversation twice (a double click) records one.
- A practice account sees only its own practice: the routes ask ``security.check`` (404 for another), and the
  lists it could reach (messages, GP group pack) are filtered to it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from domain.accounts import Access, AccountRole
from domain.errors import QualityCycleError
from domain.inputs import without_bsn
from domain.trajectory import TrajectoryState
from domain.vocabulary import ConversationKind, SupportKind
from flows.services import accounts, packs, queries
from flows.services import support as support_service
from flows.web import forms, security
from flows.web.security import Caller, check, route

router = APIRouter()
Who = Annotated[Caller, Depends(check)]


def page(request: Request, name: str, who: Caller, status: int = 200, **context: Any) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, {"who": who.account, "csrf": who.csrf_token, **context}, status_code=status)
    return response


def _services(request: Request) -> Any:
    return request.app.state.services


async def _typed(request: Request) -> dict[str, str]:
    """A posted form's text fields as typed (the CSRF token left out)."""
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf_token"}


# --- signing in and out ---------------------------------------------------------------------------------------------

@route(router, "GET", "/login", Access.PUBLIC)
def login_form(request: Request, who: Who, next: str = "/") -> Response:
    token = security.login_csrf(request)
    response = page(request, "login.html.j2", who, login_token=token, next=_safe_next(next), error=None,
                    username="")
    response.set_cookie(security.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=security.is_https(request), path="/login")
    return response


def _safe_next(target: str) -> str:
    """Only a path of this site: never an outside address to go to after logging in."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@route(router, "POST", "/login", Access.PUBLIC)
async def login(request: Request, who: Who, username: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "", login_token: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "/") -> Response:
    if not security.same_token(login_token, request.cookies.get(security.LOGIN_CSRF_COOKIE)):
        return page(request, "login.html.j2", who, 403, login_token=security.login_csrf(request), next=_safe_next(next),
                    error="Het formulier is verlopen; probeer het opnieuw.", username=username)
    services, settings = _services(request), request.app.state.settings
    try:
        account = accounts.authenticate(services, username, password, security.now(request))
    except QualityCycleError as exc:
        failures = accounts.failed_logins(services, username)
        delay = min(8.0, settings.web_failed_login_delay * 2 ** max(0, failures - 1))
        if delay:
            await asyncio.sleep(delay)  # each failure in a row answered later
        return page(request, "login.html.j2", who, 401, login_token=login_token, next=_safe_next(next),
                    error=str(exc), username=username)
    token, _ = accounts.open_session(services, account, security.now(request))
    response = RedirectResponse(_safe_next(next), status_code=303)
    security.set_session_cookie(response, request, token)
    response.delete_cookie(security.LOGIN_CSRF_COOKIE, path="/login")
    return response


@route(router, "POST", "/logout", Access.SIGNED_IN)
def logout(request: Request, who: Who) -> Response:
    accounts.close_session(_services(request), request.cookies.get(security.SESSION_COOKIE), security.now(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response


@route(router, "GET", "/", Access.SIGNED_IN)
def home(request: Request, who: Who) -> Response:
    account = who.account
    assert account is not None
    if account.role is AccountRole.PRACTICE:
        return RedirectResponse(f"/practices/{account.agb_code}", status_code=303)
    return RedirectResponse("/board" if account.role is AccountRole.BOARD else "/overview", status_code=303)


# --- the care group's overview --------------------------------------------------------------------------------------

@route(router, "GET", "/overview", Access.READ_ALL)
def overview(request: Request, who: Who, gp_group: str = "", programme: str = "", state: str = "",
             officer: str = "") -> Response:
    from flows.services.officers import assignments

    services = _services(request)
    held = assignments(services)
    today = security.now(request).date()
    lines = queries.status(services)
    enrolled = queries.enrolments(services)
    shown = [line for line in lines
             if (not gp_group or line.gp_group == gp_group) and (not state or line.state.value == state)
             and (not programme or programme in enrolled.get(line.agb_code, set()))
             and (not officer or officer in held.get(line.agb_code, []))]
    codes = {line.agb_code for line in shown}
    # what falls due this week and what is overdue: the first 40 of each, and how many are overdue, read from the
    # database (a care group of hundreds has thousands of open duties); with a filter, of its practices only
    only = sorted(codes) if len(shown) != len(lines) else None
    week = queries.obligations(services, status="open", due_from=today, due_until=today + timedelta(days=7),
                               agb_codes=only, limit=40)
    overdue = [o for o in queries.obligations(services, status="open", due_until=today - timedelta(days=1),
                                              agb_codes=only, limit=40) if o.due_on < today]
    overdue_total = queries.overdue_count(services, today, only)
    by_state: dict[str, int] = defaultdict(int)
    for line in shown:
        by_state[line.state.value] += 1
    return page(request, "overview.html.j2", who, lines=shown, week=week, overdue=overdue, by_state=by_state,
                overdue_total=overdue_total,
                groups=sorted({line.gp_group for line in lines if line.gp_group}),
                programmes=sorted({p for ps in enrolled.values() for p in ps}),
                states=[s.value for s in TrajectoryState], officers=sorted({n for ns in held.values() for n in ns}),
                held=held, filters={"gp_group": gp_group, "programme": programme, "state": state, "officer": officer},
                today=today)


# --- a practice -----------------------------------------------------------------------------------------------------

def practice_context(request: Request, who: Caller, agb: str) -> dict[str, Any]:
    from flows.services.around_the_cycle import around_the_cycle

    services = _services(request)
    today = security.now(request).date()
    practice = queries.practice(services, agb)
    (line,) = queries.status(services, agb_codes=[agb])
    messages = queries.outbox_messages(services, agb_code=agb, latest=50)
    return {
        "practice": practice, "line": line, "events": list(reversed(queries.history(services, agb))),
        "indicators": queries.indicator_view(services, agb_code=agb, on=today),
        "agreements": queries.agreements(services, agb), "goals": queries.goals(services, agb, today),
        "supports": support_service.supports(services, agb),
        "obligations": [o for o in queries.obligations(services, agb) if o.status == "open"],
        "messages": messages,
        "around": around_the_cycle(services, today, [agb]).get(agb), "today": today,
        "kinds": [k.value for k in ConversationKind], "support_kinds": [k.value for k in SupportKind],
        "can_edit": who.account is not None and who.account.role in (AccountRole.OFFICER, AccountRole.ADMIN),
    }


@route(router, "GET", "/practices/{agb}", Access.PRACTICE)
def practice_page(request: Request, who: Who, agb: str) -> Response:
    return page(request, "practice.html.j2", who, **practice_context(request, who, agb))


@route(router, "GET", "/practices/{agb}/chart.svg", Access.PRACTICE)
def practice_chart(request: Request, who: Who, agb: str) -> Response:
    svg, _ = queries.practice_chart(_services(request), agb)
    return Response(svg, media_type="image/svg+xml")


@route(router, "GET", "/practices/{agb}/pack.pdf", Access.PRACTICE)
def practice_pack(request: Request, who: Who, agb: str) -> Response:
    moment = security.now(request)
    data = packs.conversation_pack(_services(request), agb, moment.date(), moment)
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="gesprekspakket-{agb}.pdf"'})


@route(router, "GET", "/practices/{agb}/indicators.xlsx", Access.PRACTICE)
def practice_workbook(request: Request, who: Who, agb: str) -> Response:
    moment = security.now(request)
    data = packs.indicator_workbook(_services(request), agb_code=agb, on=moment.date(), now=moment)
    return _xlsx(data, f"indicatoren-{agb}.xlsx")


def _xlsx(data: bytes, name: str) -> Response:
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@route(router, "GET", "/practices/{agb}/conversation", Access.EDIT)
def conversation_form(request: Request, who: Who, agb: str, kind: str = "extra") -> Response:
    context = practice_context(request, who, agb)
    typed = forms.conversation_defaults(context["practice"], kind, context["today"])
    return page(request, "conversation.html.j2", who, typed=typed, errors={}, **context)


@route(router, "POST", "/practices/{agb}/conversation", Access.EDIT)
async def record_conversation(request: Request, who: Who, agb: str) -> Response:
    typed = await _typed(request)
    services, moment = _services(request), security.now(request)
    try:
        recorded = forms.record_conversation(services, agb, typed, moment, who.actor)
    except forms.FormError as exc:
        context = practice_context(request, who, agb)
        kept = {k: without_bsn(v) for k, v in typed.items()}  # what was typed, never a BSN back
        return page(request, "conversation.html.j2", who, 400, typed=kept, errors=exc.errors, **context)
    note = "al vastgelegd" if recorded.already_recorded else "vastgelegd"
    return RedirectResponse(f"/practices/{agb}?saved={note}", status_code=303)


@route(router, "POST", "/practices/{agb}/support", Access.EDIT)
async def request_support(request: Request, who: Who, agb: str) -> Response:
    typed = await _typed(request)
    try:
        forms.request_support(_services(request), agb, typed, security.now(request), who.actor)
    except forms.FormError as exc:
        context = practice_context(request, who, agb)
        return page(request, "practice.html.j2", who, 400, support_typed=typed, support_errors=exc.errors, **context)
    return RedirectResponse(f"/practices/{agb}?saved=ondersteuning", status_code=303)


@route(router, "POST", "/practices/{agb}/support/{key}/complete", Access.EDIT)
async def complete_support(request: Request, who: Who, agb: str, key: str) -> Response:
    typed = await _typed(request)
    try:
        forms.complete_support(_services(request), agb, key, typed, security.now(request), who.actor)
    except forms.FormError as exc:
        context = practice_context(request, who, agb)
        return page(request, "practice.html.j2", who, 400, complete_errors=exc.errors, **context)
    return RedirectResponse(f"/practices/{agb}?saved=ondersteuning+gegeven", status_code=303)


@route(router, "POST", "/practices/{agb}/move", Access.EDIT)
async def move_conversation(request: Request, who: Who, agb: str) -> Response:
    typed = await _typed(request)
    try:
        forms.move_conversation(_services(request), agb, typed, security.now(request), who.actor)
    except forms.FormError as exc:
        context = practice_context(request, who, agb)
        return page(request, "practice.html.j2", who, 400, move_typed=typed, move_errors=exc.errors, **context)
    return RedirectResponse(f"/practices/{agb}?saved=verplaatst", status_code=303)


# --- a GP group -----------------------------------------------------------------------------------------------------

@route(router, "GET", "/gp-groups/{code}", Access.GP_GROUP)
def gp_group_page(request: Request, who: Who, code: str) -> Response:
    from flows.services import mirror_meetings

    services = _services(request)
    today = security.now(request).date()
    members = queries.group_practice_codes(services, code)
    lines = queries.status(services, agb_codes=members) if members else []
    if not lines:
        raise security.AccessDeniedError(404, "niet gevonden")
    staff = who.account is not None and who.account.staff
    indicators = queries.indicator_view(services, gp_group=code, on=today) if staff else None
    pack = mirror_meetings.group_pack(services, code, today)
    heads = pack.indicators[0].practices if pack.indicators else []
    own = who.account.agb_code if who.account is not None else None
    # a practice account sees its own figures by name and the others of its group without theirs (issue 15: a
    # practice never sees another practice's name)
    labels = [f.label if staff else ("uw praktijk" if f.agb_code is not None and f.agb_code == own
                                     else f"praktijk {chr(65 + i)}") for i, f in enumerate(heads)]
    return page(request, "gp_group.html.j2", who, code=code, lines=lines if staff else [], indicators=indicators,
                pack=pack, labels=labels, meetings=mirror_meetings.mirror_meetings(services, code), staff=staff,
                today=today,
                can_edit=who.account is not None and who.account.role in (AccountRole.OFFICER, AccountRole.ADMIN))


@route(router, "POST", "/gp-groups/{code}/mirror-meeting", Access.EDIT)
async def request_mirror_meeting(request: Request, who: Who, code: str) -> Response:
    from flows.services import mirror_meetings

    typed = await _typed(request)
    moment = security.now(request)
    try:
        day = forms.day(typed.get("requested_on", ""), "requested_on") if typed.get("requested_on") else moment.date()
        mirror_meetings.request_mirror_meeting(_services(request), code, day, moment, who.actor,
                                               by=typed.get("by") or None)
    except (forms.FormError, QualityCycleError):
        return RedirectResponse(f"/gp-groups/{code}?error=aanvraag", status_code=303)
    return RedirectResponse(f"/gp-groups/{code}?saved=aangevraagd", status_code=303)


# --- the board ------------------------------------------------------------------------------------------------------

BOARD_STATES = (TrajectoryState.UNDERPERFORMER_POLICY, TrajectoryState.IMPROVEMENT_PLAN,
                TrajectoryState.EXTRA_CONVERSATION)


@route(router, "GET", "/board", Access.BOARD)
def board_page(request: Request, who: Who) -> Response:
    services = _services(request)
    today = security.now(request).date()
    lines = queries.status(services, states=BOARD_STATES)
    lines.sort(key=lambda x: (BOARD_STATES.index(x.state), x.since or today))
    codes = [x.agb_code for x in lines]
    goals: dict[str, list[queries.GoalState]] = {code: [] for code in codes}
    for goal in queries.goals(services, on=today, agb_codes=codes):
        goals[goal.agb_code].append(goal)
    support = packs.support_given_by_practice(services, codes, today)
    return page(request, "board.html.j2", who, lines=lines, goals=goals, support=support, today=today,
                quarter=_last_quarter(today))


def _last_quarter(today: date) -> str:
    q = (today.month - 1) // 3
    return f"{today.year - 1}K4" if q == 0 else f"{today.year}K{q}"


@route(router, "GET", "/board/report.pdf", Access.BOARD)
def board_report(request: Request, who: Who, period: str = "") -> Response:
    moment = security.now(request)
    try:
        start, end = forms.period(period or _last_quarter(moment.date()))
    except forms.FormError as exc:
        raise security.AccessDeniedError(400, exc.errors.get("period", "periode ongeldig")) from None
    data = packs.board_report(_services(request), start, end, moment)
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="bestuursrapport-{start}-{end}.pdf"'})


@route(router, "GET", "/care-group/indicators.xlsx", Access.READ_ALL)
def care_group_workbook(request: Request, who: Who) -> Response:
    moment = security.now(request)
    return _xlsx(packs.indicator_workbook(_services(request), on=moment.date(), now=moment),
                 "indicatoren-zorggroep.xlsx")


# --- operations -----------------------------------------------------------------------------------------------------

@route(router, "GET", "/runs", Access.OPERATIONS)
def runs_page(request: Request, who: Who) -> Response:
    by_duty: dict[str, list[Any]] = defaultdict(list)
    for run in queries.duty_runs(_services(request)):
        if len(by_duty[run.duty]) < 5:
            by_duty[run.duty].append(run)
    return page(request, "runs.html.j2", who, by_duty=dict(sorted(by_duty.items())),
                prefect_ui=request.app.state.settings.prefect_ui_url)

