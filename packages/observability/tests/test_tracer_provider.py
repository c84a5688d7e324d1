"""Spans are recorded only when something can read them; trace context flows either way."""

from __future__ import annotations

import pytest
from opentelemetry import propagate

from runway_observability.tracing import create_tracer_provider


def test_without_an_exporter_spans_are_not_recorded_but_their_context_still_propagates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    tracer = create_tracer_provider("runway-test", None).get_tracer("t")
    caller = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    with tracer.start_as_current_span("request", context=propagate.extract(caller)) as span:
        assert not span.is_recording()
        context = span.get_span_context()
        assert format(context.trace_id, "032x") == "4bf92f3577b34da6a3ce929d0e0e4736"
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        assert carrier["traceparent"].startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
    with tracer.start_as_current_span("root") as root:  # a new trace still gets its ids
        assert root.get_span_context().is_valid


def test_an_exporter_or_a_configured_sampler_records_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    with create_tracer_provider("runway-test", None).get_tracer("t").start_as_current_span("s") as span:
        assert span.is_recording()
    monkeypatch.delenv("OTEL_TRACES_SAMPLER")
    provider = create_tracer_provider("runway-test", "http://127.0.0.1:9")
    assert provider.sampler.get_description().startswith("ParentBased{root:AlwaysOnSampler")
