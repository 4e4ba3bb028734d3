"""Deliver the outbox: render each due message and send it over a channel, exactly once as the recipient sees it.

For each due row: find its address in the registry now (``notifications.addresses.resolve_address``, the one
place an address is resolved; a practice's message only ever goes to an address registered for that practice);
record the attempt (``sending``, attempts + 1) and COMMIT; render and send; mark ``sent`` and commit. A failure
puts the row back to ``pending`` until ``now + backoff * 2**(attempts - 1)``, and after ``max_attempts`` into
``failed``.

Invariants:
- A claim holds a row for ``reclaim_after`` of real time, measured by the database's clock (a lease): no other
  dispatcher takes it before, whatever logical moment it works for, so two dispatchers never send a message
  twice. A crash between sending and marking leaves the row in ``sending``; the next dispatch after the lease
  sends it again with the same ``Message-ID`` (derived from the key), so a
  mail client shows one message, and the ``.eml`` channel overwrites the same file.
- A message without a usable address is never attempted: it stays ``pending`` with the reason in
  ``last_error``, and the care group's officers (else the care group's address) get one
  ``missing_address`` notice per recipient lacking an address, whose key makes it once, however
  often the dispatcher runs.
- A recipient the mail server refuses for good (a 5xx reply) is not tried again at that address: the message is
  held with the reason and the officers get one notice naming the refused address; it goes as soon as the
  registry gives the recipient another address. A 4xx reply or an outage is retried with backoff.
- Running the dispatcher again for the same moment sends nothing new.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from domain.clock import as_amsterdam
from domain.errors import InputError
from domain.messages import OutboxMessage
from domain.registry import Registry
from flows.services.context import Services
from flows.services.queries import held_messages_by_practice
from flows.services.settings import Settings
from notifications.addresses import resolve_address
from notifications.channels import Channel, DeliveryError, EmlFolderChannel, SmtpChannel, message_bytes
from notifications.compose import missing_address_messages
from notifications.rendering import RenderError, message_id, render
from storage import repository as repo
from storage.tables import OutboxRow

REFUSED = "adres blijvend geweigerd: "  # last_error of a message held after a 5xx refusal of its address


@dataclass(frozen=True)
class Problem:
    key: str
    agb_code: str | None
    recipient: str
    reason: str
    next_attempt_at: datetime | None = None
    kind: str = ""


@dataclass
class DispatchReport:
    """What one dispatch did, for an operator."""

    moment: datetime
    channel: str
    sent: list[str] = field(default_factory=list)  # keys delivered by this dispatch
    sent_to: list[tuple[str | None, str, str]] = field(default_factory=list)  # of those: (agb_code, kind, who)
    resent: list[str] = field(default_factory=list)  # of those: found in "sending" after a crash (same Message-ID)
    retrying: list[Problem] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    held: list[Problem] = field(default_factory=list)
    notices_queued: int = 0
    skipped: int = 0  # claimed by another dispatcher in the meantime

    @property
    def sent_kinds(self) -> Counter[str]:
        return Counter(kind for _, kind, _ in self.sent_to)

    @property
    def nothing_to_do(self) -> bool:
        return not (self.sent or self.retrying or self.failed or self.held)


def channel_from_settings(settings: Settings, home: Path | None = None) -> Channel:
    """SMTP when ``QC_SMTP_HOST`` is set, else ``.eml`` files in ``<QC_HOME>/outbox``."""
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpChannel(host=settings.smtp_host, port=settings.smtp_port_or_default(),
                           security=settings.smtp_security, user=settings.smtp_user or None, password=password,
                           allow_plain_auth=settings.smtp_allow_plain_auth)
    return EmlFolderChannel((home or settings.home) / "outbox")


def _as_message(row: OutboxRow, address: str) -> OutboxMessage:
    return OutboxMessage(key=row.key, kind=row.kind, agb_code=row.agb_code, recipient_name=row.recipient_name,
                         recipient_email=address, recipient_role=row.recipient_role, subject=row.subject,
                         payload=dict(row.payload or {}))


def dispatch_outbox(
    services: Services,
    channel: Channel,
    now: datetime,
    *,
    mail_from: str,
    max_attempts: int = 5,
    backoff: timedelta = timedelta(minutes=5),
    limit: int | None = None,
    reclaim_after: timedelta = timedelta(minutes=5),
) -> DispatchReport:
    """Send every message due at ``now`` (at most ``limit``); see the module's invariants."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    now = as_amsterdam(now)
    report = DispatchReport(moment=now, channel=str(channel))
    with services.session() as s:
        registry = repo.load_registry(s)
    seen: set[str] = set()
    while limit is None or len(seen) < limit:
        with services.session() as s:
            due = [r for r in repo.due_messages(s, now) if r.id not in seen]
        if not due:
            break  # notices queued on the way are picked up by the next round of this loop
        for row in due[: None if limit is None else limit - len(seen)]:
            seen.add(row.id)
            _deliver(services, channel, row, registry, now, report, mail_from=mail_from,
                     max_attempts=max_attempts, backoff=backoff, lease=reclaim_after)
    return report


def _deliver(services: Services, channel: Channel, row: OutboxRow, registry: Registry, now: datetime,
             report: DispatchReport, *, mail_from: str, max_attempts: int, backoff: timedelta,
             lease: timedelta) -> None:
    address, problem = resolve_address(row, registry)
    if address is None:
        reason = problem or "geen e-mailadres"
        with services.session() as s:
            repo.hold_message(s, row.id, reason)
            notices = missing_address_messages(row, reason, registry)
            report.notices_queued += repo.add_messages(s, notices, created_at=now)
            s.commit()
        report.held.append(Problem(row.key, row.agb_code, row.recipient_name, reason, kind=row.kind))
        return
    if (row.status == "pending" and row.next_attempt_at is None and (row.last_error or "").startswith(REFUSED)
            and address.lower() == (row.recipient_email or "").lower()):
        # refused for good at this address: not tried again until the registry gives the recipient another one
        report.held.append(Problem(row.key, row.agb_code, row.recipient_name, row.last_error or REFUSED,
                                   kind=row.kind))
        return
    if row.status == "sending" and row.attempts >= max_attempts:  # interrupted on its last attempt: stop here
        reason = (f"opgegeven na {row.attempts} pogingen: de laatste werd onderbroken (het bericht kan zijn "
                  f"afgeleverd); {row.last_error or 'geen foutmelding'}")
        with services.session() as s:
            repo.mark_failed(s, row.id, reason, attempts=row.attempts)
            s.commit()
        report.failed.append(Problem(row.key, row.agb_code, address, reason, kind=row.kind))
        return
    with services.session() as s:
        claimed = repo.claim_message(s, row.id, expected_status=row.status, expected_attempts=row.attempts,
                                     now=now, message_id=message_id(row.key), recipient_email=address,
                                     lease_seconds=lease.total_seconds())
        s.commit()  # the attempt is on record before anything leaves
    if not claimed:
        report.skipped += 1
        return
    attempts = row.attempts + 1
    try:
        msg = render(_as_message(row, address), mail_from=mail_from, now=now, care_group=registry.care_group.name)
        channel.send(msg)
    except (DeliveryError, RenderError) as exc:
        error = str(exc)
        with services.session() as s:
            if isinstance(exc, DeliveryError) and exc.permanent:
                # a 5xx refusal of the recipient: repeating it five times cannot help and tells nobody; hold the
                # message and tell the officers, who correct the address in the registry
                reason = f"{REFUSED}{address}: {error}"
                repo.mark_refused(s, row.id, reason, attempts=attempts)
                notices = missing_address_messages(row, reason, registry, refused=address)
                report.notices_queued += repo.add_messages(s, notices, created_at=now)
                report.held.append(Problem(row.key, row.agb_code, row.recipient_name, reason, kind=row.kind))
            elif attempts >= max_attempts:
                repo.mark_failed(s, row.id, f"opgegeven na {attempts} pogingen: {error}", attempts=attempts)
                report.failed.append(Problem(row.key, row.agb_code, address, error, kind=row.kind))
            else:
                retry_at = now + backoff * 2 ** (attempts - 1)
                repo.mark_retry(s, row.id, error, retry_at, attempts=attempts)
                report.retrying.append(Problem(row.key, row.agb_code, address, error, retry_at, kind=row.kind))
            s.commit()
        return
    with services.session() as s:
        repo.mark_sent(s, row.id, now, attempts=attempts)
        s.commit()
    report.sent.append(row.key)
    report.sent_to.append((row.agb_code, row.kind, f"{row.recipient_name} <{address}>"))
    if row.status == "sending":
        report.resent.append(row.key)


held_by_practice = held_messages_by_practice  # reasons messages wait for an address, per practice


@dataclass(frozen=True)
class Preview:
    """A sample message of one kind as it would be sent, for checking its wording: the headers, the text and
    HTML bodies, the whole message (``.eml``) and its calendar invite when the kind has one."""

    sender: str
    recipient: str
    subject: str
    text: str
    html: str
    eml: bytes
    calendar: bytes | None
    attachments: list[tuple[str, str]]  # (file name, content type)


class PreviewError(InputError):
    """A message kind that has no sample, or a sample that does not render."""


def preview(kind: str, *, mail_from: str, now: datetime) -> Preview:
    """The sample message of ``kind`` (``rendering.sample_messages``) rendered as it would be sent at ``now``."""
    from notifications.rendering import KINDS, sample_messages

    samples = sample_messages()
    if kind not in samples:
        raise PreviewError(f"onbekende berichtsoort {kind!r}: kies uit {', '.join(KINDS)}")
    try:
        msg = render(samples[kind], mail_from=mail_from, now=now)
    except RenderError as exc:
        raise PreviewError(str(exc)) from None
    body, html = msg.get_body(preferencelist=("plain",)), msg.get_body(preferencelist=("html",))
    attachments = list(msg.iter_attachments())
    invite = next((part for part in attachments if (part.get_filename() or "").endswith(".ics")), None)
    calendar: bytes | None = None
    if invite is not None:
        data = invite.get_payload(decode=True)
        calendar = data if isinstance(data, bytes) else b""
    return Preview(sender=str(msg["From"]), recipient=str(msg["To"]), subject=str(msg["Subject"]),
                   text=body.get_content() if body is not None else "",
                   html=html.get_content() if html is not None else "", eml=message_bytes(msg), calendar=calendar,
                   attachments=[(part.get_filename() or "", part.get_content_type()) for part in attachments])
