import pytest

from runway_intake.service_layer.signup_writer import SignupWriter, WriterStopped


def test_a_stopped_writer_refuses_new_signups_instead_of_losing_them() -> None:
    writer = SignupWriter(lambda: None, threads=1)  # type: ignore[arg-type,return-value]
    writer.start()
    writer.stop()
    with pytest.raises(WriterStopped):
        writer.submit(None)  # type: ignore[arg-type]


class _FakeUnitOfWork:
    session = None

    def __enter__(self) -> "_FakeUnitOfWork":
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def commit(self) -> None:
        pass


def test_a_signup_given_up_while_queued_is_not_written_and_the_writer_carries_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runway_intake.service_layer import signup_writer
    from runway_intake.service_layer.signups import Accepted

    written: list[object] = []

    def write_batch(uow: object, items: list[tuple[object, object, object]], shard: int) -> list[Accepted]:
        written.extend(signup for signup, _, _ in items)
        return [Accepted(f"lead-{signup}", f"sub-{signup}", True) for signup, _, _ in items]

    monkeypatch.setattr(signup_writer, "write_batch", write_batch)
    monkeypatch.setattr(signup_writer, "apply_lead_count", lambda session, shard: None)
    writer = SignupWriter(_FakeUnitOfWork, threads=1)  # type: ignore[arg-type]
    given_up, kept = writer.submit("a"), writer.submit("b")  # type: ignore[arg-type]
    assert given_up.cancel()  # its request was cancelled while queued
    writer.start()
    assert kept.result(5).lead_id == "lead-b"
    assert writer.submit("c").result(5).lead_id == "lead-c"  # type: ignore[arg-type]
    assert written == ["b", "c"]
    writer.stop()
