"""Rendering messages from Jinja2 templates (autoescaped HTML, plain text)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


class Templates:
    def __init__(self) -> None:
        self._env = Environment(
            loader=PackageLoader("runway_notify", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["money"] = lambda cents, currency: f"{cents / 100:,.2f} {currency.upper()}"
        self._env.filters["day"] = lambda d: f"{d:%B} {d.day}, {d.year}"

    def render(self, name: str, context: dict[str, object]) -> tuple[str, str, str]:
        """Subject, text body and HTML body of template `name`."""
        subject = self._env.get_template(f"{name}.subject.txt").render(context).strip()
        text = self._env.get_template(f"{name}.txt").render(context)
        html = self._env.get_template(f"{name}.html").render(context)
        return subject, text, html
