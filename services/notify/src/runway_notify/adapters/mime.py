"""Building the bytes of an email: multipart/alternative, UTF-8, quoted-printable.

Every message has the same shape (headers, then a plain-text and an HTML part),
so an ASCII recipient's message is written out directly: quoted-printable by
`binascii.b2a_qp` (C), headers unfolded (RFC 5322 allows 998 characters; folding
would break the List-Unsubscribe URL for mailbox providers), non-ASCII header
text as RFC 2047 encoded words (folded between words, as 2047 requires).
Flattening `email.mime` objects cost ~0.5 ms of notify's CPU per message, most of
it folding headers that were never folded.
The boundary starts with "=_", which quoted-printable text cannot contain ("="
there is always followed by two hex digits or a line break), so its random tail
needs no secrecy: it comes from `random`, not `secrets`, whose system call lets
go of the GIL and, in a busy notify, waited ~0.5 ms a message to get it back
(py-spy --idle, 2026-11-29). A recipient whose
address is not ASCII takes the `EmailMessage` path, which knows SMTPUTF8.
"""

from __future__ import annotations

import binascii
import email.policy
import random
from dataclasses import dataclass
from email import charset
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

UTF8_QP = charset.Charset("utf-8")
UTF8_QP.header_encoding = charset.QP
MODERN = email.policy.SMTPUTF8.clone(max_line_length=998)
CRLF = "\r\n"


@dataclass(frozen=True)
class OutgoingEmail:
    envelope_from: str
    recipient: str
    data: bytes
    utf8: bool = False  # needs the server's SMTPUTF8 extension


def _header(name: str, value: str) -> str:
    # One line, whatever a template or a sign-up put in it: a line break would start a
    # header of someone else's choosing. Leading blanks go: a reader drops them anyway.
    value = " ".join(value.splitlines()).lstrip(" \t")
    if value.isascii():
        return value
    # Encoded words of at most 75 characters each (RFC 2047), folded between words.
    return Header(value, UTF8_QP, header_name=name).encode(linesep=CRLF)


def _from(sender: str) -> str:
    name, address = parseaddr(sender)
    return sender if sender.isascii() else formataddr((name, address), charset="utf-8")


def _quoted_printable(body: str) -> str:
    # b2a_qp keeps the text's "\n" line ends (and breaks long lines with "=\n");
    # the wire wants CRLF. A bare "\r" in the text comes out encoded, so every
    # "\n" in the result is a line end.
    return binascii.b2a_qp(body.encode(), istext=True).decode("ascii").replace("\n", CRLF)


def _part(content_type: str, body: str, boundary: str) -> str:
    return (
        f"--{boundary}{CRLF}"
        f'Content-Type: {content_type}; charset="utf-8"{CRLF}'
        f"MIME-Version: 1.0{CRLF}"
        f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
        f"{_quoted_printable(body)}{CRLF}"
    )


def build(sender: str, recipient: str, headers: list[tuple[str, str]], text: str, html: str) -> OutgoingEmail:
    """`headers` after From and To (Subject, Date, Message-ID, …), in order."""
    envelope_from = parseaddr(sender)[1]
    if not recipient.isascii():
        return _build_utf8(sender, envelope_from, recipient, headers, text, html)
    boundary = f"=_runway_{random.getrandbits(96):024x}"
    lines = [
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "MIME-Version: 1.0",
        f"From: {_header('From', _from(sender))}",
        f"To: {_header('To', recipient)}",
        *(f"{name}: {_header(name, value)}" for name, value in headers),
    ]
    data = (
        CRLF.join(lines)
        + CRLF * 2
        + _part("text/plain", text, boundary)
        + _part("text/html", html, boundary)
        + f"--{boundary}--{CRLF}"
    )
    return OutgoingEmail(envelope_from, recipient, data.encode("ascii"))


def _build_utf8(
    sender: str, envelope_from: str, recipient: str, headers: list[tuple[str, str]], text: str, html: str
) -> OutgoingEmail:
    message = EmailMessage(policy=MODERN)
    message["From"] = sender
    message["To"] = recipient
    for name, value in headers:
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return OutgoingEmail(envelope_from, recipient, message.as_bytes(), utf8=True)
