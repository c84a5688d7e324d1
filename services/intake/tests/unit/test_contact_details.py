import pytest

from runway_intake.domain.contact_details import (
    InvalidField,
    normalize_email,
    normalize_phone,
    normalize_postal_code,
)


def test_email_domain_is_lowercased_and_the_local_part_kept() -> None:
    assert normalize_email("  Maya.Ortiz@Example.ORG ") == "Maya.Ortiz@example.org"


def test_an_email_without_an_at_sign_names_the_email_field() -> None:
    with pytest.raises(InvalidField) as error:
        normalize_email("maya.example.org")
    assert error.value.field == "email"


@pytest.mark.parametrize("raw", ["(785) 555-0142", "785.555.0142", "+1 785 555 0142", "17855550142"])
def test_us_phone_numbers_in_any_common_format_become_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+17855550142"


def test_an_impossible_phone_number_is_refused() -> None:
    with pytest.raises(InvalidField) as error:
        normalize_phone("555-0142")
    assert error.value.field == "phone"


def test_zip_plus_four_is_shortened_to_the_five_digit_zip() -> None:
    assert normalize_postal_code("66044-1234") == "66044"


@pytest.mark.parametrize("raw", ["6604", "ABCDE", "660441"])
def test_malformed_zip_codes_are_refused(raw: str) -> None:
    with pytest.raises(InvalidField):
        normalize_postal_code(raw)


def test_addresses_differing_only_in_case_share_one_identity() -> None:
    from runway_intake.domain.contact_details import email_identity

    assert email_identity(normalize_email("Maya@EXAMPLE.org")) == email_identity(
        normalize_email("maya@example.org")
    )
