from datetime import UTC, date, datetime

from runway_intake.domain.signup import Signup, merged_values


def signup(**fields: object) -> Signup:
    base: dict[str, object] = dict(
        form_key="signup",
        first_name=None,
        last_name=None,
        email="a@example.org",
        phone=None,
        postal_code=None,
        birth_date=None,
        interests=(),
        email_consent=None,
        sms_consent=None,
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return Signup(**(base | fields))  # type: ignore[arg-type]


def test_newer_values_fill_in_and_empty_ones_never_erase() -> None:
    existing = {
        "first_name": "Maya",
        "last_name": None,
        "postal_code": "66044",
        "interests": ["housing"],
        "tags": [],
    }
    updates = merged_values(existing, signup(first_name=None, last_name="Ortiz", interests=("school_board",)))
    assert updates == {"last_name": "Ortiz", "interests": ["housing", "school_board"]}


def test_a_repeat_submission_with_nothing_new_changes_nothing() -> None:
    existing = {"first_name": "Maya", "birth_date": date(2000, 5, 1), "interests": ["housing"], "tags": ["a"]}
    assert merged_values(existing, signup(first_name="Maya", interests=("housing",), tags=("a",))) == {}
