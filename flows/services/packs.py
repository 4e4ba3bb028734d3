"""The documents people print or download: a practice's conversation pack, the board's report of a period (PDF), and
indicator tables per practice, GP group or care group (XLSX).

The pack is the invitation's own: the payload the sweep would queue for the practice's next conversation
(``notifications.compose.conversation_messages``), with its chart and the support given in the past year; the board's
report is the digest of the period (``flows.services.digest.digest_payload``) without sending it.

Invariants:
- Read-only: nothing here queues a message or changes a fact.
- A practice's pack shows that practice alone (the workspace hands it to its own users only).
- Nothing reads the clock: the day and the moment the document is made come from the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from dateutil.relativedelta import relativedelta

from domain.cards import leaflets_for
from domain.clock import as_amsterdam
from domain.obligations import CONVERSATION_KINDS, Obligation, ObligationKind
from domain.registry import Role
from domain.support import SupportState, SupportView
from domain.vocabulary import SUPPORT_NAMES_NL
from flows.services import queries
from flows.services.context import Services, UnknownPracticeError
from flows.services.due_notices import _Reference
from flows.services.support import supports
from notifications.compose import conversation_messages
from storage import obligations as obligation_store
from storage import repository as repo


def _next_conversation(services: Services, agb_code: str, on: date) -> Obligation:
    """The practice's next open conversation; without one, its annual conversation as if held on ``on``."""
    with services.session() as s:
        rows = [r for r in obligation_store.open_obligations(s, agb_codes=[agb_code])
                if ObligationKind(r.kind) in CONVERSATION_KINDS]
    if rows:
        return min((r.obligation for r in rows), key=lambda o: (o.planned_on or o.due_on))
    return Obligation(f"pack:{agb_code}:{on.isoformat()}", ObligationKind.ANNUAL_CONVERSATION, agb_code, "cycle", on,
                      on, on)


def pack_payload(services: Services, agb_code: str, on: date, now: datetime) -> dict[str, Any]:
    """What a practice's conversation pack shows on ``on``: the invitation payload of its next conversation (as the
    sweep makes it, for the practice's own address), with its chart."""
    services = services.in_force(on)
    policy = services.policy
    with services.session() as s:
        practice = repo.get_practice(s, agb_code)
        if practice is None:
            raise UnknownPracticeError(agb_code)
        reference = _Reference.load(s, [agb_code], on, policy)
        # its officers as assigned (read only: a pack assigns nobody)
        by_name = {p.name: p for p in repo.contacts(s, Role.OFFICER)}
        officers = tuple(by_name[n] for n in repo.officer_assignments(s).get(agb_code, []) if n in by_name)
        care_group = repo.care_group_name(s)
    prepare = replace(reference.preparation(agb_code, on, policy.min_denominator), leaflets=tuple(leaflets_for(
        reference.leaflets, [p for p in practice.programmes if practice.enrolled_in(p, on)])))
    obligation = _next_conversation(services, agb_code, on)
    messages = conversation_messages("invitation", obligation, practice, officers, care_group, policy, prepare)
    data = dict(messages[0].payload)
    svg, shown = queries.practice_chart(services, agb_code)
    if shown:
        data["chart_svg"] = svg
    return data


def support_given(services: Services, agb_code: str, on: date) -> list[dict[str, Any]]:
    """The support given to a practice in the year before ``on``, oldest first, as the pack lists it."""
    return _given_in_year(supports(services, agb_code), on)


def support_given_by_practice(services: Services, agb_codes: Sequence[str], on: date
                              ) -> dict[str, list[dict[str, Any]]]:
    """``support_given`` of each practice of ``agb_codes``, read at once (the board's page lists dozens)."""
    wanted = set(agb_codes)
    mine: dict[str, list[SupportView]] = {code: [] for code in agb_codes}
    for view in supports(services):
        if view.agb_code in wanted:
            mine[view.agb_code].append(view)
    return {code: _given_in_year(views, on) for code, views in mine.items()}


def _given_in_year(views: Sequence[SupportView], on: date) -> list[dict[str, Any]]:
    year_ago = on - relativedelta(years=1)
    return [{"kind": SUPPORT_NAMES_NL[v.kind], "on": v.done_on.isoformat(), "by": v.by, "half_days": v.half_days}
            for v in sorted(views, key=lambda v: (v.done_on or date.min, v.id))
            if v.status is SupportState.DONE and v.kind is not None and v.done_on is not None
            and year_ago <= v.done_on <= on]


def conversation_pack(services: Services, agb_code: str, on: date, now: datetime) -> bytes:
    """A practice's conversation pack as PDF (``notifications.pdf.conversation_pack_pdf``)."""
    from notifications.pdf import conversation_pack_pdf  # fpdf2: loaded only when a document is made

    return conversation_pack_pdf(pack_payload(services, agb_code, on, now), as_amsterdam(now),
                                 support_given(services, agb_code, on))


def board_report(services: Services, start: date, end: date, now: datetime) -> bytes:
    """The board's report of a period as PDF: the digest of that period as it stood at its end."""
    from flows.services.digest import digest_payload
    from notifications.pdf import board_report_pdf

    return board_report_pdf(digest_payload(services, start, end), as_amsterdam(now))


def indicator_workbook(services: Services, *, agb_code: str | None = None, gp_group: str | None = None,
                       period_end: date | None = None, on: date, now: datetime) -> bytes:
    """The indicator table of a practice, a GP group or the care group (neither given) as XLSX."""
    from notifications.workbooks import indicator_workbook as workbook

    view = queries.indicator_view(services, agb_code=agb_code, gp_group=gp_group, period_end=period_end, on=on)
    return workbook(view.scope, view.period_end, view.lines, as_amsterdam(now))
