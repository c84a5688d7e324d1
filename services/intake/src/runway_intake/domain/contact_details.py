"""Normalizing the identifiers that decide who a person is."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InvalidField(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def normalize_email(raw: str) -> str:
    """Syntax-checked email with a lowercased domain (the local part is kept as typed)."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidField("email", str(error)) from None
    local, domain = result.normalized.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def email_identity(email: str) -> str:
    """The key that decides whether two addresses are the same person's."""
    return email.casefold()


def normalize_phone(raw: str, region: str = "US") -> str:
    """E.164, assuming a US number when no country code is given."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidField("phone", str(error)) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidField("phone", "not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_ZIP = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")


def normalize_postal_code(raw: str) -> str:
    """The 5-digit ZIP (a ZIP+4 is accepted and shortened)."""
    match = _ZIP.match(raw.strip())
    if not match:
        raise InvalidField("postal_code", "expected a 5-digit ZIP code or ZIP+4")
    return match.group(1)
