"""An SMTP server for benchmarks: accepts everything, writes one line per message (time,
recipient, type, Message-ID).

On SIGTERM it shuts down as a mail server does when stopped: new transactions get
421 (try again later), a message already being accepted is answered, then it exits.
A server killed outright between logging a message and its 250 reaching the client
would count a message the client must send again (RFC 1047): a duplicate no client
can avoid, so the fault schedule stops it this way.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import time
from typing import Any

import uvloop
from aiosmtpd.controller import Controller

TYPE = re.compile(rb"^X-Runway-Message-Type: *(\S+)", re.MULTILINE)
MESSAGE_ID = re.compile(rb"^Message-ID: *(\S+)", re.MULTILINE | re.IGNORECASE)


SHUTTING_DOWN = "421 4.3.2 Service shutting down, try again later"
# Long enough for a message being accepted to get its answer out.
GRACE_SECONDS = 0.5


def header(pattern: re.Pattern[bytes], content: bytes) -> str:
    found = pattern.search(content)
    return found.group(1).decode() if found else "-"


class Counter:
    def __init__(self, out: Any, answer_seconds: float = 0.0) -> None:
        self.out = out
        self.answer_seconds = answer_seconds
        self.closing = False

    async def handle_MAIL(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.closing:
            return SHUTTING_DOWN
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.answer_seconds:  # a provider's time to take a message (its checks, its disk)
            await asyncio.sleep(self.answer_seconds)
        if self.closing:
            return SHUTTING_DOWN
        content = envelope.original_content or envelope.content
        kind, message_id = header(TYPE, content), header(MESSAGE_ID, content)
        self.out.write(f"{time.time():.6f}\t{envelope.rcpt_tos[0]}\t{kind}\t{message_id}\n")
        self.out.flush()
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--answer-ms", type=float, default=0.0, help="how long each message's DATA waits for its 250"
    )
    args = parser.parse_args()
    with open(args.out, "a", buffering=1) as out:
        counter = Counter(out, args.answer_ms / 1000)
        # uvloop, as the services run: the stand-in for a mail provider shares the machine
        # with the system it measures, and should take as little of it as it can.
        controller = Controller(counter, hostname="127.0.0.1", port=args.port, loop=uvloop.new_event_loop())
        controller.start()

        async def serve() -> None:
            stop = asyncio.Event()
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
            await stop.wait()
            counter.closing = True  # read by the handlers on the controller's thread
            await asyncio.sleep(GRACE_SECONDS)

        try:
            asyncio.run(serve())
        finally:
            controller.stop()


if __name__ == "__main__":
    main()
