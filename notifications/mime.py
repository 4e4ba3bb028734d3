"""The bytes of a rendered message written straight from its parts, in the one shape ``notifications.rendering``
gives every message: the byte-for-byte twin of building it as an ``EmailMessage`` and flattening it.

Why: at dispatch, rendering is the cost of a message, and two thirds of rendering one was Python's ``email``
package turning our own header values into header objects (it parses every value it is given) and walking the
object tree to write them out again (issue 16: 2.2 of 3.6 ms a message). The shape never varies: the headers
``rendering.render`` sets, ``multipart/alternative`` of the text and the HTML (quoted-printable), inside a
``multipart/mixed`` when there are attachments (base64).

Invariants:
- ``write`` gives exactly the bytes of ``rendering.email_message(parts)`` flattened by ``channels.message_bytes``
  (CRLF line ends), or None: for anything it has not been shown to write alike it declines, and the caller builds
  the ``EmailMessage``. It declines a header value outside printable ASCII (encoded words), a line over 998
  characters, a display name that needs more than the quotes of ``formataddr`` (or is empty), a value that reads
  as an encoded word (``=?``), is empty or has doubled or outer spaces, a date not in ``format_datetime``'s form
  with a numeric zone, an attachment's file name or parameter outside ``[A-Za-z0-9._-]`` (or a parameter named
  twice, a multipart type, a header line over 998 characters). A test compares both ways for every kind and for
  names, subjects, dates, bodies and attachments chosen to trip them.
- The bodies are encoded by the functions the ``email`` package uses itself (``quoprimime.body_encode`` with the
  policy's line length; base64 as ``contentmanager`` cuts it), so what differs is only how the result is laid out.
"""

from __future__ import annotations

import binascii
import functools
import re
from dataclasses import dataclass
from email import quoprimime
from email.utils import formataddr

MAX_LINE = 78  # the policy's max_line_length: quoted-printable and base64 lines (``rendering.POLICY``)
_HEADER_LINE = 998  # RFC 5322; ``rendering._Policy`` writes a plain ASCII header up to this on one line
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .'&/+-]*")  # a display name formataddr leaves bare or puts in quotes
_TOKEN = re.compile(r"[A-Za-z0-9._-]+")  # a file name or parameter value written as a quoted string, unescaped
_TYPE = re.compile(r"[a-z][a-z0-9.+-]*")
_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+")
_NEWLINE = re.compile(r"\r\n|\r|\n")
# a date as ``email.utils.format_datetime`` writes one with a numeric zone: the form the package writes back unchanged
_DATE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                   r"\d\d:\d\d:\d\d [+-]\d{4}")
_BOUNDARY = re.compile(r"[A-Za-z0-9=._-]{1,70}")


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message: its bytes, MIME type, file name and any ``Content-Type`` parameters."""

    data: bytes
    maintype: str
    subtype: str
    filename: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Parts:
    """Everything a rendered message is made of, its header values as ``rendering.render`` gives them."""

    key: str
    sender_name: str
    sender: str
    recipient_name: str
    recipient: str
    subject: str
    date: str
    message_id: str
    text: str
    html: str
    attachments: tuple[Attachment, ...]
    boundaries: tuple[str, str]  # the outer (``multipart/mixed``, or the alternative when nothing is attached), inner


def _plain(value: str) -> bool:
    """A header value the ``email`` package writes back as it was given: not empty, printable ASCII, single spaces
    only, nothing it would read as an encoded word."""
    return (value != "" and _PRINTABLE.fullmatch(value) is not None and "=?" not in value and "  " not in value
            and value == value.strip())


def _address(name: str, address: str) -> str | None:
    if not (_NAME.fullmatch(name) and _plain(name) and _ADDRESS.fullmatch(address)):
        return None
    return formataddr((name, address))


def _qp(text: str) -> str:
    """A text body as ``contentmanager`` encodes a ``str`` with ``cte="quoted-printable"``, CRLF line ends."""
    body = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
    return _crlf(quoprimime.body_encode(body.decode("latin-1"), MAX_LINE))


@functools.lru_cache(maxsize=16)
def _base64(data: bytes) -> str:
    """Bytes as ``contentmanager._encode_base64`` cuts them (57 bytes a line at 78), CRLF line ends. Remembered for
    the attachments an invitation's recipients share (its pack, its invite): a pack's base64 was encoded again for
    each of them (issue 16)."""
    per_line = MAX_LINE // 4 * 3
    return _crlf("".join(binascii.b2a_base64(data[i:i + per_line]).decode("ascii")
                         for i in range(0, len(data), per_line)))


def _crlf(payload: str) -> str:
    """The payload's lines as the generator writes them (``Generator._write_lines``)."""
    return _NEWLINE.sub("\r\n", payload)


def _part(headers: list[str], body: str) -> str:
    return "".join(f"{h}\r\n" for h in headers) + "\r\n" + body


def _multipart(boundary: str, parts: list[str]) -> str:
    """The body of a multipart as ``Generator._handle_multipart`` writes it (no preamble or epilogue)."""
    return (f"--{boundary}\r\n" + f"\r\n--{boundary}\r\n".join(parts) + f"\r\n--{boundary}--\r\n")


def write(parts: Parts) -> bytes | None:
    """The message's bytes, or None when it is not one this writer has been shown to write as ``email`` does."""
    sender = _address(parts.sender_name, parts.sender)
    recipient = _address(parts.recipient_name, parts.recipient)
    if sender is None or recipient is None:
        return None
    top = [f"From: {sender}", f"To: {recipient}", f"Subject: {parts.subject}", f"Date: {parts.date}",
           f"Message-ID: {parts.message_id}", f"X-Qualitycycle-Key: {parts.key}", "Auto-Submitted: auto-generated"]
    if not all(_plain(line.partition(": ")[2]) and len(line) <= _HEADER_LINE for line in top):
        return None
    if not _DATE.fullmatch(parts.date) or parts.date.endswith("-0000"):  # the package rewrites other forms
        return None
    outer, inner = parts.boundaries
    if not (_BOUNDARY.fullmatch(outer) and _BOUNDARY.fullmatch(inner)):
        return None
    attached: list[str] = []
    for a in parts.attachments:
        part = _attachment(a)
        if part is None:
            return None
        attached.append(part)
    text = _part(['Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: quoted-printable"],
                 _qp(parts.text))
    html = _part(['Content-Type: text/html; charset="utf-8"', "Content-Transfer-Encoding: quoted-printable",
                  "MIME-Version: 1.0"], _qp(parts.html))
    if not parts.attachments:
        return _bytes([*top, "MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{outer}"',
                       "Content-Language: nl"], _multipart(outer, [text, html]))
    alternative = _part([f'Content-Type: multipart/alternative; boundary="{inner}"'], _multipart(inner, [text, html]))
    return _bytes([*top, "MIME-Version: 1.0", f'Content-Type: multipart/mixed; boundary="{outer}"',
                   "Content-Language: nl"], _multipart(outer, [alternative, *attached]))


def _attachment(a: Attachment) -> str | None:
    """An attachment's part as ``add_attachment`` of bytes makes it: parameters given to it are set after the
    disposition, which moves ``Content-Type`` behind it (``Message.set_param`` deletes and appends the header).
    None for one this writer declines: a name or parameter outside ``[A-Za-z0-9._-]``, a parameter named twice (in
    any case), a multipart or message type, a header over 998 characters."""
    names = [k.lower() for k, _ in a.params]
    if (not (_TOKEN.fullmatch(a.filename) and _TYPE.fullmatch(a.maintype) and _TYPE.fullmatch(a.subtype))
            or a.maintype in ("multipart", "message") or len(set(names)) != len(names)
            or not all(_TOKEN.fullmatch(k) and _TOKEN.fullmatch(v) for k, v in a.params)):
        return None
    disposition = f'Content-Disposition: attachment; filename="{a.filename}"'
    if a.params:
        params = "".join(f'; {k}="{v}"' for k, v in a.params)
        headers = ["Content-Transfer-Encoding: base64", disposition, f"Content-Type: {a.maintype}/{a.subtype}{params}"]
    else:
        headers = [f"Content-Type: {a.maintype}/{a.subtype}", "Content-Transfer-Encoding: base64", disposition]
    if any(len(h) > _HEADER_LINE for h in headers):
        return None
    return _part([*headers, "MIME-Version: 1.0"], _base64(a.data))


def _bytes(headers: list[str], body: str) -> bytes:
    return (_part(headers, "") + body).encode("ascii")
