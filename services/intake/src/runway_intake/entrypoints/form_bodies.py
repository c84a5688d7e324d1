"""Reading a form post in any of the shapes forms use, into one flat dict of field paths."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request, status
from starlette.datastructures import UploadFile

from runway_intake.domain.forms import flatten, normalize_path

JSON = "application/json"
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
SUPPORTED = (JSON, URLENCODED, MULTIPART)


def media_type(request: Request) -> tuple[str, str]:
    """(media type, charset) of the request."""
    header = request.headers.get("content-type", "")
    kind, *params = [part.strip() for part in header.split(";")]
    charset = "utf-8"
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or charset
    return kind.lower(), charset


def _unprocessable(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["body"], "msg": reason, "type": "value_error"}]
    )


def _decode(body: bytes, charset: str) -> str:
    try:
        return body.decode(charset)
    except LookupError:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"unknown charset {charset!r}") from None
    except UnicodeDecodeError:
        raise _unprocessable(f"body is not valid {charset}") from None


def _merge_repeated(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in pairs:
        path = normalize_path(name)
        if path in fields:  # a repeated key is a multi-choice answer
            previous = fields[path]
            fields[path] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[path] = value
    return fields


def _expand_jotform(fields: dict[str, Any]) -> dict[str, Any]:
    """Jotform posts its answers as a JSON string in `rawRequest`; unpack it beside the rest."""
    raw = fields.get("rawRequest")
    if not isinstance(raw, str):
        return fields
    try:
        answers = json.loads(raw)
    except ValueError:
        raise _unprocessable("rawRequest is not valid JSON") from None
    if not isinstance(answers, dict):
        raise _unprocessable("rawRequest must be a JSON object")
    return {**{k: v for k, v in fields.items() if k not in {"rawRequest", "pretty"}}, **flatten(answers)}


async def read_fields(request: Request, body: bytes) -> dict[str, Any]:
    kind, charset = media_type(request)
    if kind == JSON:
        try:
            parsed = json.loads(_decode(body, charset))
        except ValueError:
            raise _unprocessable("body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise _unprocessable("expected a JSON object")
        return flatten(parsed)
    if kind == URLENCODED:
        try:  # percent-escapes are bytes in the declared charset, not always UTF-8
            pairs = parse_qsl(
                _decode(body, charset), keep_blank_values=True, encoding=charset, errors="strict"
            )
        except UnicodeDecodeError:
            raise _unprocessable(f"a field is not valid {charset}") from None
        return _expand_jotform(_merge_repeated(pairs))
    if kind == MULTIPART:
        request._body = body  # already read (and size-checked); let Starlette parse it from memory
        # A malformed multipart body is answered 400 by Starlette, naming what is wrong.
        form = await request.form()
        pairs: list[tuple[str, Any]] = []
        for name, value in form.multi_items():
            # Files are not kept: a sign-up is text. Their names are recorded.
            pairs.append((name, value.filename if isinstance(value, UploadFile) else value))
        return _expand_jotform(_merge_repeated(pairs))
    raise HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"send one of {', '.join(SUPPORTED)} (got {kind or 'none'})"
    )
