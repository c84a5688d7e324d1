"""One server span per request: named by route template, child of the caller's trace."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from runway_observability.http_tracing import RequestTracing


def traced_app() -> tuple[TestClient, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = FastAPI()

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        if thing_id == "missing":
            raise HTTPException(404)
        if thing_id == "broken":
            raise RuntimeError("boom")
        return {"id": thing_id}

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(RequestTracing, tracer_provider=provider, excluded_paths=frozenset({"/livez"}))
    return TestClient(app, raise_server_exceptions=False), exporter


def test_span_is_named_by_route_template_and_continues_the_callers_trace() -> None:
    client, exporter = traced_app()
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    client.get("/v1/things/42", headers={"traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01"})
    (span,) = exporter.get_finished_spans()
    assert span.name == "GET /v1/things/{thing_id}"
    assert span.kind is SpanKind.SERVER
    assert format(span.context.trace_id, "032x") == caller_trace
    assert span.parent is not None and format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert span.attributes == {
        "http.request.method": "GET",
        "url.path": "/v1/things/42",
        "http.route": "/v1/things/{thing_id}",
        "http.response.status_code": 200,
    }


def test_status_and_errors_are_recorded_and_probes_are_not_traced() -> None:
    client, exporter = traced_app()
    assert client.get("/v1/things/missing").status_code == 404
    assert client.get("/v1/things/broken").status_code == 500
    assert client.get("/livez").status_code == 200
    missing, broken = exporter.get_finished_spans()
    assert missing.attributes["http.response.status_code"] == 404
    assert missing.status.status_code is StatusCode.UNSET  # a 4xx is the client's error, not ours
    assert missing.parent is None
    assert broken.status.status_code is StatusCode.ERROR
    assert any(event.name == "exception" for event in broken.events)
