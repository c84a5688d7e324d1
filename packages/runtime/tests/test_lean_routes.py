"""A lean route answers exactly as FastAPI would, without FastAPI's per-request machinery."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runway_runtime.host import database_unavailable
from runway_runtime.lean_routes import ServiceApp


def _router() -> APIRouter:
    router = APIRouter()

    @router.post("/v1/things/{thing_id}/notes")
    async def post_note(thing_id: str, request: Request) -> dict[str, Any]:
        body = await request.body()
        if body == b"missing":
            raise HTTPException(404, f"no thing {thing_id}")
        if body == b"slow down":
            raise HTTPException(429, [{"loc": ["body"], "msg": "wait"}], headers={"Retry-After": "7"})
        if body == b"database away":
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        if body == b"bug":
            raise RuntimeError("a bug")
        return {"thing": thing_id, "note": body.decode(), "lean": "runway.lean" in request.scope}

    @router.post("/v1/answers", status_code=202)
    async def post_answer(request: Request) -> Response:
        response = JSONResponse({"lean": "runway.lean" in request.scope}, status_code=202)
        response.headers["Idempotent-Replayed"] = "true"
        return response

    @router.post("/v1/counted", response_model=dict[str, int])
    async def post_counted(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"count": "many" if body == b"wrong" else len(body)}  # "many" fails the model

    return router


def _app(*lean: str) -> tuple[TestClient, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = ServiceApp()
    app.add_exception_handler(sa.exc.OperationalError, database_unavailable)
    router = _router()
    app.include_router(router)
    if lean:
        app.serve_lean(provider, router, *lean)
    return TestClient(app, raise_server_exceptions=False), exporter


CASES = [
    ("/v1/things/42/notes", b"hello"),
    ("/v1/things/42/notes", b"missing"),
    ("/v1/things/42/notes", b"slow down"),
    ("/v1/things/42/notes", b"database away"),
    ("/v1/things/42/notes", b"bug"),
    ("/v1/things/42/notes/", b"hello"),  # not the lean route's path: FastAPI answers
    ("/v1/answers", b""),
    ("/v1/counted", b"abc"),
    ("/v1/counted", b"wrong"),
]


@pytest.mark.parametrize(("path", "body"), CASES)
def test_a_lean_route_answers_as_fastapi_does(path: str, body: bytes) -> None:
    fastapi_client, _ = _app()
    lean_client, _ = _app("post_note", "post_answer", "post_counted")
    by_fastapi = fastapi_client.post(path, content=body, follow_redirects=False)
    lean = lean_client.post(path, content=body, follow_redirects=False)
    assert lean.status_code == by_fastapi.status_code
    assert lean.content.replace(b'"lean":true', b'"lean":false') == by_fastapi.content
    for header in ("content-type", "retry-after", "idempotent-replayed", "location"):
        assert lean.headers.get(header) == by_fastapi.headers.get(header)


def test_the_lean_path_is_the_one_taken_and_other_methods_fall_through() -> None:
    client, exporter = _app("post_note", "post_answer")
    assert client.post("/v1/things/42/notes", content=b"hi").json()["lean"] is True
    assert client.post("/v1/answers").json() == {"lean": True}
    assert client.get("/v1/answers").status_code == 405  # FastAPI's answer
    fastapi_client, _ = _app()
    assert fastapi_client.post("/v1/answers").json() == {"lean": False}
    (note, answer) = exporter.get_finished_spans()  # the 405 was FastAPI's, untraced here
    assert note.name == "POST /v1/things/{thing_id}/notes"
    assert note.attributes["http.route"] == "/v1/things/{thing_id}/notes"
    assert note.attributes["http.response.status_code"] == 200
    assert answer.attributes["http.response.status_code"] == 202


def test_an_unhandled_error_is_a_500_with_the_traceback_logged(caplog: pytest.LogCaptureFixture) -> None:
    client, exporter = _app("post_note")
    answer = client.post("/v1/things/1/notes", content=b"bug")
    assert (answer.status_code, answer.text) == (500, "Internal Server Error")
    assert "a bug" in caplog.text
    (span,) = exporter.get_finished_spans()
    assert span.status.is_ok is False


def test_routes_a_lean_path_would_change_are_refused_at_startup() -> None:
    provider = TracerProvider()
    router = APIRouter()

    async def caller(request: Request) -> str:
        return "someone"

    @router.post("/v1/with-dependency")
    async def with_dependency(request: Request, who: Annotated[str, Depends(caller)]) -> dict[str, str]:
        return {}

    @router.post("/v1/numbered/{n}")
    async def numbered(n: int, request: Request) -> dict[str, str]:
        return {}

    @router.post("/v1/no-request")
    async def no_request() -> dict[str, str]:
        return {}

    app = ServiceApp()
    app.include_router(router)
    for name in ("with_dependency", "numbered", "no_request"):
        with pytest.raises(TypeError, match=name):
            app.serve_lean(provider, router, name)
    with pytest.raises(LookupError):
        app.serve_lean(provider, router, "nothing_by_that_name")
    prefixed = ServiceApp()
    prefixed.include_router(router, prefix="/api")
    with pytest.raises(ValueError, match="prefix"):
        prefixed.serve_lean(provider, router, "no_request")
