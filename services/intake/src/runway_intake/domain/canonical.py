"""From a form's mapped fields to a validated Signup, reporting every bad field at once."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from runway_intake.domain.contact_details import (
    InvalidField,
    normalize_email,
    normalize_phone,
    normalize_postal_code,
)
from runway_intake.domain.forms import Form, MappedSubmission
from runway_intake.domain.interests import unknown_interests
from runway_intake.domain.signup import Consent, Signup

TRUE = {"1", "true", "yes", "y", "on", "checked", "agree", "i agree"}
FALSE = {"", "0", "false", "no", "n", "off"}
STATE = re.compile(r"^[A-Za-z]{2}$")
MAX_TEXT = 300


class InvalidSubmission(ValueError):
    def __init__(self, errors: list[InvalidField]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors


def _text(value: Any, name: str, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    text = str(value).strip()
    if len(text) > limit:
        raise InvalidField(name, f"longer than {limit} characters")
    return text or None


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, list):
        return any(_flag(v, name) for v in value)
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise InvalidField(name, f"expected yes or no, got {str(value)[:40]!r}")


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _birth_date(value: Any, today: date) -> date | None:
    text = _text(value, "birth_date", 20)
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y"):
        try:
            born = datetime.strptime(text, pattern).date()
            break
        except ValueError:
            continue
    else:
        raise InvalidField("birth_date", "expected YYYY-MM-DD or MM/DD/YYYY")
    if not date(today.year - 120, 1, 1) <= born <= today:
        raise InvalidField("birth_date", "not a plausible birth date")
    return born


def _age(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        age = int(str(value).strip())
    except ValueError:
        raise InvalidField("age", "expected a whole number") from None
    if not 0 < age < 120:
        raise InvalidField("age", "not a plausible age")
    return age


def build_signup(
    form: Form,
    mapped: MappedSubmission,
    *,
    received_at: datetime,
    ip: str | None,
    user_agent: str | None,
    raw: dict[str, Any],
) -> Signup:
    f = mapped.fields
    errors: list[InvalidField] = []
    values: dict[str, Any] = {}

    def check(name: str, parse: Any) -> None:
        try:
            values[name] = parse()
        except InvalidField as error:
            errors.append(error)

    check("first_name", lambda: _text(f.get("first_name"), "first_name", 200))
    check("last_name", lambda: _text(f.get("last_name"), "last_name", 200))
    check("email", lambda: normalize_email(str(f["email"])) if _text(f.get("email"), "email", 320) else None)
    check("phone", lambda: normalize_phone(str(f["phone"])) if _text(f.get("phone"), "phone", 40) else None)
    check(
        "postal_code",
        lambda: normalize_postal_code(str(f["zip"])) if _text(f.get("zip"), "zip", 10) else None,
    )
    check("street", lambda: _text(f.get("street"), "street"))
    check("city", lambda: _text(f.get("city"), "city", 100))
    check("birth_date", lambda: _birth_date(f.get("birth_date"), received_at.date()))
    check("age", lambda: _age(f.get("age")))
    check(
        "email_consent", lambda: _flag(f["email_consent"], "email_consent") if "email_consent" in f else None
    )
    check("sms_consent", lambda: _flag(f["sms_consent"], "sms_consent") if "sms_consent" in f else None)

    def state() -> str | None:
        text = _text(f.get("state"), "state", 2)
        if text and not STATE.match(text):
            raise InvalidField("state", "expected a two-letter state code")
        return text.upper() if text else None

    check("state", state)
    if values.get("first_name") is None and values.get("last_name") is None and f.get("full_name"):
        first, _, last = (_text(f.get("full_name"), "full_name", 400) or "").partition(" ")
        values["first_name"], values["last_name"] = first or None, last.strip() or None
    interests = _list(f.get("interests"))
    if unknown := unknown_interests(interests):
        errors.append(InvalidField("interests", f"unknown interest codes: {', '.join(unknown)}"))
    if not errors and not (values["email"] or values["phone"]):
        errors.append(InvalidField("email", "an email or a phone number is required"))
    check("consent_wording", lambda: _text(f.get("consent_wording"), "consent_wording", 2000))
    wording = values.get("consent_wording") or form.consent_wording
    wording_invalid = any(e.field == "consent_wording" for e in errors)
    if (values.get("email_consent") or values.get("sms_consent")) and not wording and not wording_invalid:
        errors.append(InvalidField("consent_wording", "consent was given but the wording shown is unknown"))
    if errors:
        raise InvalidSubmission(errors)

    def consent(granted: bool | None) -> Consent | None:
        return (
            None
            if granted is None or wording is None
            else Consent(granted, received_at, wording, ip, user_agent)
        )

    utm = {k: str(f[k])[:200] for k in ("utm_source", "utm_medium", "utm_campaign") if f.get(k)}
    return Signup(
        form_key=form.key,
        first_name=values["first_name"],
        last_name=values["last_name"],
        email=values["email"],
        phone=values["phone"],
        postal_code=values["postal_code"],
        birth_date=values["birth_date"],
        interests=tuple(interests),
        email_consent=consent(values["email_consent"]),
        sms_consent=consent(values["sms_consent"]),
        received_at=received_at,
        ip=ip,
        user_agent=user_agent,
        tags=tuple(sorted(set(_list(f.get("tags"))) | set(form.default_tags))),
        street=values["street"],
        city=values["city"],
        state=values["state"],
        age=values["age"],
        source=form.default_source or form.key,
        refcode=_text(f.get("refcode"), "refcode", 100) or form.default_refcode,
        utm=utm,
        custom_fields=mapped.custom_fields,
        raw=raw,
    )
