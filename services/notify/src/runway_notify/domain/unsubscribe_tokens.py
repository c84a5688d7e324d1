"""Signed tokens for unsubscribe links: the link itself proves which address it is for."""

from __future__ import annotations

import base64
import hashlib
import hmac


class BadToken(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(secret: str, channel: str, address: str) -> str:
    payload = f"{channel}\n{address}".encode()
    signature = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(signature)}"


def read_token(secret: str, token: str) -> tuple[str, str]:
    """(channel, address), or BadToken if the token was not made with `secret`."""
    try:
        payload_part, signature_part = token.split(".", 1)
        payload, signature = _unb64(payload_part), _unb64(signature_part)
    except (ValueError, TypeError):
        raise BadToken("malformed token") from None
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(signature, expected):
        raise BadToken("signature does not match")
    channel, _, address = payload.decode().partition("\n")
    return channel, address
