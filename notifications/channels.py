"""Where a rendered message goes: an SMTP server, or ``.eml`` files in a folder.

A channel sends a ``Rendered`` message (its key, envelope and bytes: what a worker process that renders gives
back, ``flows.services.outbox``) or an ``EmailMessage``, which it turns into one.

Invariants: both channels carry the same RFC 5322 bytes (CRLF line ends, as SMTP sends them);
a channel either delivers the whole message or raises ``DeliveryError`` with a Dutch reason
(refused, unreachable, folder not writable); the folder channel writes atomically and durably (temporary
file, its contents on disk, then rename, then the folder on disk) and names the file after the message's
key, so sending the same message again replaces the file instead of adding a second copy.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import re
import smtplib
import ssl
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import getaddresses
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

Security = Literal["none", "starttls", "tls"]
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "tls": 465}
KEY_HEADER = "X-Qualitycycle-Key"


class DeliveryError(Exception):
    """A message could not be delivered this time (refused, unreachable, not writable); try again later.

    ``permanent``: the server refused the recipient or the message with a 5xx reply (RFC 5321: "do not repeat
    the exact request"), so trying the same address again cannot help; a 4xx reply, an outage or a refused login
    (the care group's own settings, fixed once for all messages) is worth retrying."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Rendered:
    """A message as it travels: the key it was queued under (``KEY_HEADER``), its envelope (the addresses of
    ``From`` and ``To``) and its bytes. Bytes, because a message rendered in another process crosses back as them
    cheaply: an ``EmailMessage`` took 2.2 ms to unpickle, more than half of what rendering it took (3.6 ms)."""

    key: str | None
    sender: str
    recipient: str
    data: bytes

    @property
    def international(self) -> bool:
        """An address outside ASCII: SMTP must be asked for SMTPUTF8, and the headers carry UTF-8 (RFC 6531)."""
        return _international(self.sender, self.recipient)

    @classmethod
    def of(cls, msg: EmailMessage) -> Rendered:
        """``msg`` as smtplib's ``send_message`` would transmit it (its envelope read from ``From`` and ``To``);
        a message goes to one recipient, so one with ``Cc`` or ``Bcc`` is refused."""
        if msg.get("Cc") or msg.get("Bcc"):
            raise ValueError("een bericht gaat naar één ontvanger: Cc en Bcc worden niet verstuurd")
        sender = next((a for _, a in getaddresses([str(msg.get("From", ""))]) if a), "")
        recipient = next((a for _, a in getaddresses([str(msg.get("To", ""))]) if a), "")
        key = msg.get(KEY_HEADER) or msg.get("Message-ID")
        data = message_bytes(msg, utf8=_international(sender, recipient))
        return cls(key=str(key) if key else None, sender=sender, recipient=recipient, data=data)


def _international(*addresses: str) -> bool:
    return not all(address.isascii() for address in addresses)


def rendered(msg: EmailMessage | Rendered) -> Rendered:
    return msg if isinstance(msg, Rendered) else Rendered.of(msg)


class Channel(Protocol):
    def send(self, msg: EmailMessage | Rendered) -> None: ...


def sends_several(channel: Channel) -> bool:
    """Whether the channel sends several messages at once (``send_many``, the folder's)."""
    return getattr(channel, "send_many", None) is not None


def send_all(channel: Channel, messages: Sequence[Rendered]) -> list[DeliveryError | None]:
    """Send each message: for each, in order, None (sent) or why it was not. A channel that sends several at once
    does; another sends them one by one."""
    many = getattr(channel, "send_many", None)  # as ``sends_several`` asks
    if many is not None:
        return list(many(messages))
    return [_outcome(channel, message) for message in messages]


def _outcome(channel: Channel, message: Rendered) -> DeliveryError | None:
    try:
        channel.send(message)
    except DeliveryError as exc:
        return exc
    return None


def message_bytes(msg: EmailMessage, *, utf8: bool = False) -> bytes:
    """The message as it travels: RFC 5322 with CRLF line ends, exactly what SMTP transmits (``utf8``: headers in
    UTF-8, for an address outside ASCII, as smtplib flattens such a message)."""
    policy = msg.policy
    if utf8 and isinstance(policy, EmailPolicy):
        policy = policy.clone(utf8=True)
    return msg.as_bytes(policy=policy.clone(linesep="\r\n"))


@dataclass
class SmtpChannel:
    """Deliver over SMTP; ``security`` is ``none`` (plain, port 25), ``starttls`` (587) or ``tls`` (465)."""

    host: str
    port: int | None = None
    security: Security = "none"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    allow_plain_auth: bool = False  # a login without TLS: only for a relay on this machine (QC_SMTP_ALLOW_PLAIN_AUTH)
    _smtp: smtplib.SMTP | None = field(default=None, init=False, repr=False, compare=False)  # the held connection
    _held: bool = field(default=False, init=False, repr=False, compare=False)
    _used: float = field(default=0.0, init=False, repr=False, compare=False)  # when it last sent (monotonic)

    def __post_init__(self) -> None:
        if self.security not in DEFAULT_PORTS:
            raise ValueError(f"onbekende SMTP-beveiliging {self.security!r}: kies none, starttls of tls")
        if self.user and self.security == "none" and not self.allow_plain_auth:
            # smtplib would send AUTH PLAIN, the password in base64, over the open line for every message
            raise ValueError("inloggen bij de mailserver zonder TLS zou het wachtwoord onversleuteld versturen: kies "
                             "starttls of tls (QC_SMTP_SECURITY)")

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    def __str__(self) -> str:
        login = f", als {self.user}" if self.user else ""
        return f"SMTP {self.host}:{self.effective_port} ({self.security}{login})"

    def context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()

    def connect(self) -> smtplib.SMTP:
        """An open, greeted (and, when configured, encrypted and logged-in) connection."""
        if self.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.effective_port, timeout=self.timeout,
                                                  context=self.context())
        else:
            smtp = smtplib.SMTP(self.host, self.effective_port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.security == "starttls":
                smtp.starttls(context=self.context())
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    @contextmanager
    def held(self) -> Iterator[None]:
        """Within, the messages sent share one connection, opened for the first and closed at the end: a
        connection of its own per message (connect, EHLO, STARTTLS, login, QUIT) took 4.3 ms a message against
        1.0 ms on a held one (a server on this machine with STARTTLS and a login; against a server elsewhere each
        of those steps is a round trip more). After an error, or a pause of ``IDLE`` seconds (a server closes an
        idle connection), the next message opens a new connection. A held connection found closed at a message's
        first command (nothing of it has left) is opened anew and the message tried once more on it; a failure
        later in a message is a failed attempt, as on a connection of its own (the server may have taken it)."""
        self._held = True
        try:
            yield
        finally:
            self._held = False
            self._drop()

    def _drop(self, *, politely: bool = True) -> None:
        """Let the held connection go: with a QUIT, or (after an error, perhaps half-way through a message) by
        closing it, so that nothing more is said on it."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None and politely:
            _quit(smtp)
        elif smtp is not None:
            smtp.close()

    def _deliver(self, message: Rendered) -> None:
        if self._smtp is not None and time.monotonic() - self._used >= IDLE:
            self._drop()
        reused = self._smtp is not None
        self._smtp = smtp = self._smtp or self.connect()
        try:
            try:
                _transmit(smtp, message, held=reused)
            except _HeldConnectionClosed:
                # the server closed the held connection while it waited (gone, or a 421 "closing the transmission
                # channel" in answer to the message's first command): nothing of the message left; a new one, once
                self._drop(politely=False)
                self._smtp = smtp = self.connect()
                _transmit(smtp, message, held=False)
        except BaseException:
            self._drop(politely=False)  # a connection after an error is not trusted with the next message
            raise
        self._used = time.monotonic()
        if not self._held:
            self._drop()

    def send(self, msg: EmailMessage | Rendered) -> None:
        where = f"mailserver {self.host}:{self.effective_port}"
        message = rendered(msg)
        try:
            self._deliver(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = "; ".join(f"{rcpt}: {code} {_text(reply)}" for rcpt, (code, reply) in exc.recipients.items())
            raise DeliveryError(f"{where} weigerde de ontvanger ({codes})",
                                permanent=all(code >= 500 for code, _ in exc.recipients.values())) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise DeliveryError(f"{where} weigerde de afzender {exc.sender} ({exc.smtp_code} "
                                f"{_text(exc.smtp_error)})") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{where} weigerde de inlog van {self.user} ({exc.smtp_code} "
                                f"{_text(exc.smtp_error)})") from exc
        except smtplib.SMTPDataError as exc:
            raise DeliveryError(f"{where} weigerde het bericht ({exc.smtp_code} {_text(exc.smtp_error)})",
                                permanent=exc.smtp_code >= 500) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"{where} weigerde het bericht ({exc.smtp_code} {_text(exc.smtp_error)})") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{where} ondersteunt dit niet: {exc}") from exc
        except ssl.SSLError as exc:
            raise DeliveryError(f"{where}: beveiligde verbinding mislukt ({exc.reason or exc})") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{where} niet bereikbaar ({exc.__class__.__name__}: {exc})") from exc


class _HeldConnectionClosed(Exception):
    """A held connection turned out closed at a message's first command: nothing of the message has left."""


def _transmit(smtp: smtplib.SMTP, message: Rendered, *, held: bool) -> None:
    """What ``smtplib.SMTP.sendmail`` does for one message to one recipient, in its steps, so that a ``held``
    connection found closed at the message's first command (MAIL) is told apart (``_HeldConnectionClosed``): only
    then may the message be tried again on a new connection within this attempt. Once MAIL is accepted, a failure is
    raised as ``sendmail`` raises it: after the message's last line the server may have taken it, and sending it
    again here would send it twice (it is recorded as a failed attempt, retried later with the same Message-ID)."""
    smtp.ehlo_or_helo_if_needed()
    options: list[str] = []
    if message.international:  # as smtplib's send_message does for such a message
        if not smtp.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("een adres buiten ASCII vraagt SMTPUTF8, dat de mailserver niet "
                                                "aanbiedt")
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    if smtp.does_esmtp and smtp.has_extn("size"):
        options.insert(0, f"size={len(message.data)}")
    try:
        code, reply = smtp.mail(message.sender, options if smtp.does_esmtp else [])
    except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
        if held:
            raise _HeldConnectionClosed from exc
        raise
    if code != 250:
        _abandon(smtp, code)
        if code == 421 and held:
            raise _HeldConnectionClosed
        raise smtplib.SMTPSenderRefused(code, reply, message.sender)
    code, reply = smtp.rcpt(message.recipient)
    if code not in (250, 251):
        _abandon(smtp, code)
        raise smtplib.SMTPRecipientsRefused({message.recipient: (code, reply)})
    code, reply = smtp.data(message.data)
    if code != 250:
        _abandon(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


def _abandon(smtp: smtplib.SMTP, code: int) -> None:
    """Leave the message the server refused, as ``sendmail`` does: a 421 closes the connection, else RSET."""
    if code == 421:
        smtp.close()
        return
    with suppress(smtplib.SMTPServerDisconnected):
        smtp.rset()


IDLE = 30.0  # seconds a held SMTP connection may wait for the next message before a new one is opened


def held(channel: Channel) -> AbstractContextManager[None]:
    """The channel holding its connection open for the messages sent within (SMTP's ``held``), where it has one."""
    hold = getattr(channel, "held", None)
    return hold() if hold is not None else nullcontext()


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; a server that hangs up rudely after accepting the message has still accepted it."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]+")


def eml_name(key: str) -> str:
    """A file name for a message key, safe on every file system and distinct per key."""
    readable = _UNSAFE.sub("_", key).strip("._")[:120] or "bericht"
    return f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:10]}.eml"


@dataclass
class EmlFolderChannel:
    """Write each message as ``<name from its key>.eml`` into ``folder``, for any mail client to open."""

    folder: Path

    def __str__(self) -> str:
        return f"map {self.folder}"

    def path_for(self, msg: EmailMessage | Rendered) -> Path:
        key = msg.key if isinstance(msg, Rendered) else msg.get(KEY_HEADER) or msg.get("Message-ID")
        if not key:
            raise DeliveryError(f"bericht zonder {KEY_HEADER} of Message-ID kan niet als bestand worden bewaard")
        return self.folder / eml_name(str(key))

    def send(self, msg: EmailMessage | Rendered) -> None:
        (outcome,) = self.send_many([rendered(msg)])
        if outcome is not None:
            raise outcome

    def send_many(self, messages: Sequence[Rendered]) -> list[DeliveryError | None]:
        """Each message written as its own file, durably before it counts as sent, the batch's disk waits shared
        (a group commit): every file written under a temporary name, their contents made durable at once
        (``_make_durable``), each renamed into place, then the folder itself made durable, so that the new names
        survive a power cut too (a rename is an entry in the folder, which the files' own ``fsync`` does not
        cover). On this project's machine 0.09-0.18 ms a file in batches of 16 to 256, against 0.21-0.28 ms
        writing and ``fsync``-ing each file in eight threads (``benchmarks/README.md``, fourteenth round). A
        message whose file cannot be written fails alone; no temporary file is left behind."""
        outcomes: list[DeliveryError | None] = [None] * len(messages)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return [self._unwritable(exc)] * len(messages)
        written: list[tuple[int, BinaryIO, str, Path]] = []  # (position, open file, its temporary name, its place)
        synced = False
        try:
            for i, message in enumerate(messages):
                try:
                    target = self.path_for(message)
                    fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
                    handle = os.fdopen(fd, "wb")
                    written.append((i, handle, temporary, target))
                    handle.write(message.data)
                    handle.flush()
                except DeliveryError as exc:
                    outcomes[i] = exc
                except OSError as exc:
                    outcomes[i] = self._unwritable(exc)
            try:
                _make_durable([file.fileno() for i, file, _, _ in written if outcomes[i] is None])
            except OSError as exc:
                outcomes = [outcome or self._unwritable(exc) for outcome in outcomes]
            synced = True
        finally:
            for i, file, temporary, target in written:
                with suppress(OSError):
                    file.close()
                if synced and outcomes[i] is None:  # interrupted before its contents were durable: not put in place
                    try:
                        os.replace(temporary, target)
                        continue
                    except OSError as exc:
                        outcomes[i] = self._unwritable(exc)
                Path(temporary).unlink(missing_ok=True)
        if any(outcome is None for outcome in outcomes):
            try:
                _sync_folder(self.folder)
            except OSError as exc:  # the files are in place but their names may not survive a power cut
                outcomes = [outcome or self._unwritable(exc) for outcome in outcomes]
        return outcomes

    def _unwritable(self, exc: OSError) -> DeliveryError:
        return DeliveryError(f"map {self.folder} niet beschrijfbaar: {exc.strerror or exc}")


def _make_durable(descriptors: Sequence[int]) -> None:
    """What was written to these open files on disk: on Linux one ``syncfs`` of the folder's file system, which
    waits for the disk once for all of them (the kernel writes them out together), elsewhere an ``fsync`` of
    each. ``syncfs`` also writes out whatever else is pending on that file system, which is written out anyway
    within seconds; a care group that sends by SMTP never comes here."""
    if not descriptors:
        return
    syncfs = _syncfs()
    if syncfs is None:
        for fd in descriptors:
            os.fsync(fd)
        return
    if syncfs(descriptors[0]) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


@functools.cache
def _syncfs() -> Any:
    """libc's ``syncfs`` (Linux; Python's ``os`` does not offer it), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes, function.restype = [ctypes.c_int], ctypes.c_int
    return function


def _sync_folder(folder: Path) -> None:
    """The folder's entries (the names just renamed into it) on disk, where a folder can be opened (POSIX)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
