"""The bytes of an email: whatever the templates and sign-ups put in, a mail reader reads it back."""

from __future__ import annotations

from email import message_from_bytes, policy

from hypothesis import example, given, settings
from hypothesis import strategies as st

from runway_notify.adapters.mime import build

SENDER = "Runway <hello@example.org>"
# Text as templates render it: any characters, with line breaks, long lines, "=", dots
# at the start of a line and spaces at the end of one.
body_text = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r"), max_size=40),
        st.sampled_from(["\n", " ", "=", ".", "\t", "--", "=_", "x" * 90]),
    ),
    max_size=30,
).map("".join)


def read(data: bytes):  # type: ignore[no-untyped-def]
    return message_from_bytes(data, policy=policy.default)


@settings(max_examples=300, deadline=None)
@example(text="", html="", subject="\n0")  # a reader drops a header value's leading blanks
@given(text=body_text, html=body_text, subject=st.text(max_size=120))
def test_both_parts_and_the_subject_come_back_exactly(text: str, html: str, subject: str) -> None:
    outgoing = build(SENDER, "maya@example.org", [("Subject", subject)], text, html)
    assert outgoing.data.isascii() and not outgoing.utf8
    assert all(len(line) <= 998 for line in outgoing.data.split(b"\r\n"))
    assert b"\n" not in outgoing.data.replace(b"\r\n", b"")  # every line ends CRLF
    message = read(outgoing.data)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    # A reader hands back the wire's CRLF line ends.
    assert [p.get_content().replace("\r\n", "\n") for p in parts] == [text, html]
    assert message["Subject"] == " ".join(subject.splitlines()).lstrip(" \t")


def test_a_line_break_in_a_header_value_cannot_add_a_header() -> None:
    outgoing = build(
        SENDER, "maya@example.org", [("Subject", "Hi Maya\r\nBcc: everyone@example.org")], "x", "<p>x</p>"
    )
    message = read(outgoing.data)
    assert message["Bcc"] is None
    assert message["Subject"] == "Hi Maya Bcc: everyone@example.org"


def test_non_ascii_header_text_is_encoded_words_of_at_most_75_characters() -> None:
    subject = "Bienvenida a Runway, María José Ñúñez de la Peña " * 3
    outgoing = build(SENDER, "maya@example.org", [("Subject", subject)], "x", "x")
    header = outgoing.data.split(b"\r\n\r\n", 1)[0].decode()
    words = [w for w in header.split() if w.startswith("=?utf-8?q?")]
    assert words and all(len(w) <= 75 for w in words)
    assert read(outgoing.data)["Subject"] == subject


def test_long_urls_stay_whole_in_the_header() -> None:
    url = "<https://runway.example/" + "x" * 200 + "/v1/unsubscribe/token>"
    outgoing = build(SENDER, "maya@example.org", [("List-Unsubscribe", url)], "x", "x")
    assert f"List-Unsubscribe: {url}\r\n".encode() in outgoing.data
