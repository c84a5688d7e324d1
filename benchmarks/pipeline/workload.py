"""What the load harness sends: sign-ups through several registered forms (with people
signing up again on another form), race lookups by ZIP, and webhooks for monthly gifts:
signed Stripe `invoice.paid` events and ActBlue contributions (HTTP Basic), alternately.

Everything is derived from a run id and an index, so the checker can say what each
accepted request should have caused without keeping the requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from benchmarks.loadgen import render

# ZIPs inside the sample catalog the stack loads (Kansas and Missouri), each with races.
ZIPS = ("66044", "66502", "67202", "66603", "64108", "63101", "65201", "65806")
CONSENT = "Email me about running for office."
# Every this-many sign-ups, one is a person who signed up before, again, on another form.
REPEAT_EVERY = 10

FORMS = {
    # Runway's own site: canonical field names.
    "runway-site": {
        "mapping": {
            "first_name": "first_name",
            "email": "email",
            "phone": "phone",
            "zip": "zip",
            "interests": "interests",
            "email_consent": "email_consent",
        },
        "consent_wording": CONSENT,
    },
    # A partner's JSON form with nested fields and its own choice labels.
    "partner-json": {
        "mapping": {
            "first_name": "who.given",
            "email": "contact.email",
            "phone": "contact.phone",
            "zip": "contact.address.zip",
            "interests": "wants",
            "email_consent": "contact.ok",
        },
        "value_maps": {"interests": {"School Board": "school_board", "City Council": "city_council"}},
        "default_tags": ["partner-json"],
        "consent_wording": CONSENT,
    },
    # A school-board recruitment drive, its fields named as the organizer chose.
    "school-board-drive": {
        "mapping": {
            "full_name": "name",
            "email": "mail",
            "phone": "cell",
            "zip": "postal",
            "email_consent": "agree",
        },
        "default_tags": ["school-board-drive"],
        "consent_wording": CONSENT,
    },
}
FORM_KEYS = tuple(FORMS)


@dataclass(frozen=True)
class Person:
    index: int
    email: str
    phone: str
    zip_code: str


def person(run_id: str, index: int) -> Person:
    # A phone of their own per person, so only the repeats below join an earlier lead.
    return Person(
        index,
        f"p{index}-{run_id}@example.org",
        _phone(index),
        ZIPS[index % len(ZIPS)],
    )


EXCHANGES = [x for x in range(201, 1000) if x % 100 != 11 and x != 555]  # no N11, no 555


def _phone(index: int) -> str:
    """A valid Kansas (785) number, unique per person for up to 7.9 million people."""
    exchange, line = EXCHANGES[index // 10_000], index % 10_000
    return f"+1785{exchange:03d}{line:04d}"


def signup_person(run_id: str, i: int) -> Person:
    """The person behind sign-up `i`: new, or every REPEAT_EVERY-th an earlier one again."""
    if i and i % REPEAT_EVERY == 0:
        return person(run_id, (i // REPEAT_EVERY) * 7 % i)
    return person(run_id, i)


def signup_body(form_key: str, who: Person) -> dict[str, object]:
    if form_key == "runway-site":
        return {
            "first_name": "Maya",
            "email": who.email,
            "phone": who.phone,
            "zip": who.zip_code,
            "interests": ["school_board", "county"],
            "email_consent": "yes",
        }
    if form_key == "partner-json":
        return {
            "who": {"given": "Ana"},
            "wants": ["School Board", "housing"],
            "favorite_color": "teal",
            "contact": {"email": who.email, "phone": who.phone, "address": {"zip": who.zip_code}, "ok": True},
        }
    return {
        "name": "Sam Rivera",
        "mail": who.email,
        "cell": who.phone,
        "postal": who.zip_code,
        "agree": "on",
        "shirt_size": "M",
    }


def signup_request(run_id: str, i: int, host: str) -> tuple[Person, bytes]:
    who = signup_person(run_id, i)
    form_key = FORM_KEYS[i % len(FORM_KEYS)]
    body = json.dumps(signup_body(form_key, who)).encode()
    return who, render("POST", f"/v1/forms/{form_key}/submissions", host, body)


def lookup_request(i: int, host: str) -> bytes:
    return render("GET", f"/v1/races?zip={ZIPS[i % len(ZIPS)]}&limit=20", host, b"")


DONORS = 2000  # webhook i is a gift of donor i % DONORS


def donor_email(run_id: str, i: int) -> str:
    return f"donor{i % DONORS}-{run_id}@example.org"


def webhook_provider(i: int) -> str:
    return "actblue" if i % 2 else "stripe"


def _actblue_lineitem(run_id: str, i: int) -> int:
    return int(run_id, 16) * 10_000_000 + i  # ActBlue's ids are numbers; unique per run


def payment_ref(run_id: str, i: int) -> str:
    """The contribution's reference in donations' tables: Stripe's invoice, ActBlue's line item."""
    return str(_actblue_lineitem(run_id, i)) if webhook_provider(i) == "actblue" else f"in_{run_id}_{i}"


def webhook_event_id(run_id: str, i: int) -> str:
    """The raw event's identity in donations' store."""
    if webhook_provider(i) == "actblue":
        return f"contribution:{_actblue_lineitem(run_id, i)}"
    return f"evt_{run_id}_{i}"


def webhook_request(run_id: str, i: int, stripe_secret: str, actblue: tuple[str, str], host: str) -> bytes:
    if webhook_provider(i) == "actblue":
        return actblue_request(run_id, i, actblue, host)
    return stripe_request(run_id, i, stripe_secret, host)


def actblue_request(run_id: str, i: int, credentials: tuple[str, str], host: str) -> bytes:
    """One line item of a $27 monthly ActBlue gift, as its contribution webhook posts it."""
    donor = i % DONORS
    paid = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    payload = {
        "donor": {
            "firstname": "Ari",
            "lastname": "Donor",
            "addr1": "12 Elm St",
            "city": "Topeka",
            "state": "KS",
            "zip": "66603",
            "country": "United States",
            "email": donor_email(run_id, i),
            "phone": None,
            "employerData": {"employer": "Topeka Public Schools", "occupation": "Teacher"},
        },
        "contribution": {
            "createdAt": paid,
            "orderNumber": f"AB{run_id}{donor:05d}",
            "contributionForm": "runway-monthly",
            "refcode": "pipeline",
            "recurringPeriod": "monthly",
            "recurringDuration": "infinite",
            "isRecurring": True,
            "status": "approved",
        },
        "lineitems": [
            {
                "sequence": 1,
                "committeeName": "Runway Action Fund",
                "amount": "27.00",
                "recurringAmount": "27.00",
                "paidAt": paid,
                "lineitemId": _actblue_lineitem(run_id, i),
                "amountLessAbFees": "25.93",
            }
        ],
        "form": {"name": "runway-monthly", "kind": "page", "managingEntityName": "Runway Action Fund"},
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    token = base64.b64encode(":".join(credentials).encode()).decode()
    return render("POST", "/v1/webhooks/actblue", host, body, headers={"Authorization": f"Basic {token}"})


def stripe_request(run_id: str, i: int, secret: str, host: str) -> bytes:
    """A freshly signed `invoice.paid` for a $25 monthly gift (each a new invoice)."""
    created = int(time.time())
    donor = i % DONORS
    invoice = {
        "id": f"in_{run_id}_{i}",
        "object": "invoice",
        "subscription": f"sub_{run_id}_{donor}",
        "customer": f"cus_{run_id}_{donor}",
        "customer_email": donor_email(run_id, i),
        "customer_name": "Dana Donor",
        "amount_paid": 2500,
        "currency": "usd",
        "status": "paid",
        "billing_reason": "subscription_cycle",
        "charge": f"ch_{run_id}_{i}",
        "payment_intent": f"pi_{run_id}_{i}",
        "status_transitions": {"paid_at": created},
        "lines": {"data": [{"price": {"recurring": {"interval": "month"}}, "amount": 2500}]},
    }
    event = {
        "id": webhook_event_id(run_id, i),
        "object": "event",
        "type": "invoice.paid",
        "created": created,
        "api_version": "2024-06-20",
        "data": {"object": invoice},
    }
    body = json.dumps(event, separators=(",", ":")).encode()
    signed = hmac.new(secret.encode(), f"{created}.".encode() + body, hashlib.sha256).hexdigest()
    return render(
        "POST", "/v1/webhooks/stripe", host, body, headers={"Stripe-Signature": f"t={created},v1={signed}"}
    )
