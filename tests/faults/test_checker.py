"""The checker's one allowance: a message SMTP accepted just before notify was SIGKILLed,
sent again with its Message-ID once the claim's lease ran out (decision 0005)."""

from __future__ import annotations

from benchmarks.pipeline.checker import RESEND_WINDOW_SECONDS, without_crash_resends

WELCOME = "<welcome.ana@runway>"


def copies(*ats: float, message_id: str = WELCOME) -> list[tuple[float, str, str, str]]:
    return [(at, "ana@example.org", "welcome", message_id) for at in ats]


def test_a_copy_after_a_kill_that_followed_the_first_is_a_crash_resend() -> None:
    kept, resent = without_crash_resends(copies(100.0, 221.0), notify_killed=[100.4])
    assert kept == [(100.0, "ana@example.org", "welcome")] and resent == 1


def test_every_other_repeat_stays_a_duplicate() -> None:
    late = 100.0 + RESEND_WINDOW_SECONDS + 0.5
    for mail, killed in (
        (copies(100.0, 221.0), []),  # no crash at all
        (copies(100.0, 221.0), [late]),  # a crash long after it was accepted: it had been recorded
        (copies(100.0, 101.0), [102.0]),  # sent twice before the crash
        (copies(100.0, 221.0), [99.0]),  # the crash came before the first copy
        (copies(100.0) + copies(221.0, message_id="<other@runway>"), [100.4]),  # two different messages
        (copies(100.0, 221.0, message_id="-"), [100.4]),  # no Message-ID to go by
    ):
        kept, resent = without_crash_resends(mail, killed)
        assert len(kept) == 2 and resent == 0, (mail, killed)


def test_each_crash_explains_one_more_copy() -> None:
    kept, resent = without_crash_resends(copies(100.0, 221.0, 222.0), notify_killed=[100.4, 221.5])
    assert len(kept) == 1 and resent == 2
    kept, resent = without_crash_resends(copies(100.0, 221.0, 222.0), notify_killed=[100.4])
    assert len(kept) == 2 and resent == 1
