"""Hot routes answered without FastAPI's per-request machinery.

For every request FastAPI walks five middlewares, solves the endpoint's
dependencies (building a sub-response and parsing cookies on the way) and
serializes the result. On the routes that take sign-ups and webhooks, which
need none of it (they take the Request and path parameters and build their own
answer), that machinery cost more CPU than the endpoint itself (py-spy --gil,
docs/decisions/0014-lean-ingest-routes.md). A lean route calls the same
endpoint function directly and answers errors exactly as the app's exception
handlers do. The route stays registered with FastAPI, which documents it in
the OpenAPI schema and still serves any request the lean match does not take
(a trailing slash, another method).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.datastructures import DefaultPlaceholder
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute, APIRouter, serialize_response
from opentelemetry.sdk.trace import TracerProvider
from starlette.convertors import StringConvertor
from starlette.exceptions import HTTPException

from runway_observability.http_tracing import ASGIApp, Receive, RequestTracing, Scope, Send

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Lean:
    route: APIRoute
    request_param: str


class ServiceApp(FastAPI):
    """A FastAPI app that can answer chosen routes leanly (see `serve_lean`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lean: list[_Lean] = []
        self._lean_app: ASGIApp | None = None

    def serve_lean(self, tracer_provider: TracerProvider, router: APIRouter, *names: str) -> None:
        """Answer these routes of `router` (included in this app) leanly, each in a server span.

        Refuses, at startup, a route whose endpoint needs anything FastAPI
        would have resolved for it (only the Request and string path
        parameters are handed over), and a route included under another path.
        """
        by_name = {r.name: r for r in router.routes if isinstance(r, APIRoute)}
        for name in names:
            route = by_name.get(name)
            if route is None:
                raise LookupError(f"no route named {name!r}")
            sample = {param: "x" for param in route.param_convertors}
            if self.url_path_for(name, **sample) != route.url_path_for(name, **sample):
                raise ValueError(f"route {name!r} is included under a prefix; a lean route has its own path")
            self._lean.append(_Lean(route, _request_param(route)))
        self._lean_app = RequestTracing(self._answer, tracer_provider=tracer_provider)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._lean_app is not None:
            for lean in self._lean:
                if scope["method"] in lean.route.methods and (
                    match := lean.route.path_regex.match(scope["path"])
                ):
                    scope["app"] = self
                    scope["route"] = lean.route
                    scope["path_params"] = match.groupdict()
                    scope["runway.lean"] = lean
                    await self._lean_app(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        lean: _Lean = scope["runway.lean"]
        request = Request(scope, receive)
        try:
            result = await lean.route.endpoint(**{lean.request_param: request}, **scope["path_params"])
            response = await _as_response(lean.route, result)
        except Exception as error:  # noqa: BLE001 — answered by the app's handlers, as FastAPI would
            response = await self._handle(request, error)
        await response(scope, receive, send)

    async def _handle(self, request: Request, error: Exception) -> Response:
        handlers = self.exception_handlers
        handler: Callable[[Request, Exception], Response | Awaitable[Response]] | None = None
        if isinstance(error, HTTPException):
            handler = handlers.get(error.status_code)
        if handler is None:
            handler = next((handlers[k] for k in type(error).__mro__ if k in handlers), None)
        if handler is None:
            # What Starlette's ServerErrorMiddleware answers; the traceback goes to the log.
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            return PlainTextResponse("Internal Server Error", status_code=500)
        answer = handler(request, error)
        return await answer if inspect.isawaitable(answer) else answer


def _request_param(route: APIRoute) -> str:
    request_param = None
    for name, param in inspect.signature(route.endpoint).parameters.items():
        if param.annotation in (Request, "Request"):
            request_param = name
        elif not (
            isinstance(route.param_convertors.get(name), StringConvertor) and param.annotation in (str, "str")
        ):
            raise TypeError(
                f"route {route.name!r}: parameter {name!r} is neither the Request nor a path string"
            )
    if request_param is None or not inspect.iscoroutinefunction(route.endpoint):
        raise TypeError(f"route {route.name!r}: a lean endpoint is `async def` and takes the Request")
    if not (
        isinstance(route.response_class, DefaultPlaceholder) and route.response_class.value is JSONResponse
    ):
        raise TypeError(f"route {route.name!r} has its own response class; a lean route answers JSON")
    if route.dependant.dependencies:
        raise TypeError(f"route {route.name!r} has dependencies; a lean route would skip them")
    return request_param


async def _as_response(route: APIRoute, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    # As FastAPI does: validated against the response model (inferred from the return
    # annotation when not given), then JSON.
    content = await serialize_response(field=route.response_field, response_content=result)
    return JSONResponse(content, status_code=route.status_code or 200)
