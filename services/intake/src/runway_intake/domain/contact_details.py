"""Normalizing the identifiers that decide who a person is."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email


class InvalidField(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# Most addresses people type are plain ASCII: letters, digits and a few marks
# before the @, hostname labels after it ending in a letter-only TLD. For
# those, email-validator's answer is known without running its Unicode and
# IDNA checks (about 60 µs an address, the largest cost of a sign-up request):
# the address itself, with the domain lowercased. Anything else (quotes,
# Unicode, "--" in a label, long parts, special-use domains) still goes
# through email-validator, which alone decides what is refused and why.
_PLAIN_ADDRESS = re.compile(
    r"(?P<local>[A-Za-z0-9_+\-]+(?:\.[A-Za-z0-9_+\-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_SPECIAL_USE_SUFFIXES = tuple(f".{name}" for name in SPECIAL_USE_DOMAIN_NAMES)


def _plain_address(address: str) -> str | None:
    """The normalized form of a plain ASCII address, or None to ask email-validator."""
    match = _PLAIN_ADDRESS.fullmatch(address)
    if match is None or len(address) > 254 or len(match["local"]) > 64:
        return None
    domain = match["domain"].lower()
    if "--" in domain or len(domain) > 253 or f".{domain}".endswith(_SPECIAL_USE_SUFFIXES):
        return None
    return f"{match['local']}@{domain}"


def normalize_email(raw: str) -> str:
    """Syntax-checked email with a lowercased domain (the local part is kept as typed)."""
    if plain := _plain_address(raw.strip()):
        return plain
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
