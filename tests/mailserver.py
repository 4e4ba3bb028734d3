"""A real SMTP server on loopback for the notification tests (aiosmtpd), recording what it receives.

``running_mailserver()`` starts one on a free port of 127.0.0.1 and stops it afterwards; ``refuse`` makes it
answer the next N messages with ``reply`` (451, or a 550 a test sets); ``tls`` makes it speak STARTTLS
(``starttls``) or implicit TLS (``tls``) with a self-signed certificate made with ``cryptography``, optionally
requiring a login; ``idle_timeout`` is how long it waits for a client's next command before it answers 421 and
closes the connection. Each message received says which connection it came over (``peer``).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    peer: Any = None  # the client's end of the connection it came over

    @property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, email.message_from_bytes(self.content, policy=email.policy.default))


@dataclass
class Recorder:
    """The server's handler: keeps every accepted message; refuses the next ``refuse`` ones with ``reply``
    (a temporary 451 unless a test sets a permanent 5xx); keeps the next ``drop`` ones and then drops the
    connection before it answers (the client cannot know whether they were taken)."""

    received: list[Received] = field(default_factory=list)
    refuse: int = 0
    refused: int = 0
    reply: str = "451 4.3.0 tijdelijk niet beschikbaar (testserver)"
    drop: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse > 0:
            self.refuse -= 1
            self.refused += 1
            return self.reply
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        self.received.append(Received(str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], content,
                                      session.peer))
        if self.drop > 0:
            self.drop -= 1
            assert server.transport is not None
            server.transport.abort()
        return "250 2.0.0 OK"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


@dataclass
class MailServer:
    host: str
    port: int
    recorder: Recorder
    cafile: Path | None = None

    @property
    def received(self) -> list[Received]:
        return self.recorder.received

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile)) if self.cafile else ssl.create_default_context()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def closed_port() -> int:
    """A port nothing listens on (just freed): connecting to it is refused."""
    return free_port()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost with its key (EC, quick to make), as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _authenticator(user: str, password: str) -> Any:
    def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def running_mailserver(*, tls: str = "none", folder: Path | None = None,
                       login: tuple[str, str] | None = None, idle_timeout: float = 300) -> Iterator[MailServer]:
    recorder = Recorder()
    port = free_port()
    kwargs: dict[str, Any] = {}
    cafile: Path | None = None
    if tls != "none":
        assert folder is not None, "a TLS server needs a folder for its certificate"
        cafile, keyfile = self_signed(folder)
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(cafile, keyfile)
        if tls == "starttls":
            kwargs.update(tls_context=server_context, require_starttls=True)
        else:
            kwargs.update(ssl_context=server_context)
    if login is not None:
        kwargs.update(authenticator=_authenticator(*login), auth_require_tls=tls != "none")
    else:
        kwargs.update(auth_require_tls=False)
    kwargs.update(timeout=idle_timeout)  # seconds the server waits for a client's next command, then 421 and closes
    controller = Controller(recorder, hostname=HOST, port=port, ready_timeout=5, **kwargs)
    controller.start()
    try:
        yield MailServer(HOST, port, recorder, cafile)
    finally:
        controller.stop()
