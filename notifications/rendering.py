"""Render an outbox message to an RFC 5322 e-mail: Dutch text and HTML from templates, plus attachments.

One template pair per kind (``templates/<kind>.txt.j2`` and ``<kind>.html.j2``), rendered with
``StrictUndefined`` (a missing payload field is an error, never an empty gap) and, for HTML,
autoescaping. Conversation and meeting invitations carry an iCalendar invite, a conversation's invitation its pack
as PDF (``notifications.pdf``); any message whose payload has ``chart_svg`` carries that chart.

Invariants: the ``Message-ID`` is derived from the message's key (same key, same id: a message sent
twice after a crash is one message to a mail client) and so are the MIME boundaries; the ``Date``
is the moment passed in, never the wall clock. So a message renders to the same bytes whenever it
is rendered for the same moment.

Payloads per kind: ``notifications.payloads`` (one typed model per kind; ``notifications.compose`` writes them;
``sample_messages`` has one of each).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import signal
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

import jinja2

from domain import vocabulary
from domain.clock import as_amsterdam
from domain.inputs import check_email
from domain.messages import MessageLike, OutboxMessage, uuid5_text
from domain.quality_system import CONDITION_NAMES_NL
from domain.vocabulary import SUBJECTS_NL
from notifications import mime, wording
from notifications.channels import KEY_HEADER, Rendered
from notifications.ics import CalendarPerson, invitation_calendar, invite_bytes

TEMPLATES = Path(__file__).parent / "templates"
KINDS = (
    "board_escalation", "board_progress", "board_recovery", "board_left", "board_digest",
    "conversation_invitation", "conversation_reminder", "conversation_overdue", "meeting_invitation",
    "kit_refresh_due", "training_due", "training_overdue", "goal_judged", "agreement_overdue",
    "mirror_meeting_invitation", "mirror_accreditation_request", "missing_address", "checklist_due",
    "accreditation_due", "cards_published", "cards_behind", "network_plan_due",
)
CALENDAR_KINDS = frozenset({"conversation_invitation", "meeting_invitation", "mirror_meeting_invitation"})
DEFAULT_DURATION = timedelta(hours=1)


class RenderError(Exception):
    """A message could not be rendered (unknown kind, a payload field missing, a template fault)."""


class _Policy(EmailPolicy):
    """The default policy, except that a plain-ASCII header that fits in a line (998 characters) is not
    folded. Python's folder otherwise breaks a long header right after its colon, and its own parser then
    reads the value back with a leading space (``" Uitnodiging ..."``). Non-ASCII headers (encoded words,
    at most 75 characters each) and bodies (quoted-printable, 76) keep the default widths."""

    def _wide(self, name: str, value: str) -> bool:
        text = str(value)
        return text.isascii() and "\n" not in text and len(name) + 2 + len(text) <= 998

    def fold(self, name: str, value: str) -> str:
        if self._wide(name, value):
            return str(EmailPolicy.fold(self.clone(max_line_length=998), name, value))
        return str(super().fold(name, value))

    def fold_binary(self, name: str, value: str) -> bytes:
        if self._wide(name, value):
            return EmailPolicy.fold_binary(self.clone(max_line_length=998), name, value)
        return super().fold_binary(name, value)


POLICY = _Policy()


def message_id(key: str) -> str:
    """The stable ``Message-ID`` of the message with this key."""
    return f"<{uuid5_text(key)}@qualitycycle>"


def _reference_nl(reason: Mapping[str, Any]) -> str:
    return {"target": "streefwaarde", "national_average": "landelijk gemiddelde",
            "care_group_median": "mediaan van de zorggroep"}.get(str(reason.get("reference")), "referentie")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=lambda name: name is not None and name.endswith(".html.j2"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        pct=vocabulary.percent_nl, num=vocabulary.number_nl, datum=vocabulary.date_nl, tijd=vocabulary.time_nl,
        moment=vocabulary.moment_nl, rol=vocabulary.role_nl, programma=vocabulary.programme_nl,
        gesprek=vocabulary.conversation_nl, toestand=vocabulary.state_nl, indicator=wording.indicator_nl,
        bezoek=vocabulary.visit_nl, doelstand=vocabulary.goal_status_nl, eigenaar=vocabulary.owner_nl,
        uitkomst=vocabulary.outcome_nl, antwoord=vocabulary.answer_nl,
        referentie=_reference_nl,
        datum_dag=lambda value: vocabulary.date_nl(value, weekday=True),
        capfirst=lambda text: vocabulary.capitalised(str(text)),
    )
    env.globals.update(duur=vocabulary.duration_nl, ontvanger=wording.recipient_line,
                       overleg=vocabulary.MEETING_NAMES_NL, koffer=vocabulary.KIT_NAMES_NL,
                       cursus=vocabulary.COURSE_NAMES_NL, te_weinig=vocabulary.small_numbers_nl)
    return env


_ENV = _environment()


def context(message: MessageLike, care_group: str | None = None) -> dict[str, Any]:
    payload = dict(message.payload)
    practice = payload.get("practice") or {}
    care = care_group or (payload.get("care_group") or {}).get("name") or "de zorggroep"
    return {
        "m": message,
        "p": payload,
        "care_group": care,
        "aanhef": wording.greeting(message.recipient_role, message.recipient_name),
        "aan": wording.recipient_line(message.recipient_role, message.recipient_name, practice.get("name"), care),
    }


def render_bodies(message: MessageLike, care_group: str | None = None) -> tuple[str, str]:
    """The plain-text and the HTML body of a message."""
    if message.kind not in KINDS:
        raise RenderError(f"onbekende berichtsoort {message.kind!r} (bekend: {', '.join(KINDS)})")
    values = context(message, care_group)
    try:
        text = _ENV.get_template(f"{message.kind}.txt.j2").render(values)
        html = _ENV.get_template(f"{message.kind}.html.j2").render(values)
    except jinja2.TemplateError as exc:
        raise RenderError(f"bericht {message.kind} ({message.key}) kon niet worden opgemaakt: {exc}") from exc
    except (KeyError, TypeError, ValueError) as exc:  # a payload value of the wrong shape, e.g. a bad date
        raise RenderError(f"bericht {message.kind} ({message.key}): gegevens onbruikbaar: {exc}") from exc
    return text, html


def _moment(value: Any) -> datetime:
    return as_amsterdam(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def _person(data: Mapping[str, Any]) -> CalendarPerson:
    role = data.get("role")
    return CalendarPerson(name=str(data.get("name") or data.get("email") or "?"), email=data.get("email"),
                          role=vocabulary.role_nl(role) if role else None)


def calendar_for(message: MessageLike, now: datetime, care_group: str | None = None, *,
                 payload_text: str | None = None) -> bytes | None:
    """The .ics invite a conversation or meeting invitation carries; None for other kinds. ``payload_text``: the
    payload as ``_payload_text`` gives it, when the caller has it already.

    Made once for every recipient of one invitation (they share its payload; one not among its attendees is added
    to the invite's, so that one's is its own): a conversation's six recipients took six, a fifth of rendering
    the CLI path's first quarter (issue 16)."""
    if message.kind not in CALENDAR_KINDS:
        return None
    p = message.payload
    extra = None
    if message.recipient_email and all(a.get("email") != message.recipient_email for a in p.get("attendees") or ()):
        extra = (message.recipient_name, message.recipient_email, message.recipient_role)
    return _invite(message.kind, payload_text if payload_text is not None else _payload_text(p),
                   str(p.get("calendar_key") or message.key), extra, now, care_group)


def _payload_text(payload: Mapping[str, Any]) -> str:
    """A payload as one text, the key its invite and its pack are remembered by."""
    return json.dumps(payload, sort_keys=True, default=str)


@functools.lru_cache(maxsize=32)
def _invite(kind: str, payload_text: str, key: str, extra: tuple[str, str, str | None] | None, now: datetime,
            care_group: str | None) -> bytes:
    p = json.loads(payload_text)
    care = care_group or (p.get("care_group") or {}).get("name") or "de zorggroep"
    practice = p.get("practice") or {}
    if kind == "conversation_invitation":
        event = p["conversation"]
        what = vocabulary.conversation_nl(event["kind"])
        summary = f"{vocabulary.capitalised(what)} {practice.get('name', '')}".strip()
        lines = [f"{summary} met {care}."]
        if event.get("programme"):
            lines.append(f"Zorgprogramma: {vocabulary.programme_nl(event['programme'])}.")
    else:
        event = p["meeting"]
        summary = f"{vocabulary.MEETING_NAMES_NL.get(event['kind'], event['kind'])} {care}"
        if p.get("gp_group"):  # a GP group's mirror meeting
            summary = f"{vocabulary.capitalised(vocabulary.MEETING_NAMES_NL['mirror_meeting'])} huisartsengroep " \
                      f"{p['gp_group']['name']}"
        lines = [f"{summary}."] + [f"- {topic}" for topic in event.get("topics") or ()]
    attendees = [_person(a) for a in p.get("attendees") or ()]
    if lines and attendees:
        lines.append("Aanwezig: " + "; ".join(f"{a.name} ({a.role})" if a.role else a.name for a in attendees) + ".")
    lines.append("Zie de uitnodiging per e-mail voor de voorbereiding.")
    if extra is not None:
        name, email, role = extra
        attendees.append(CalendarPerson(name, email, vocabulary.role_nl(role)))
    start = _moment(event["start"])
    end = _moment(event["end"]) if event.get("end") else start + DEFAULT_DURATION
    organizer = _person(p.get("organizer") or {"name": care})
    return invite_bytes(invitation_calendar(
        key=key, start=start, end=end, summary=summary, description="\n".join(lines),
        location=event.get("location"), organizer=organizer, attendees=attendees, now=now,
        sequence=int(p.get("calendar_sequence") or 0)))


def _attachment_name(message: MessageLike, what: str, suffix: str) -> str:
    return f"{what}-{message.agb_code}{suffix}" if message.agb_code else f"{what}{suffix}"


def _one_line(text: str) -> str:
    """A header value on one line: a name stored before names were checked (an Alt-Enter from Excel) must not
    make every later dispatch fail on "Header values may not contain linefeed"."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text).split())


def parts(message: MessageLike, *, mail_from: str, now: datetime, care_group: str | None = None) -> mime.Parts:
    """What the e-mail of ``message`` is made of: its header values, its text and HTML, the attachments its payload
    asks for (``render`` builds the ``EmailMessage`` of them, ``render_all`` writes the bytes)."""
    if now.tzinfo is None:
        raise ValueError("the moment of a message must be timezone-aware")
    if not message.recipient_email:
        raise RenderError(f"bericht {message.key}: geen e-mailadres bekend voor {message.recipient_name}")
    text, html = render_bodies(message, care_group)
    sender = care_group or (message.payload.get("care_group") or {}).get("name") or "Kwaliteitscyclus zorggroep"
    try:
        check_email(message.recipient_email)
        check_email(mail_from)
    except ValueError as exc:
        raise RenderError(f"bericht {message.key}: {exc}") from None
    if not (mail_from.isascii() and message.recipient_email.isascii()):
        # check_email reads such an address, a header cannot carry it (formataddr raises UnicodeEncodeError)
        raise RenderError(f"bericht {message.key}: een e-mailadres buiten ASCII kan niet worden verstuurd "
                          f"({message.recipient_email})")
    attachments = []
    # the conversation pack to print (issue 15): the same PDF the workspace and ``qualitycycle pack`` give
    with_pack = message.kind == "conversation_invitation" and message.payload.get("prepare") is not None
    try:
        payload_text = _payload_text(message.payload) if with_pack or message.kind in CALENDAR_KINDS else None
        invite = calendar_for(message, now, care_group, payload_text=payload_text)
    except (KeyError, TypeError, ValueError) as exc:
        raise RenderError(f"bericht {message.kind} ({message.key}): agenda-uitnodiging onbruikbaar: {exc}") from exc
    if invite is not None:
        attachments.append(mime.Attachment(invite, "text", "calendar", "uitnodiging.ics",
                                           (("method", "REQUEST"), ("charset", "utf-8"))))
    if with_pack and payload_text is not None:
        attachments.append(mime.Attachment(
            _pack_pdf(payload_text, now), "application", "pdf",
            _attachment_name(message, "gesprekspakket", ".pdf")))
    svg = message.payload.get("chart_svg")
    if svg:
        attachments.append(mime.Attachment(str(svg).encode("utf-8"), "image", "svg+xml",
                                           _attachment_name(message, "indicatoren", ".svg")))
    seed = hashlib.sha256(message.key.encode()).hexdigest()[:24]  # the boundaries, too, follow from the key
    date = format_datetime(as_amsterdam(now).replace(microsecond=0))
    return mime.Parts(key=message.key, sender_name=_one_line(sender), sender=mail_from,
                      recipient_name=_one_line(message.recipient_name), recipient=message.recipient_email,
                      subject=_one_line(message.subject), date=date, message_id=message_id(message.key),
                      text=text, html=html, attachments=tuple(attachments),
                      boundaries=(f"==qc-{seed}-0==", f"==qc-{seed}-1=="))


def render(message: MessageLike, *, mail_from: str, now: datetime, care_group: str | None = None) -> EmailMessage:
    """The whole e-mail: headers, multipart/alternative text and HTML, and the attachments the payload asks for."""
    return email_message(parts(message, mail_from=mail_from, now=now, care_group=care_group))


def email_message(p: mime.Parts) -> EmailMessage:
    """The ``EmailMessage`` of a message's parts (what ``mime.write`` writes as bytes where it can)."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = formataddr((p.sender_name, p.sender))
    msg["To"] = formataddr((p.recipient_name, p.recipient))
    msg["Subject"] = p.subject
    msg["Date"] = p.date
    msg["Message-ID"] = p.message_id
    msg[KEY_HEADER] = p.key
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a robot
    msg.set_content(p.text, cte="quoted-printable")
    msg.add_alternative(p.html, subtype="html", cte="quoted-printable")
    for a in p.attachments:
        msg.add_attachment(a.data, maintype=a.maintype, subtype=a.subtype, filename=a.filename,
                           params=dict(a.params) or None)
    msg["Content-Language"] = "nl"  # after the body: making a multipart moves Content-* headers into the part
    for boundary, part in zip(p.boundaries, (q for q in msg.walk() if q.is_multipart()), strict=False):
        part.set_boundary(boundary)
    return msg


def render_all(messages: list[OutboxMessage], *, mail_from: str, now: datetime,
               care_group: str | None = None) -> list[Rendered | RenderError]:
    """Each message rendered as it travels, or why it could not be: what a worker process rendering ahead of the
    dispatcher (``flows.services.outbox``) gives back. Messages that share a payload (an invitation's recipients)
    are best passed together: their conversation pack is made once. The bytes are written by ``mime.write`` (the
    same bytes: a notice rendered in 0.24 ms, against 1.55 ms through the ``email`` package), by way of the
    ``EmailMessage`` where it declines."""
    done: list[Rendered | RenderError] = []
    for message in messages:
        try:
            p = parts(message, mail_from=mail_from, now=now, care_group=care_group)
        except RenderError as exc:
            done.append(exc)
            continue
        data = mime.write(p)
        done.append(Rendered.of(email_message(p)) if data is None else
                    Rendered(key=p.key, sender=p.sender, recipient=p.recipient, data=data))
    return done


def renderer_started() -> None:
    """Where a worker process rendering ahead of a dispatcher (``flows.services.outbox``) starts: it leaves Ctrl-C
    to the dispatcher (the same process group gets it), which finishes its chunk. It lives here, beside
    ``render_all``, so that a spawned worker imports the rendering and not the dispatcher's database and services
    (0.19 s against 0.63 s of imports a worker, every ``run`` that renders ahead)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@functools.lru_cache(maxsize=8)
def _pack_pdf(payload: str, now: datetime) -> bytes:
    """The pack of an invitation, made once for all its recipients (they share one payload)."""
    from notifications.pdf import conversation_pack_pdf  # fpdf2: loaded only when a pack is made

    return conversation_pack_pdf(json.loads(payload), as_amsterdam(now))


# --- samples ------------------------------------------------------------------------------------

_PRACTICE = {"agb_code": "01234567", "name": "Huisartsenpraktijk De Linde", "gp_group": "HAGRO-WEST"}
_OFFICER = {"role": "officer", "name": "A. Jansen", "email": "a.jansen@cohaesie.example"}
_PRACTICE_INBOX = {"role": "practice", "name": "Huisartsenpraktijk De Linde", "email": "praktijk@delinde.example"}
_OFFICER_2 = {"role": "officer", "name": "P. de Boer", "email": "p.deboer@cohaesie.example"}
_REASON = {
    "rule": "underperformer", "programme": "dm2", "indicator": "hba1c_measured", "period_end": "2025-03-31",
    "score": 64.0, "numerator": 64, "denominator": 100, "reference": "national_average", "reference_value": 92.0,
    "reference_year": 2024, "threshold": 73.6, "baseline_period_end": "2024-03-31", "baseline_score": 60.0,
    "improvement_points": 4.0,
    "explanation": "dm2/hba1c_measured: 64,0% (64/100) blijft meer dan 20,0% achter op het landelijk gemiddelde "
                   "92,0% (2024; grens 73,6%) en steeg sinds 2024-03-31 (60,0%) maar 4,0 punt (minder dan 5,0)",
}
_INDICATORS = [
    {"programme": "dm2", "indicator": "hba1c_measured", "name": "HbA1c gemeten in de afgelopen 12 maanden",
     "score": 86.0, "numerator": 172, "denominator": 200, "target": 90.0, "national_average": 92.0,
     "national_average_year": 2024},
    {"programme": "dm2", "indicator": "foot_exam", "name": "Voetonderzoek in de afgelopen 12 maanden",
     "score": 81.5, "numerator": 163, "denominator": 200, "target": 80.0, "national_average": 84.0,
     "national_average_year": 2024},
    {"programme": "copd", "indicator": "inhaler_checked", "name": "Inhalatietechniek gecontroleerd",
     "score": 70.0, "numerator": 56, "denominator": 80, "target": 75.0, "national_average": None},
]


_GOAL = {"programme": "dm2", "indicator": "hba1c_measured", "name": "HbA1c gemeten in de afgelopen 12 maanden",
         "target": 90, "by": "2025-09-30", "status": "not_met", "score": 84.0, "numerator": 168, "denominator": 200,
         "period_end": "2025-09-30", "interval_low": 78.3, "interval_high": 88.4}


_CONDITION = {"condition": "policy_plan", "name": "beleidsplan met jaarverslag", "answer": "partly",
              "note": "Beleidsplan 2025 klaar, jaarverslag 2024 nog niet"}


def _board(kind: str, payload: dict[str, Any]) -> OutboxMessage:
    subject = SUBJECTS_NL[kind].format(practice=_PRACTICE["name"], agb=_PRACTICE["agb_code"])
    return OutboxMessage(key=f"{kind}:01234567:{payload['seq']}:bestuur@cohaesie.example", kind=kind,
                         agb_code="01234567", recipient_name="B. de Vries",
                         recipient_email="bestuur@cohaesie.example", recipient_role="board", subject=subject,
                         payload=payload)


def _practice_message(kind: str, key: str, to: dict[str, Any], subject: str,
                      payload: dict[str, Any]) -> OutboxMessage:
    """A sample message about De Linde to ``to`` (role, name, email); the payload begins with the care group and
    the practice, as every message about a practice does."""
    return OutboxMessage(key=key, kind=kind, agb_code="01234567", recipient_name=to["name"],
                         recipient_email=to["email"], recipient_role=to["role"], subject=subject,
                         payload={"care_group": {"name": "Cohaesie"}, "practice": dict(_PRACTICE), **payload})


def _board_payload(trigger: str, from_state: str, to_state: str, at: str, seq: int,
                   reasons: list[dict[str, Any]], plan: str | None = "2024-04-29") -> dict[str, Any]:
    return {"practice": dict(_PRACTICE), "trigger": trigger, "from_state": from_state, "to_state": to_state,
            "at": at, "seq": seq, "plan_agreed_on": plan, "reasons": reasons}


def sample_messages() -> dict[str, OutboxMessage]:
    """One realistic message of every kind, for ``qualitycycle preview`` and the template tests."""
    from notifications.charts import Series, practice_chart_svg

    chart = practice_chart_svg("Huisartsenpraktijk De Linde (01234567)", [
        Series("dm2/hba1c_measured", "HbA1c gemeten in de afgelopen 12 maanden",
               [(date(2024, m, 28), v) for m, v in ((3, 60.0), (6, 61.0), (9, 63.0), (12, 64.0))],
               target=90.0, national={2024: 92.0}),
    ])
    recovered = {**_REASON, "rule": "recovered", "period_end": "2025-12-31", "score": 91.0, "numerator": 91,
                 "reference": "target", "reference_value": 90.0, "reference_year": None, "threshold": 90.0,
                 "baseline_period_end": None, "baseline_score": None, "improvement_points": None,
                 "explanation": "dm2/hba1c_measured: 91,0% haalt de streefwaarde 90,0%"}
    people: list[dict[str, Any]] = [
        {"role": "gp_principal", "name": "C. Bakker", "email": "c.bakker@delinde.example"},
        {"role": "poh_chronic", "name": "D. Mulder", "email": "d.mulder@delinde.example"},
        {"role": "poh_elderly", "name": "E. Kok", "email": None},
        _OFFICER, _OFFICER_2,
    ]
    conversation = {"kind": "annual", "start": "2025-11-04T14:00:00+01:00", "end": "2025-11-04T15:30:00+01:00",
                    "location": "Huisartsenpraktijk De Linde, Lindelaan 1, Voorbeeldstad"}
    samples = [
        _board("board_escalation", _board_payload(
            "escalate", "improvement_plan", "underperformer_policy", "2025-05-05T07:00:00+02:00", 5, [_REASON],
        ) | {"chart_svg": chart}),
        _board("board_progress", _board_payload(
            "report_progress", "underperformer_policy", "underperformer_policy", "2025-08-04T07:00:00+02:00", 6, [],
        ) | {"indicators": [{**_INDICATORS[0], "score": 70.0, "numerator": 140, "period_end": "2025-06-30",
                             "baseline_score": 60.0, "improvement_points": 10.0}],
             "progress_every_months": 3}),
        _board("board_recovery", _board_payload(
            "recover", "underperformer_policy", "annual_cycle", "2026-02-09T07:00:00+01:00", 8, [recovered],
        )),
        _board("board_left", _board_payload(
            "leave", "underperformer_policy", "left", "2025-10-01T09:30:00+02:00", 7,
            [{"explanation": "praktijk gestopt per 1 januari 2026"}],
        )),
        OutboxMessage(
            key="board_digest:2025-Q3:bestuur@cohaesie.example", kind="board_digest", agb_code=None,
            recipient_name="B. de Vries", recipient_email="bestuur@cohaesie.example", recipient_role="board",
            subject="Kwartaaloverzicht verbetertrajecten (beleid minder presterende praktijken), juli-september 2025",
            payload={"care_group": {"name": "Cohaesie"}, "period": {"start": "2025-07-01", "end": "2025-09-30"},
                     "interval_months": 3, "trajectories": [{
                         "practice": dict(_PRACTICE), "entered_policy_at": "2025-05-05T07:00:00+02:00",
                         "plan_agreed_on": "2024-04-29",
                         "indicators": [{"programme": "dm2", "indicator": "hba1c_measured",
                                         "name": "HbA1c gemeten in de afgelopen 12 maanden",
                                         "period_end": "2025-06-30", "score": 70.0, "national_average": 92.0,
                                         "national_average_year": 2024, "baseline_score": 60.0,
                                         "improvement_points": 10.0}]}],
                     "around": [{"part": "meetings", "label": "POH-overleg gehouden", "count": 1, "practices": []},
                                {"part": "training", "label": "mensen over tijd met een verplichte scholing",
                                 "count": 2, "practices": ["Huisartsenpraktijk De Linde (2)"]}]}),
        _practice_message(
            "conversation_invitation", "conversation_invitation:01234567:annual:2025-11-04:c.bakker@delinde.example",
            people[0], "Uitnodiging kwaliteitsjaargesprek Huisartsenpraktijk De Linde, dinsdag 4 november 2025",
            {"conversation": {**conversation, "programme": None},
             "organizer": _OFFICER, "attendees": people,
             "prepare": {"period_end": "2025-06-30", "indicators": _INDICATORS,
                         "agreements": ["Oproepsysteem Kompas inrichten voor DM2-controles",
                                        "Coaching on the job voor de POH bij inhalatie-instructie"],
                         "agreements_from": "2024-11-12",
                         "open_agreements": [
                             {"id": "8b1e0c2d4f6a", "text": "Oproepsysteem Kompas inrichten voor DM2-controles",
                              "owner": "practice", "due": "2025-06-30", "made_on": "2024-11-12"},
                             {"id": "c4d5e6f7a8b9", "text": "Coaching on the job voor de POH bij inhalatie-instructie",
                              "owner": "care_group", "due": "2025-03-31", "made_on": "2024-11-12",
                              "proposed_outcome": "met",
                              "support_done": [{"what": "support", "kind": "coaching", "on": "2025-03-04",
                                                "half_days": 2}]}],
                         "goals": [_GOAL],
                         "checklist": {"filled_on": "2025-10-06", "open_conditions": [_CONDITION]},
                         "leaflets": [{"programme": "dm2", "title": "Diabetes type 2: wat kunt u zelf doen?",
                                       "url": "https://www.cohaesie.nl/folders/diabetes-zelf-doen.pdf"}]},
             "calendar_key": "conversation:01234567:annual:2025-11-04", "chart_svg": chart}),
        _practice_message(
            "conversation_reminder", "conversation_reminder:01234567:annual:2025-11-04:praktijk@delinde.example",
            _PRACTICE_INBOX, "Herinnering: kwaliteitsjaargesprek op dinsdag 4 november 2025",
            {"conversation": conversation, "organizer": _OFFICER,
             "prepare": {"period_end": "2025-06-30", "indicators": _INDICATORS[:2], "agreements": []}}),
        _practice_message(
            "conversation_overdue", "conversation_overdue:01234567:annual:2025-11-14:a.jansen@cohaesie.example",
            _OFFICER, "Kwaliteitsjaargesprek Huisartsenpraktijk De Linde is over tijd",
            {"conversation": {"kind": "annual", "due_on": "2025-11-14"}, "state": "annual_cycle",
             "last_held_on": "2024-11-12"}),
        _practice_message(
            "meeting_invitation", "meeting_invitation:poh_meeting:2025-03-12:d.mulder@delinde.example",
            people[1], "Uitnodiging POH-overleg woensdag 12 maart 2025",
            {"meeting": {"kind": "poh_meeting", "start": "2025-03-12T19:00:00+01:00",
                         "end": "2025-03-12T21:00:00+01:00",
                         "location": "Cohaesie, Stationsplein 3, Voorbeeldstad",
                         "topics": ["Nieuwe NHG-standaard astma", "Ervaringen met het oproepsysteem"]},
             "organizer": _OFFICER, "calendar_key": "poh_meeting:2025-03-12"}),
        _practice_message(
            "kit_refresh_due", "kit_refresh_due:01234567:2026-03-01:praktijk@delinde.example",
            _PRACTICE_INBOX, "Instructiekoffers van Huisartsenpraktijk De Linde worden geactualiseerd",
            {"kits": [{"kind": "inhalation", "last_refreshed_on": "2024-03-01", "due_on": "2026-03-01"},
                      {"kind": "insulin", "last_refreshed_on": None, "due_on": "2026-03-01"}],
             "contact": _OFFICER}),
        _practice_message(
            "training_due", "training_due:01234567:poh_chronic:D. Mulder:caspir:2026-01-31",
            people[1], "Verplichte scholing: Caspir-cursus voor 31 januari 2026",
            {"person": {"name": "D. Mulder", "role": "poh_chronic"},
             "courses": [{"code": "caspir", "name": "Caspir-cursus (spirometrie)", "due_on": "2026-01-31",
                          "last_completed_on": "2023-01-20", "url": "https://www.cohaesie.nl/scholingen"}]}),
        _practice_message(
            "training_overdue", "training_overdue:01234567:poh_chronic:D. Mulder:caspir:2026-01-31:"
            "d.mulder@delinde.example", people[1],
            "Verplichte scholing verlopen: Caspir-cursus (spirometrie) voor D. Mulder (uiterlijk 31 januari 2026)",
            {"person": {"name": "D. Mulder", "role": "poh_chronic"},
             "course": {"code": "caspir", "name": "Caspir-cursus (spirometrie)", "due_on": "2026-01-31",
                        "last_completed_on": "2023-01-20", "url": "https://www.cohaesie.nl/scholingen"}}),
        _practice_message(
            "goal_judged", "goal_judged:3f2a9c1d7e4b:praktijk@delinde.example", _PRACTICE_INBOX,
            "Doel HbA1c gemeten in de afgelopen 12 maanden van Huisartsenpraktijk De Linde: niet gehaald",
            {"goal": _GOAL, "set_on": "2024-11-12",
             "reason": "dm2/hba1c_measured: 84,0% (168/200, 95%-interval 78,3%-88,4%) over de periode tot "
                       "2025-09-30 blijft onder het doel 90,0% (6,0 procentpunt te weinig)"}),
        _practice_message(
            "agreement_overdue", "agreement_overdue:8b1e0c2d4f6a:praktijk@delinde.example", _PRACTICE_INBOX,
            "Afspraak over tijd: Huisartsenpraktijk De Linde, 30 juni 2025",
            {"agreement": {"id": "8b1e0c2d4f6a", "text": "POH plant voetonderzoek bij alle dm2-patiënten",
                           "owner": "practice", "due": "2025-06-30", "made_on": "2024-11-12"}}),
        _practice_message(
            "mirror_meeting_invitation",
            "mirror_meeting_invitation:mirror_meeting:HAGRO-WEST:3b9f0a1c2d4e:2025-05-13:01234567:"
            "c.bakker@delinde.example", people[0],
            "Uitnodiging spiegelbijeenkomst huisartsengroep HAGRO-WEST, dinsdag 13 mei 2025",
            {"gp_group": {"code": "HAGRO-WEST", "name": "HAGRO-WEST"},
             "meeting": {"kind": "mirror_meeting", "start": "2025-05-13T19:00:00+02:00",
                         "end": "2025-05-13T21:00:00+02:00", "location": "Cohaesie, Stationsplein 3, Voorbeeldstad",
                         "topics": ["De indicatoren van de praktijken naast elkaar", "Van elkaar leren"]},
             "organizer": _OFFICER, "calendar_key": "mirror_meeting:HAGRO-WEST:3b9f0a1c2d4e",
             "calendar_sequence": 0,
             "pack": {"period_end": "2025-03-31", "anonymised": True, "min_denominator": 10, "indicators": [{
                 "programme": "dm2", "indicator": "hba1c_measured", "name": "HbA1c gemeten in de afgelopen 12 maanden",
                 "target": 90, "national_average": 92.0, "national_average_year": 2024,
                 "spread": {"practices": 24, "median": 91.5, "p10": 84.0, "p90": 96.0},
                 "practices": [{"label": "Praktijk A", "score": 86.0, "numerator": 172, "denominator": 200},
                               {"label": "Praktijk B", "score": 94.5, "numerator": 189, "denominator": 200},
                               {"label": "Praktijk C", "score": 87.5, "numerator": 7, "denominator": 8,
                                "small_numbers": True}]}]}}),
        OutboxMessage(
            key="mirror_accreditation_request:3b9f0a1c2d4e:ekc@hagrowest.example", kind="mirror_accreditation_request",
            agb_code=None, recipient_name="R. Visser", recipient_email="ekc@hagrowest.example", recipient_role="ekc",
            subject="Accreditatieaanvraag spiegelbijeenkomst huisartsengroep HAGRO-WEST van 13 mei 2025",
            payload={"care_group": {"name": "Cohaesie"}, "gp_group": {"code": "HAGRO-WEST", "name": "HAGRO-WEST"},
                     "meeting_id": "3b9f0a1c2d4e", "held_on": "2025-05-13",
                     "attendees": [{"role": "gp_principal", "name": "C. Bakker", "email": None},
                                   {"role": "poh_chronic", "name": "D. Mulder", "email": None}],
                     "requested_by": _OFFICER}),
        _practice_message(
            "checklist_due", "checklist_due:01234567:2025-10-07:praktijk@delinde.example", _PRACTICE_INBOX,
            "Checklist kwaliteitssysteem Huisartsenpraktijk De Linde: graag invullen voor 7 oktober 2025",
            {"due_on": "2025-10-07", "conversation_on": "2025-11-04", "last_filled_on": "2024-10-08",
             "open_conditions": [_CONDITION],
             "conditions": [{"condition": c.value, "name": name, "answer": ""}
                            for c, name in CONDITION_NAMES_NL.items()
                            if c.value != "dispensing_quality_system"]}),
        _practice_message(
            "accreditation_due", "accreditation_due:01234567:valid_until:2026-03-31:praktijk@delinde.example",
            _PRACTICE_INBOX, "NHG-praktijkaccreditering van Huisartsenpraktijk De Linde: loopt af op 31 maart 2026",
            {"what": "valid_until", "due_on": "2026-03-31", "valid_until": "2026-03-31", "audited_on": "2023-05-10"}),
        _practice_message(
            "cards_published", "cards_published:2026.1:01234567:praktijk@delinde.example", _PRACTICE_INBOX,
            "Nieuwe instructiekaarten (versie 2026.1) voor de kwaliteitsmap van Huisartsenpraktijk De Linde",
            {"cards": {"version": "2026.1", "published_on": "2026-03-02",
                       "note": "Kaart inhalatie-instructie herzien naar de NHG-standaard astma 2025; kaart "
                               "voetonderzoek dm2 nieuw"},
             "current_by": "2026-04-13", "folder_version": "2025.2"}),
        OutboxMessage(
            key="cards_behind:2026.1:a.jansen@cohaesie.example", kind="cards_behind", agb_code=None,
            recipient_name="A. Jansen", recipient_email="a.jansen@cohaesie.example", recipient_role="officer",
            subject="Kwaliteitsmap niet bijgewerkt: 1 praktijk nog niet op instructiekaarten versie 2026.1",
            payload={"care_group": {"name": "Cohaesie"},
                     "cards": {"version": "2026.1", "published_on": "2026-03-02"}, "current_by": "2026-04-13",
                     "practices": [{"practice": dict(_PRACTICE), "version": "2025.2", "current_on": "2025-10-06",
                                    "behind_since": "2026-03-02"}]}),
        _practice_message(
            "network_plan_due", "network_plan_due:HAGRO-NOORD:2026-03-02:01234567:praktijk@delinde.example",
            _PRACTICE_INBOX, "Jaarlijkse evaluatie netwerkplan huisartsengroep Hagro Noord: uiterlijk 2 maart 2026",
            {"gp_group": {"code": "HAGRO-NOORD", "name": "Hagro Noord"}, "due_on": "2026-03-02",
             "agreed_on": "2025-03-03", "last_evaluated_on": None,
             "partners": [{"name": "Thuiszorg De Wijk", "kind": "district_nursing"},
                          {"name": "Gemeente Noorderveld", "kind": "municipality"}]}),
        _practice_message(
            "missing_address",
            "missing_address:01234567:practice:Huisartsenpraktijk De Linde:a.jansen@cohaesie.example",
            _OFFICER, "Bericht niet verstuurd: geen e-mailadres voor Huisartsenpraktijk De Linde",
            {"held": {"key": "kit_refresh_due:01234567:2026-03-01:-", "kind": "kit_refresh_due",
                      "subject": "Instructiekoffers van Huisartsenpraktijk De Linde worden geactualiseerd",
                      "recipient_name": "Huisartsenpraktijk De Linde", "recipient_role": "practice"},
             "reason": "geen e-mailadres bekend voor Huisartsenpraktijk De Linde (praktijk 01234567)"}),
    ]
    return {m.kind: m for m in samples}
