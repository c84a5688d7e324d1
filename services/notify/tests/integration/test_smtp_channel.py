"""The email channel against real SMTP servers (aiosmtpd): headers, both parts, refusals, fallback."""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from runway_devstack.nats_server import free_port
from runway_notify.adapters.smtp import EmailSender, SmtpServer
from runway_notify.adapters.templates import Templates
from runway_notify.domain.outcomes import Accepted, Rejected, TryLater
from runway_notify.service_layer.composing import Claimed, Composer
from runway_notify.service_layer.previews import SAMPLES

ORG = {
    "organization": "Runway",
    "postal_address": "1 Main St, Lawrence, KS",
    "disclaimer": "Paid for by Runway.",
}


class Mailbox:
    """Keeps what it receives; refuses recipients at `nobody@…` as a mailbox that does not exist."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        if address.startswith("busy@"):
            return "452 4.2.2 Mailbox full, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted"


@pytest.fixture
def mailbox() -> Any:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


def marketing(recipient: str = "maya@example.org") -> Claimed:
    return Claimed(
        "d1",
        "t",
        "races_near_you:l1:x",
        "races_near_you",
        "email",
        "l1",
        recipient,
        False,
        {"first_name": "Maya", **ORG, **SAMPLES["races_near_you"]},
        "<abc@runway.notify>",
        1,
        datetime.now(UTC),
    )


def composer() -> Composer:
    return Composer(Templates(), "Runway <hello@runway.example>", "key", "https://notify.runway.example")


def test_a_marketing_email_arrives_with_rfc8058_headers_and_both_parts(mailbox: Any) -> None:
    box, port = mailbox
    sender = EmailSender(SmtpServer("127.0.0.1", port))

    async def send_three() -> list[Any]:
        outcomes = [await sender.send(composer().email(marketing(f"p{n}@example.org"))) for n in range(3)]
        await sender.close()
        return outcomes

    assert all(isinstance(o, Accepted) for o in asyncio.run(send_three()))
    assert len(box.received) == 3
    recipients, raw = box.received[0]
    assert recipients == ["p0@example.org"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://notify.runway.example/v1/unsubscribe/") and unsubscribe.endswith(
        ">"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == "<abc@runway.notify>"
    assert message["From"] == "Runway <hello@runway.example>" and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Lawrence USD 497 Board of Education" in text and "Lawrence USD 497 Board of Education" in html
    assert "1 Main St, Lawrence, KS" in text and "1 Main St, Lawrence, KS" in html  # postal address
    assert unsubscribe[1:-1] in text


def test_an_unknown_mailbox_is_permanent_and_a_full_one_is_not(mailbox: Any) -> None:
    _box, port = mailbox
    sender = EmailSender(SmtpServer("127.0.0.1", port))

    async def attempts() -> list[Any]:
        outcomes = [
            await sender.send(composer().email(marketing("nobody@example.org"))),
            await sender.send(composer().email(marketing("busy@example.org"))),
            await sender.send(composer().email(marketing("maya@example.org"))),  # the connection still works
        ]
        await sender.close()
        return outcomes

    unknown, full, fine = asyncio.run(attempts())
    assert isinstance(unknown, Rejected) and unknown.suppress and "550" in unknown.detail
    assert isinstance(full, TryLater) and "452" in full.detail
    assert isinstance(fine, Accepted)


def test_the_fallback_server_takes_over_while_the_primary_keeps_failing(mailbox: Any) -> None:
    box, port = mailbox
    dead = SmtpServer("127.0.0.1", free_port(), timeout=2)  # nothing listens there
    sender = EmailSender(dead, SmtpServer("127.0.0.1", port), trip_after=2, cool_down=60)

    async def attempts() -> list[Any]:
        outcomes = [await sender.send(composer().email(marketing(f"p{n}@example.org"))) for n in range(4)]
        await sender.close()
        return outcomes

    first, second, third, fourth = asyncio.run(attempts())
    assert isinstance(first, TryLater) and first.route == "primary"  # one failure is not yet "keeps failing"
    assert isinstance(second, Accepted) and second.route == "fallback"  # the second trips it, same attempt
    assert (third.route, fourth.route) == ("fallback", "fallback")  # and it stays there while cooling down
    assert [r for r, _ in box.received] == [["p1@example.org"], ["p2@example.org"], ["p3@example.org"]]
