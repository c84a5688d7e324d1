import pytest

from runway_intake.service_layer.signup_writer import SignupWriter, WriterStopped


def test_a_stopped_writer_refuses_new_signups_instead_of_losing_them() -> None:
    writer = SignupWriter(lambda: None, threads=1)  # type: ignore[arg-type,return-value]
    writer.start()
    writer.stop()
    with pytest.raises(WriterStopped):
        writer.submit(None)  # type: ignore[arg-type]
