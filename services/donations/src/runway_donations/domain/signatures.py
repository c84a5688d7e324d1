"""Checks for the providers' other schemes: ActBlue's HTTP Basic auth, Anedot's body HMAC."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac


class NotAuthenticated(ValueError):
    pass


def check_basic_auth(header: str | None, username: str, password: str) -> None:
    if not header or not header.lower().startswith("basic "):
        raise NotAuthenticated("HTTP Basic credentials are required")
    try:
        given = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise NotAuthenticated("malformed Basic credentials") from None
    user, sep, secret = given.partition(":")
    # Both compared, always, so timing tells nothing about which was wrong.
    ok_user = hmac.compare_digest(user.encode(), username.encode())
    ok_password = hmac.compare_digest(secret.encode(), password.encode())
    if not (sep and ok_user and ok_password):
        raise NotAuthenticated("wrong username or password")


def check_body_hmac(body: bytes, header: str | None, secret: str) -> None:
    if not header:
        raise NotAuthenticated("X-Request-Signature header is required")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(header.strip().lower().removeprefix("sha256="), expected):
        raise NotAuthenticated("X-Request-Signature does not match the body")
