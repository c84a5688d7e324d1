"""OpenTelemetry tracer provider for one service process.

Spans go to an OTLP/HTTP collector when an endpoint is configured
(`RUNWAY_OTEL_EXPORTER_OTLP_ENDPOINT` or the standard `OTEL_EXPORTER_OTLP_*`
variables). Without one, nothing would ever read a span, so none is recorded:
the sampler drops every span (unless `OTEL_TRACES_SAMPLER` says otherwise), and
what is left is the span's context — trace and span ids still reach the logs and
cross NATS in `traceparent`. Recording a span costs tens of microseconds, a
visible share of a sign-up request.
"""

from __future__ import annotations

import os

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF


def create_tracer_provider(service_name: str, otlp_endpoint: str | None) -> TracerProvider:
    endpoint = otlp_endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    unread = not endpoint and "OTEL_TRACES_SAMPLER" not in os.environ
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name}),
        sampler=ALWAYS_OFF if unread else None,  # None: the SDK's default, or the environment's
    )
    if endpoint:
        exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def trace_engine(engine: object, tracer_provider: TracerProvider) -> None:
    """Spans for every statement on this one engine.

    SQLAlchemyInstrumentor().instrument() also patches create_engine for the
    whole process, which would trace engines built for hot write paths too
    (a span per statement there costs more than the statement).
    """
    from opentelemetry import metrics
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    usage = metrics.get_meter("runway.sqlalchemy").create_up_down_counter(
        "db.client.connections.usage", unit="connections", description="Connections by state."
    )
    EngineTracer(tracer_provider.get_tracer("opentelemetry.instrumentation.sqlalchemy"), engine, usage)
