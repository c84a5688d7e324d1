"""The SMS channel: a Twilio-compatible Messages API over HTTPS.

`POST {base}/2010-04-01/Accounts/{sid}/Messages.json` with To, From (or
MessagingServiceSid), Body and StatusCallback, HTTP Basic auth sid:token. The
provider answers 201 with the message's `sid`; errors carry a numeric `code`.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from runway_notify.domain.outcomes import Accepted, Outcome, Rejected, TryLater

# Provider error codes that mean this number will never take the message.
BAD_NUMBER_CODES = frozenset({21211, 21214, 21612, 21614, 21408})
# The number replied STOP at the provider (it keeps its own opt-out list).
OPTED_OUT_AT_PROVIDER = 21610


@dataclass(frozen=True)
class SmsAccount:
    base_url: str
    account_sid: str
    auth_token: str
    sender: str  # a phone number in E.164, or a messaging service id (MG…)
    status_callback: str | None = None
    timeout: float = 10.0


class SmsSender:
    def __init__(self, account: SmsAccount) -> None:
        self._account = account
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:  # made inside the event loop that uses it
            a = self._account
            self._client = httpx.AsyncClient(
                base_url=a.base_url.rstrip("/"), auth=(a.account_sid, a.auth_token), timeout=a.timeout
            )
        return self._client

    async def send(self, to: str, body: str) -> Outcome:
        a = self._account
        form = {"To": to, "Body": body}
        form["MessagingServiceSid" if a.sender.startswith("MG") else "From"] = a.sender
        if a.status_callback:
            form["StatusCallback"] = a.status_callback
        try:
            response = await self._http().post(
                f"/2010-04-01/Accounts/{a.account_sid}/Messages.json", data=form
            )
        except httpx.HTTPError as error:
            return TryLater("sms", f"{type(error).__name__}: {error}"[:500])
        if response.status_code in (200, 201):
            return Accepted("sms", response.json().get("sid"))
        return classify(response)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def classify(response: httpx.Response) -> Outcome:
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = body.get("code") if isinstance(body, dict) else None
    detail = (
        f"{response.status_code} {code or ''} {body.get('message', '') if isinstance(body, dict) else ''}"
    )
    if response.status_code == 400 and code == OPTED_OUT_AT_PROVIDER:
        return Rejected("sms", detail.strip(), suppress=True)
    if response.status_code == 400 and code in BAD_NUMBER_CODES:
        return Rejected("sms", detail.strip(), suppress=True)
    if response.status_code == 400:
        return Rejected("sms", detail.strip(), suppress=False)
    # 401/403 (credentials being rotated), 429, 5xx: wait and retry.
    return TryLater("sms", detail.strip())
