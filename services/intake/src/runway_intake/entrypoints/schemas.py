"""The HTTP shapes of intake's API (not the events, not the tables)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ConsentIn(BaseModel):
    email: bool = Field(default=False, description="Agreed to receive email.")
    sms: bool = Field(default=False, description="Agreed to receive text messages.")
    wording: str = Field(min_length=1, max_length=2000, description="The exact consent text shown.")


class SignupIn(BaseModel):
    """A sign-up through Runway's own form."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    zip: str | None = Field(default=None, max_length=10, description="5-digit ZIP or ZIP+4.")
    birth_date: date | None = None
    interests: list[str] = Field(default_factory=list, max_length=30)
    tags: list[str] = Field(default_factory=list, max_length=30)
    consent: ConsentIn | None = None


class SignupAccepted(BaseModel):
    lead_id: str
    submission_id: str
    is_new_lead: bool


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its $defs inlined, for use inside an OpenAPI document."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)  # type: ignore[no-any-return]


class FormIn(BaseModel):
    """A form as registered by its owner."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$", description="Used in the submission URL.")
    name: str = Field(min_length=1, max_length=200)
    owner: str = Field(min_length=1, max_length=200, description="Organization or partner.")
    mapping: dict[str, str] = Field(
        description="Canonical lead field -> the form's field path (a.b or a[b])."
    )
    value_maps: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per field: form choice -> code."
    )
    default_tags: list[str] = Field(default_factory=list)
    default_source: str | None = None
    default_refcode: str | None = None
    consent_wording: str | None = Field(
        default=None, description="Shown on the form, if it does not post it."
    )
    allowed_origins: list[str] = Field(default_factory=list, description="Browser origins allowed to post.")
    auth: str = Field(
        default="none", pattern="^(none|hmac|bearer)$", description="Partner forms: hmac or bearer."
    )
    secret: str | None = Field(default=None, min_length=16, max_length=200, description="For hmac or bearer.")
    thank_you_url: str | None = None
    honeypot_field: str | None = "website"
    active: bool = True


class FormOut(BaseModel):
    key: str
    name: str
    owner: str
    mapping: dict[str, str]
    value_maps: dict[str, dict[str, str]]
    default_tags: list[str]
    default_source: str | None
    default_refcode: str | None
    consent_wording: str | None
    allowed_origins: list[str]
    auth: str
    has_secret: bool
    thank_you_url: str | None
    honeypot_field: str | None
    active: bool


class UniqueLeads(BaseModel):
    unique_leads: int
    as_of: str


class LeadOut(BaseModel):
    lead_id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    postal_code: str | None
    interests: list[str]
    tags: list[str]
    first_form_key: str | None
    created_at: str


class LeadPage(BaseModel):
    leads: list[LeadOut]
    next_cursor: str | None
