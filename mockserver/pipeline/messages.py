"""Validation messages in an API's own words, from the spec's `x-mock.locales`.

A failed check is a `FieldError` (field, rule, parameters); the API's locale
table turns it into text, e.g. rule `required` on field `email` becomes
"The email field is required." A schema property may carry its own wording
in `x-messages` (`{rule: text}` or `{rule: {locale: text}}`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.errors import FieldError
from mockserver.expressions.templates import render_text
from mockserver.spec.model import ApiMock, LocaleDecl


class Messages:
    def __init__(self, api_mock: ApiMock, locale: str | None = None) -> None:
        locales = api_mock.locales
        default = api_mock.locale or next(iter(locales), "en")
        # the loader has checked every locale has at least a `required` message
        self.locale = locale if locale is not None and locale in locales else default
        table = locales.get(self.locale, LocaleDecl())
        self.templates: dict[str, str] = dict(table.messages)
        self.attributes: dict[str, str] = dict(table.attributes)
        self.as_list = api_mock.validation_errors == "list"

    def text(self, error: FieldError) -> str:
        template = self._override(error) or self._template(error.rule)
        name = error.field.rsplit(".", 1)[-1]
        context = {
            "field": error.field,
            "attribute": self.attributes.get(name, name.replace("_", " ")),
            **error.params,
        }
        return render_text(template, context)

    def render(self, errors: list[FieldError]) -> dict[str, Any]:
        """The API's `errors` object: field -> messages (or the first message)."""
        by_field: dict[str, list[str]] = {}
        for error in errors:
            by_field.setdefault(error.field, []).append(self.text(error))
        if self.as_list:
            return by_field
        return {name: texts[0] for name, texts in by_field.items()}

    def summary(self, errors: dict[str, Any]) -> str:
        """Laravel-style headline: the first message, plus how many more."""
        texts = [t for v in errors.values() for t in (v if isinstance(v, list) else [v])]
        if not texts:
            return ""
        more = len(texts) - 1
        if more == 0:
            return str(texts[0])
        key = "more_one" if more == 1 else "more_many"
        return render_text(self.templates.get(key, "${first}"), {"first": texts[0], "count": more})

    def _template(self, rule: str) -> str:
        for key in (rule, rule.split(".", 1)[0], "invalid"):
            if key in self.templates:
                return self.templates[key]
        return "${field}: " + rule

    def _override(self, error: FieldError) -> str | None:
        if isinstance(error.overrides, str):
            return error.overrides
        if not error.overrides:
            return None
        text = error.overrides.get(error.rule)
        if isinstance(text, Mapping):
            text = text.get(self.locale)
        return text
