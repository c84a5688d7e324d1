"""The SMS provider's webhook signature (Twilio's `X-Twilio-Signature` scheme).

Base64 of HMAC-SHA1, keyed with the account's auth token, over the full URL
the provider called followed by every form parameter as name+value, sorted by
name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def sms_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    payload = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def sms_signature_valid(auth_token: str, url: str, params: Iterable[tuple[str, str]], given: str) -> bool:
    return hmac.compare_digest(sms_signature(auth_token, url, params).encode(), given.encode())
