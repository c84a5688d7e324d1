"""What an inbound text asks for: the carrier-standard opt-out, opt-in and help keywords."""

from __future__ import annotations

from typing import Literal

STOP = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START = frozenset({"START", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})

Keyword = Literal["stop", "start", "help"]


def keyword(body: str) -> Keyword | None:
    """The keyword the whole message is (any case, surrounding spaces and end punctuation), or None.

    Only a message that *is* the keyword counts, as carriers treat it: "stop by
    the office" is a conversation, not an opt-out.
    """
    word = body.strip().rstrip(".!").strip().upper()
    if word in STOP:
        return "stop"
    if word in START:
        return "start"
    if word in HELP:
        return "help"
    return None
