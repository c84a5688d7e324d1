import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

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


# The plain-address fast path must agree with email-validator wherever it answers.
_ADDRESS_PIECES = st.sampled_from(
    [
        "a",
        "Z",
        "0",
        "9",
        ".",
        "-",
        "--",
        "_",
        "+",
        "@",
        "xn--",
        "com",
        "ORG",
        "test",
        "local",
        "arpa",
        "é",
        "ß",
        "İ",
        "\u00a0",
        " ",
        '"',
        "(",
        "!",
        "#",
        "a" * 30,
        "b" * 63,
        "c" * 64,
    ]
)


def _agrees_with_email_validator(address: str) -> None:
    from email_validator import EmailNotValidError, validate_email

    from runway_intake.domain.contact_details import _plain_address

    fast = _plain_address(address)
    if fast is None:
        return  # email-validator alone decides
    try:
        normalized = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise AssertionError(f"fast path accepted {address!r}, email-validator refuses: {error}") from None
    local, domain = normalized.rsplit("@", 1)
    assert fast == f"{local}@{domain.lower()}"


@settings(max_examples=3000, deadline=None)
@given(st.lists(_ADDRESS_PIECES, max_size=14).map("".join))
def test_fast_path_agrees_with_email_validator_on_arbitrary_strings(address: str) -> None:
    _agrees_with_email_validator(address)


_LABELS = st.one_of(
    st.sampled_from(["ab--cd", "xn--p1ai", "a-b", "-ab", "ab-", "1", "c0m", "a" * 63, "b" * 64]),
    st.from_regex(r"[A-Za-z0-9\-]{1,12}", fullmatch=True),
)
_TLDS = st.one_of(
    st.sampled_from(
        ["org", "ORG", "test", "local", "localhost", "arpa", "onion", "invalid", "c0m", "c0", "123", "x"]
    ),
    st.from_regex(r"[A-Za-z]{2,8}", fullmatch=True),
)
_ATOMS = st.one_of(
    st.sampled_from(["", "a" * 64, "Sam"]), st.from_regex(r"[A-Za-z0-9_+\-]{1,8}", fullmatch=True)
)


@settings(max_examples=2000, deadline=None)
@example("a" * 64, ["b" * 63, "c" * 63, "d" * 63], "org")  # 260 characters: too long
@example("a" * 58, ["b" * 63, "c" * 63, "d" * 63], "org")  # 254: just fits
@given(
    st.lists(_ATOMS, min_size=1, max_size=4).map(".".join),
    st.lists(_LABELS, min_size=0, max_size=3),
    _TLDS,
)
def test_fast_path_agrees_with_email_validator_on_address_shaped_strings(
    local: str, labels: list[str], tld: str
) -> None:
    _agrees_with_email_validator(f"{local}@{'.'.join([*labels, tld])}")


@pytest.mark.parametrize(
    "address",
    [
        "maya@ab--cd.org",
        "maya@mail.test",
        "maya@host.local",
        "maya@x.onion",
        "a" * 65 + "@example.org",
        "maya@" + "a" * 64 + ".org",
        "maya@-example.org",
        "maya@example-.org",
        "maya@example.c0m",
        ".maya@example.org",
        "maya.@example.org",
        "ma..ya@example.org",
        "maya@example",
    ],
)
def test_addresses_the_fast_path_leaves_to_email_validator(address: str) -> None:
    from runway_intake.domain.contact_details import _plain_address

    assert _plain_address(address) is None


def test_plain_addresses_take_the_fast_path() -> None:
    from runway_intake.domain.contact_details import _plain_address

    assert _plain_address("Sam.Lee+runway@Mail.Example.ORG") == "Sam.Lee+runway@mail.example.org"
