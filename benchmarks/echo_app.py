"""The reference: a bare FastAPI endpoint that parses a JSON body and answers 202."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/echo")
async def echo(request: Request) -> JSONResponse:
    body: Any = await request.json()
    return JSONResponse({"echo": len(body)}, status_code=202)
