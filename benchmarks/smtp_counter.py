"""An SMTP server for benchmarks: accepts everything, writes one line per message (time, recipient, type)."""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from typing import Any

from aiosmtpd.controller import Controller

TYPE = re.compile(rb"^X-Runway-Message-Type: *(\S+)", re.MULTILINE)


class Counter:
    def __init__(self, out: Any) -> None:
        self.out = out

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        found = TYPE.search(envelope.original_content or envelope.content)
        kind = found.group(1).decode() if found else "-"
        self.out.write(f"{time.time():.6f}\t{envelope.rcpt_tos[0]}\t{kind}\n")
        self.out.flush()
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.out, "a", buffering=1) as out:
        controller = Controller(Counter(out), hostname="127.0.0.1", port=args.port)
        controller.start()
        try:
            asyncio.run(asyncio.Event().wait())
        finally:
            controller.stop()


if __name__ == "__main__":
    main()
