"""Whatever order provider events arrive in, and however often, the final state and ledger are the same."""

from __future__ import annotations

from collections import Counter

from donation_scenarios import Delivery, DonationsDatabase, actblue_plan, anedot_plan, stripe_plan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@st.composite
def histories(draw: st.DrawFn) -> list[Delivery]:
    """Several plans' events (Stripe, ActBlue, Anedot), each plan's in chronological order."""
    events: list[Delivery] = []
    for n in range(draw(st.integers(1, 2))):
        events += stripe_plan(
            n,
            paid=draw(st.integers(0, 3)),
            failures=draw(st.integers(0, 4)),
            refund=draw(st.booleans()),
            dispute=draw(st.booleans()),
            cancel=draw(st.booleans()),
        )
    if draw(st.booleans()):
        events += actblue_plan(
            7,
            paid=draw(st.integers(1, 3)),
            declined=draw(st.booleans()),
            refund=draw(st.booleans()),
            cancel=draw(st.booleans()),
        )
    if draw(st.booleans()):
        events += anedot_plan(
            9, paid=draw(st.integers(0, 2)), refund=draw(st.booleans()), cancel=draw(st.booleans())
        )
    return events


def apply(db: DonationsDatabase, deliveries: list[Delivery]) -> tuple[dict[str, object], Counter[str]]:
    db.clear()
    for delivery in deliveries:
        db.deliver(delivery)
    return db.snapshot(), db.published()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), history=histories())
def test_any_order_and_any_repeats_give_the_same_state_ledger_and_notices(
    donations_db: DonationsDatabase, data: st.DataObject, history: list[Delivery]
) -> None:
    expected_state, expected_events = apply(donations_db, history)

    shuffled = data.draw(st.permutations(history), label="arrival order")
    repeats = data.draw(st.lists(st.sampled_from(history), max_size=8), label="redeliveries")
    positions = data.draw(
        st.lists(st.integers(0, len(shuffled)), min_size=len(repeats), max_size=len(repeats))
    )
    arrivals = list(shuffled)
    for delivery, at in zip(repeats, positions, strict=True):
        arrivals.insert(at, delivery)

    state, events = apply(donations_db, arrivals)
    assert state == expected_state
    # Money events follow the facts: one per payment, failed attempt and refund, in any order.
    for kind in ("contribution.succeeded", "contribution.failed", "contribution.refunded"):
        assert events[f"donations.{kind}.v1"] == expected_events[f"donations.{kind}.v1"]
    ended = sum(1 for plan in state["plans"] if plan[2] in ("cancelled", "failed"))  # type: ignore[index]
    assert events["donations.recurring.canceled.v1"] == ended
    assert events["donations.recurring.started.v1"] <= len(state["plans"])  # type: ignore[arg-type]
