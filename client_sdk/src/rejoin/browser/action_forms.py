"""The generic table page's forms: one per legal action of the player's view, and the fields a
filled-in form sends.

Plain Python, unlike the rest of `rejoin.browser` (no `js`, no `pyodide`), so that it is tested
under CPython: the page's JavaScript draws the forms described here and hands back what their
inputs hold, and nothing is sent that the view did not offer.

The convention (docs/games.md): a view's `you.legalActions` is a list of
`{"type": str, "fields"?: {name: schema}, "label"?: str}`, each field's schema a small JSON Schema:
`{"type": "integer", "minimum": n, "maximum": m}`, `{"type": "string", "enum": [...]}` or
`{"type": "boolean"}`. Also understood, so that an author's first view already gets a form: a
`"number"`, a `"string"` without `enum` (free text), an `enum` of any JSON values, and a
`default`. Any other schema becomes a box for a JSON value. What cannot be turned into a form
(no `type`, a field the SDK cannot send) is left out and named in `Forms.problems`, which the
page shows to the game's author.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = ["ActionForm", "FieldInput", "Forms", "InvalidInput", "action_forms", "fields_to_send"]

InputKind = Literal["integer", "number", "choice", "boolean", "text", "json"]

# `type` is the action's own key on the wire; `at_seq` is GameClient.act's keyword, so a field of
# that name could not be passed through it.
UNSENDABLE_FIELDS: Final = frozenset({"type", "at_seq"})
_INTEGER = re.compile(r"[+-]?\d+")


class InvalidInput(ValueError):
    """What the player typed does not fit field `field` of the form; `message` says what does."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class FieldInput:
    """One input of a form. `minimum`/`maximum` bound numbers; `choices` are an enum's values;
    `default` is what the input starts with (for a choice, its index)."""

    name: str
    input: InputKind
    minimum: int | float | None = None
    maximum: int | float | None = None
    choices: tuple[Any, ...] = ()
    default: Any = None

    def to_json(self) -> dict[str, Any]:
        """For the page: a choice's values as text, and the index of the default."""
        shown: dict[str, Any] = {"name": self.name, "input": self.input, "default": self.default}
        if self.minimum is not None:
            shown["min"] = self.minimum
        if self.maximum is not None:
            shown["max"] = self.maximum
        if self.input == "choice":
            shown["choices"] = [_as_text(choice) for choice in self.choices]
        return shown

    def read(self, raw: Any) -> Any:
        """The value to send for what the input holds: text from a text or number box (as the
        browser gives it), True/False from a checkbox, the chosen index from a choice."""
        if self.input == "boolean":
            if not isinstance(raw, bool):
                raise InvalidInput(self.name, "tick the box or leave it empty")
            return raw
        if self.input == "choice":
            text = str(raw).strip() if raw is not None else ""
            if not _INTEGER.fullmatch(text) or not 0 <= int(text) < len(self.choices):
                raise InvalidInput(self.name, f"choose one of {self._listed()}")
            return self.choices[int(text)]
        if self.input == "text":
            return raw if isinstance(raw, str) else ""
        text = raw.strip() if isinstance(raw, str) else ""
        if not text:
            raise InvalidInput(self.name, f"fill it in ({self._wanted()})")
        if self.input == "json":
            try:
                return json.loads(text)
            except ValueError:
                raise InvalidInput(self.name, 'write a JSON value, e.g. 3, "a" or [1, 2]') from None
        return self._number(text)

    def _number(self, text: str) -> int | float:
        value: int | float | None = None
        if self.input == "integer":
            value = int(text) if _INTEGER.fullmatch(text) else None
        else:
            try:
                value = float(text)
            except ValueError:
                value = None
            if value is not None and not math.isfinite(value):
                value = None
        if (
            value is None
            or (self.minimum is not None and value < self.minimum)
            or (self.maximum is not None and value > self.maximum)
        ):
            raise InvalidInput(self.name, f"enter {self._wanted()}")
        return value

    def _wanted(self) -> str:
        what = {"integer": "a whole number", "number": "a number", "json": "a JSON value"}.get(
            self.input, "a value"
        )
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f"{what} from {_as_text(low)} to {_as_text(high)}"
        if low is not None:
            return f"{what} of at least {_as_text(low)}"
        if high is not None:
            return f"{what} of at most {_as_text(high)}"
        return what

    def _listed(self) -> str:
        return ", ".join(_as_text(choice) for choice in self.choices)


@dataclass(frozen=True, slots=True)
class ActionForm:
    """The form of one legal action: a button labelled `label` that sends `{type, …fields}`."""

    type: str
    label: str
    fields: tuple[FieldInput, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "label": self.label,
            "fields": [field.to_json() for field in self.fields],
        }


@dataclass(frozen=True, slots=True)
class Forms:
    """The forms of one view, in the view's order, and what in its `legalActions` could not be
    made into one (a sentence each)."""

    forms: tuple[ActionForm, ...] = ()
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"forms": [form.to_json() for form in self.forms], "problems": list(self.problems)}

    def submitted(self, index: int, type: str) -> ActionForm | None:
        """Form `index` if it is still of action `type` (the page sends both, so a form drawn
        for another view is never read against the forms of this one)."""
        if not 0 <= index < len(self.forms) or self.forms[index].type != type:
            return None
        return self.forms[index]


def action_forms(view: Mapping[str, Any]) -> Forms:
    """The forms for the legal actions in `view` (none for a spectator or when none are legal)."""
    you = view.get("you")
    if you is None:
        return Forms()
    if not isinstance(you, Mapping):
        return Forms(problems=("the view's `you` is not an object",))
    legal = you.get("legalActions")
    if legal is None:
        return Forms()
    if not isinstance(legal, list):
        return Forms(problems=("`you.legalActions` is not a list",))
    forms: list[ActionForm] = []
    problems: list[str] = []
    for number, entry in enumerate(legal):
        where = f"`you.legalActions[{number}]`"
        form = _form(entry, where, problems)
        if form is not None:
            forms.append(form)
    return Forms(tuple(forms), tuple(problems))


def fields_to_send(form: ActionForm, values: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `form`'s action from what its inputs hold (`values`, by field name).
    Raises `InvalidInput` for the first field that does not fit."""
    return {field.name: field.read(values.get(field.name)) for field in form.fields}


def _form(entry: Any, where: str, problems: list[str]) -> ActionForm | None:
    if not isinstance(entry, Mapping):
        problems.append(f"{where} is not an object, so it has no form")
        return None
    kind = entry.get("type")
    if not isinstance(kind, str) or not kind:
        problems.append(f"{where} has no `type`, so it has no form")
        return None
    schemas = entry.get("fields", {})
    if not isinstance(schemas, Mapping):
        problems.append(f"{where} ({kind}): `fields` is not an object, so it has no form")
        return None
    unsendable = sorted(UNSENDABLE_FIELDS.intersection(schemas))
    if unsendable:
        problems.append(
            f"{where} ({kind}): a field cannot be named {', '.join(unsendable)}, so it has no form"
        )
        return None
    amount = schemas.get("amount")
    if amount is not None and not (isinstance(amount, Mapping) and amount.get("type") == "integer"):
        # The protocol reads `amount` itself: a whole number of at least 0, or nothing.
        problems.append(
            f"{where} ({kind}): a field named amount must be an integer, so it has no form"
        )
        return None
    fields = tuple(
        _field(str(name), schema, f"{where} ({kind}) field {name}", problems)
        for name, schema in schemas.items()
    )
    label = entry.get("label")
    return ActionForm(kind, label if isinstance(label, str) and label.strip() else kind, fields)


def _field(name: str, schema: Any, where: str, problems: list[str]) -> FieldInput:
    if not isinstance(schema, Mapping):
        problems.append(f"{where}: its schema is not an object; it takes a JSON value")
        return FieldInput(name, "json", default="")
    default = schema.get("default")
    choices = schema.get("enum")
    if isinstance(choices, list) and choices:
        index = choices.index(default) if default in choices else 0
        return FieldInput(name, "choice", choices=tuple(choices), default=index)
    kind = schema.get("type")
    if kind == "boolean":
        return FieldInput(name, "boolean", default=default if isinstance(default, bool) else False)
    if kind == "string":
        return FieldInput(name, "text", default=default if isinstance(default, str) else "")
    if kind in ("integer", "number"):
        low, high = _bound(schema, "minimum"), _bound(schema, "maximum")
        if low is not None and high is not None and low > high:
            problems.append(f"{where}: its minimum {low} is above its maximum {high}")
        start = default if _is_number(default) else low if low is not None else ""
        return FieldInput(
            name, "integer" if kind == "integer" else "number", low, high, default=start
        )
    return FieldInput(name, "json", default=json.dumps(default) if default is not None else "")


def _bound(schema: Mapping[str, Any], key: str) -> int | float | None:
    value = schema.get(key)
    return value if _is_number(value) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_text(value: Any) -> str:
    """A value as the page shows it: strings bare, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)
