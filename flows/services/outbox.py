"""Deliver the outbox: render each due message and send it over a channel, exactly once as the recipient sees it.

The due rows are read ``PAGE`` at a time, oldest first, and once more from the first until a pass finds none
not seen before (notices queued on the way are sent by the same dispatch). For each due row: find its address in
the registry now (``notifications.addresses.resolve_address``, the one place an address is resolved; a
practice's message only ever goes to an address registered for that practice).
Then, ``CHUNK`` rows at a time: record their attempts (``sending``, attempts + 1) and COMMIT; render and send each;
record the outcomes (``sent``, or back to ``pending`` until ``now + backoff * 2**(attempts - 1)``, after
``max_attempts`` into ``failed``) and commit. A round of ``PARALLEL_FROM`` messages or more is rendered ahead by
worker processes (``_Renderer``): rendering is most of a message's cost and a pure function of it and the moment.

Invariants:
- A claim holds a row for ``reclaim_after`` of real time, measured by the database's clock (a lease): no other
  dispatcher takes it before, whatever logical moment it works for, so two dispatchers never send a message
  twice; a chunk still sending at half its lease records what went and renews the lease of the rest. A crash
  between sending and recording leaves the rows in ``sending`` (at most a chunk's); the next dispatch after the
  lease sends them again with the same ``Message-ID`` (derived from the key), so a mail client shows one
  message, and the ``.eml`` channel overwrites the same file; the attempt of each row claimed but not yet sent
  counts (on its last attempt such a row ends ``failed``, "may have been delivered", as one interrupted while
  sending does). An error or an interrupt is no crash: what went is recorded, the claims not yet sent released
  (the message being sent stays claimed: it may have left; the folder channel is handed ``BATCH`` files at once,
  and those stay claimed alike).
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

import functools
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
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
from notifications.channels import (
    Channel,
    DeliveryError,
    EmlFolderChannel,
    Rendered,
    SmtpChannel,
    held,
    message_bytes,
    send_all,
    sends_several,
)
from notifications.compose import missing_address_messages
from notifications.rendering import RenderError, message_id, render, render_all, renderer_started
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
    workers: int | None = None,
) -> DispatchReport:
    """Send every message due at ``now`` (at most ``limit``); see the module's invariants. ``workers``: processes
    that render a round of ``PARALLEL_FROM`` messages or more (None: one a core, at most four; 0 or 1: none)."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    now = as_amsterdam(now)
    report = DispatchReport(moment=now, channel=str(channel))
    with services.session() as s:
        registry = repo.load_registry(s)
    seen: set[str] = set()
    after: tuple[datetime, str] | None = None  # the last row read: the due rows are read a page at a time
    fresh = False  # whether this pass over the due rows has found one not seen before
    with _Renderer(mail_from=mail_from, now=now, care_group=registry.care_group.name, workers=workers) as renderer, \
            held(channel):  # an SMTP channel keeps one connection for the dispatch
        while limit is None or len(seen) < limit:
            with services.session() as s:
                page = repo.due_messages(s, now, limit=PAGE, after=after)
            if not page:
                if after is None or not fresh:
                    break
                after, fresh = None, False  # once more from the first: notices queued on the way are picked up
                continue
            after = (page[-1].created_at, page[-1].key)
            due = [r for r in page if r.id not in seen][: None if limit is None else limit - len(seen)]
            fresh = fresh or bool(due)
            seen.update(row.id for row in due)
            sendable = [(row, address) for row in due
                        if (address := _screen(services, row, registry, now, report, max_attempts)) is not None]
            for chunk in renderer.chunks(sendable):
                _deliver(services, channel, chunk, registry, now, report, max_attempts=max_attempts,
                         backoff=backoff, lease=reclaim_after)
    return report


def _screen(services: Services, row: OutboxRow, registry: Registry, now: datetime, report: DispatchReport,
            max_attempts: int) -> str | None:
    """The address to send ``row`` to now, or None when it is not attempted (held, refused there, given up)."""
    address, problem = resolve_address(row, registry)
    if address is None:
        reason = problem or "geen e-mailadres"
        with services.session() as s:
            repo.hold_message(s, row.id, reason)
            notices = missing_address_messages(row, reason, registry)
            report.notices_queued += repo.add_messages(s, notices, created_at=now)
            s.commit()
        report.held.append(Problem(row.key, row.agb_code, row.recipient_name, reason, kind=row.kind))
        return None
    if (row.status == "pending" and row.next_attempt_at is None and (row.last_error or "").startswith(REFUSED)
            and address.lower() == (row.recipient_email or "").lower()):
        # refused for good at this address: not tried again until the registry gives the recipient another one
        report.held.append(Problem(row.key, row.agb_code, row.recipient_name, row.last_error or REFUSED,
                                   kind=row.kind))
        return None
    if row.status == "sending" and row.attempts >= max_attempts:  # interrupted on its last attempt: stop here
        reason = (f"opgegeven na {row.attempts} pogingen: de laatste werd onderbroken (het bericht kan zijn "
                  f"afgeleverd); {row.last_error or 'geen foutmelding'}")
        with services.session() as s:
            repo.mark_failed(s, row.id, reason, attempts=row.attempts)
            s.commit()
        report.failed.append(Problem(row.key, row.agb_code, address, reason, kind=row.kind))
        return None
    return address


def _deliver(services: Services, channel: Channel, chunk: list[_Due], registry: Registry, now: datetime,
             report: DispatchReport, *, max_attempts: int, backoff: timedelta, lease: timedelta) -> None:
    """Claim a chunk in one transaction, send what was claimed, record the outcomes in the next one. A chunk
    still sending at half its lease renews the lease of what it has not sent yet (a slow mail server must not let
    a claim run out under a message still to go). Whatever stops the chunk half-way (an error, an interrupt),
    the outcomes so far are recorded and the claims not yet sent released; only a hard crash leaves them (and the
    messages sent since the claim, to be sent again with the same ``Message-ID``) to the lease."""
    with services.session() as s:
        claimed = repo.claim_messages(
            s, [repo.Claim(d.row.id, d.row.status, d.row.attempts, message_id(d.row.key), d.address) for d in chunk],
            now=now, lease_seconds=lease.total_seconds())
        s.commit()  # the attempts are on record before anything leaves
    renew_at = time.monotonic() + lease.total_seconds() / 2
    # a channel that sends several at once (the folder's) is given a batch; another one message at a time, so that
    # the lease is looked at between any two messages (an SMTP server may take its time over each)
    batch = BATCH if sends_several(channel) else 1
    sent: list[_Due] = []
    failed: list[tuple[_Due, DeliveryError | RenderError]] = []
    unsent = [d for d in chunk if d.row.id in claimed]
    report.skipped += len(chunk) - len(unsent)
    try:
        while unsent:
            if (sent or failed) and time.monotonic() >= renew_at:
                # half the lease gone: what was sent is recorded, what is still to go held for another lease
                held = _record(services, sent, failed, [], registry, now, report, max_attempts=max_attempts,
                               backoff=backoff, renew=(unsent, lease))
                sent, failed = [], []
                report.skipped += sum(1 for d in unsent if d.row.id not in held)
                unsent = [d for d in unsent if d.row.id in held]
                renew_at = time.monotonic() + lease.total_seconds() / 2
                continue
            ready: list[tuple[_Due, Rendered]] = []
            while len(ready) < batch and len(ready) < len(unsent):
                due = unsent[len(ready)]
                try:
                    ready.append((due, due.rendered()))  # interrupted while waiting for it, the claims are released
                except RenderError as exc:
                    failed.append((unsent.pop(len(ready)), exc))
            # out of ``unsent`` before they go: interrupted in sending, they stay claimed (they may have left)
            del unsent[:len(ready)]
            for (due, _), outcome in zip(ready, send_all(channel, [m for _, m in ready]), strict=True):
                if outcome is None:
                    sent.append(due)
                else:
                    failed.append((due, outcome))
    finally:
        _record(services, sent, failed, unsent, registry, now, report, max_attempts=max_attempts, backoff=backoff)


def _record(services: Services, sent: list[_Due], failed: list[tuple[_Due, DeliveryError | RenderError]],
            unsent: list[_Due], registry: Registry, now: datetime, report: DispatchReport, *, max_attempts: int,
            backoff: timedelta, renew: tuple[list[_Due], timedelta] | None = None) -> set[str]:
    """In one transaction: the outcomes of what was attempted, the claims of ``unsent`` released, and those of
    ``renew`` held for another lease (the ids still held are returned)."""
    held: set[str] = set()
    told: list[tuple[list[Problem], Problem]] = []  # (report list, problem): reported once the outcomes are committed
    notices = 0
    with services.session() as s:
        repo.mark_all_sent(s, [(d.row.id, d.row.attempts + 1) for d in sent], now)
        for due, exc in failed:
            row, address, attempts, error = due.row, due.address, due.row.attempts + 1, str(exc)
            if isinstance(exc, DeliveryError) and exc.permanent:
                # a 5xx refusal of the recipient: repeating it five times cannot help and tells nobody; hold the
                # message and tell the officers, who correct the address in the registry
                reason = f"{REFUSED}{address}: {error}"
                repo.mark_refused(s, row.id, reason, attempts=attempts)
                notices += repo.add_messages(s, missing_address_messages(row, reason, registry, refused=address),
                                             created_at=now)
                told.append((report.held, Problem(row.key, row.agb_code, row.recipient_name, reason, kind=row.kind)))
            elif attempts >= max_attempts:
                repo.mark_failed(s, row.id, f"opgegeven na {attempts} pogingen: {error}", attempts=attempts)
                told.append((report.failed, Problem(row.key, row.agb_code, address, error, kind=row.kind)))
            else:
                retry_at = now + backoff * 2 ** (attempts - 1)
                repo.mark_retry(s, row.id, error, retry_at, attempts=attempts)
                told.append((report.retrying, Problem(row.key, row.agb_code, address, error, retry_at,
                                                      kind=row.kind)))
        for due in unsent:
            repo.release_claim(s, due.row)
        if renew is not None:
            held = repo.renew_claims(s, [(d.row.id, d.row.attempts + 1) for d in renew[0]],
                                     lease_seconds=renew[1].total_seconds())
        s.commit()
    report.notices_queued += notices
    for into, problem in told:
        into.append(problem)
    for due in sent:
        report.sent.append(due.row.key)
        report.sent_to.append((due.row.agb_code, due.row.kind, f"{due.row.recipient_name} <{due.address}>"))
        if due.row.status == "sending":
            report.resent.append(due.row.key)
    return held


PAGE = 2_000  # due rows read at once (a round of 40,000 read whole held 700 MB)
CHUNK = 50  # messages claimed in one transaction, and their outcomes recorded in the next
BATCH = 16  # messages handed at once to a channel that sends several at a time (``send_many``)
PARALLEL_FROM = 200  # a round of this many messages or more is rendered by worker processes
AHEAD = 4  # chunks rendered by the workers ahead of the one being sent
GROUP = 16  # most messages of one payload a worker renders in one go


def _cores() -> int:
    """The cores this process may run on (its affinity, which a container's CPU set limits), else all."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass
class _Due:
    """A due message this dispatch will attempt: its row, its address now, and its rendering (made ahead by a
    worker, or made when asked)."""

    row: OutboxRow
    address: str
    result: Callable[[], Rendered | RenderError]

    def rendered(self) -> Rendered:
        done = self.result()
        if isinstance(done, RenderError):
            raise done
        return done


class _Renderer:
    """Renders the messages of a dispatch: where they are sent, one by one, or for a round of ``PARALLEL_FROM``
    or more, ahead in worker processes (rendering, three quarters of sending a message to a folder, is a pure
    function of the message and the moment; the parent only claims, writes and records). Messages that share a
    payload go to one worker together, so an invitation's pack is made once for its recipients; a rendering is
    let go once its messages are sent."""

    def __init__(self, *, mail_from: str, now: datetime, care_group: str, workers: int | None) -> None:
        self.mail_from, self.now, self.care_group = mail_from, now, care_group
        self.workers = min(_cores(), 4) if workers is None else workers
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def _inline(self, message: OutboxMessage) -> Rendered | RenderError:
        return render_all([message], mail_from=self.mail_from, now=self.now, care_group=self.care_group)[0]

    def chunks(self, sendable: list[tuple[OutboxRow, str]]) -> Iterator[list[_Due]]:
        messages = [_as_message(row, address) for row, address in sendable]
        if self.workers < 2 or len(messages) < PARALLEL_FROM:
            for i in range(0, len(messages), CHUNK):
                yield [_Due(row, address, functools.partial(self._inline, message))
                       for (row, address), message in zip(sendable[i:i + CHUNK], messages[i:i + CHUNK], strict=True)]
            return
        if self.pool is None:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=renderer_started)
        pool = self.pool
        groups: list[tuple[int, int]] = []  # [start, end) of consecutive messages with one payload
        for i, message in enumerate(messages):
            if groups and i - groups[-1][0] < GROUP and message.payload == messages[groups[-1][0]].payload:
                groups[-1] = (groups[-1][0], i + 1)
            else:
                groups.append((i, i + 1))
        # by message: its share of its group's rendering, from the group's submission until the message is sent
        # (a rendering is let go with its last message)
        slots: dict[int, tuple[Future[list[Rendered | RenderError]], int]] = {}
        submitted = 0  # groups handed to the workers
        for i in range(0, len(messages), CHUNK):
            while submitted < len(groups) and groups[submitted][0] < i + (1 + AHEAD) * CHUNK:
                start, end = groups[submitted]
                future = pool.submit(render_all, messages[start:end], mail_from=self.mail_from, now=self.now,
                                     care_group=self.care_group)
                slots.update((start + position, (future, position)) for position in range(end - start))
                submitted += 1
            yield [_Due(row, address, functools.partial(_share, *slots.pop(j)))
                   for j, (row, address) in enumerate(sendable[i:i + CHUNK], start=i)]


def _share(future: Future[list[Rendered | RenderError]], position: int) -> Rendered | RenderError:
    return future.result()[position]


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
