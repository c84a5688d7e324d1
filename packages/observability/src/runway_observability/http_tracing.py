"""One server span per HTTP request, continuing the caller's W3C trace.

opentelemetry-instrumentation-fastapi did the same job, but on intake's hot
path it cost a quarter of the process's CPU (it walks every route to name
the span before the app routes the request, and builds a dozen attributes);
this middleware names the span from the route the app actually matched and
records only the attributes the semantic conventions require. See
docs/decisions/0008-intake-serving-processes.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from opentelemetry import propagate
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_PROPAGATED = (b"traceparent", b"tracestate", b"baggage")


class RequestTracing:
    def __init__(
        self, app: ASGIApp, *, tracer_provider: TracerProvider, excluded_paths: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self._tracer = tracer_provider.get_tracer("runway.http")
        self._excluded = excluded_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._excluded:
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _PROPAGATED
        }
        method = scope["method"]
        status_code = 0

        async def send_and_note_status(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        with self._tracer.start_as_current_span(
            method,
            context=propagate.extract(carrier) if carrier else None,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as span:
            try:
                await self.app(scope, receive, send_and_note_status)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route:  # low-cardinality name: the template, not the concrete path
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                if status_code:
                    span.set_attribute("http.response.status_code", status_code)
                    if status_code >= 500:
                        span.set_status(Status(StatusCode.ERROR))
