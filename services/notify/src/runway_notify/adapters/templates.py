"""Rendering messages from Jinja2 templates (autoescaped HTML, plain text, SMS text).

Each message type has `<type>.subject.txt`, `<type>.txt` and `<type>.html`
for email, and `<type>.sms.txt` when it may go by SMS. Contexts come from the
delivery queue as JSON, so dates arrive as ISO strings; the filters accept both.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def _as_date(value: date | str) -> date:
    if isinstance(value, str):
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    return value


def money(cents: int, currency: str) -> str:
    return f"{cents / 100:,.2f} {currency.upper()}"


# Remembered: a "races near you" email formats twenty dates in each of its two bodies, and
# the same few election and filing dates recur across thousands of emails (strftime for
# the month's name was a fortieth of notify's CPU).
@lru_cache(maxsize=4096)
def day(value: date | str) -> str:
    d = _as_date(value)
    return f"{d:%B} {d.day}, {d.year}"


@lru_cache(maxsize=4096)
def short_day(value: date | str) -> str:
    d = _as_date(value)
    return f"{d:%b} {d.day}"


class Templates:
    def __init__(self) -> None:
        self._env = Environment(
            loader=PackageLoader("runway_notify", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # templates ship with the code: no stat() of each file per message
        )
        self._env.filters |= {"money": money, "day": day, "short_day": short_day}

    def render(self, name: str, context: dict[str, Any]) -> tuple[str, str, str]:
        """Subject, text body and HTML body of template `name`."""
        subject = self._env.get_template(f"{name}.subject.txt").render(context).strip()
        text = self._env.get_template(f"{name}.txt").render(context)
        html = self._env.get_template(f"{name}.html").render(context)
        return subject, text, html

    def render_sms(self, name: str, context: dict[str, Any]) -> str:
        return " ".join(self._env.get_template(f"{name}.sms.txt").render(context).split())
