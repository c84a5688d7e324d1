"""How JSON columns are encoded and decoded: orjson, with the standard library's answer
wherever orjson's would differ.

orjson does in C what `json` does largely in Python (a sign-up writes seven JSON values;
a batch writer spent a tenth of its time in `json.dumps`). It refuses a few things `json`
accepts — integers beyond 64 bits, NaN and Infinity on reading — so those go through
`json` as before: a value that could be stored yesterday can be stored today.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS  # {1: "a"} becomes {"1": "a"}, as with json.dumps


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


def loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
