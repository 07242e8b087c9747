"""The generic table page's forms (`rejoin.browser.action_forms`), which import nothing of
Pyodide: a form per legal action of a view (docs/games.md's `legalActions` convention), what the
page is told to draw, and the fields a filled-in form sends, or why it sends nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rejoin.browser.action_forms import (
    ActionForm,
    FieldInput,
    Forms,
    InvalidInput,
    action_forms,
    fields_to_send,
)

BID = {
    "type": "bid",
    "fields": {
        "count": {"type": "integer", "minimum": 2, "maximum": 10},
        "face": {"type": "integer", "minimum": 1, "maximum": 6},
    },
}


def view_with(*legal: Any) -> dict[str, Any]:
    return {
        "seq": 7,
        "status": "playing",
        "you": {"playerId": "p", "seat": 0, "legalActions": list(legal)},
    }


def only_form(*legal: Any) -> ActionForm:
    forms = action_forms(view_with(*legal))
    assert forms.problems == ()
    [form] = forms.forms
    return form


# Building the forms.


def test_each_kind_of_field_of_the_convention_gets_its_input() -> None:
    form = only_form(
        {
            "type": "move",
            "label": "Move a piece",
            "fields": {
                "steps": {"type": "integer", "minimum": 1, "maximum": 3},
                "piece": {"type": "string", "enum": ["pawn", "rook"]},
                "promote": {"type": "boolean"},
            },
        }
    )
    assert form == ActionForm(
        "move",
        "Move a piece",
        (
            FieldInput("steps", "integer", 1, 3, default=1),
            FieldInput("piece", "choice", choices=("pawn", "rook"), default=0),
            FieldInput("promote", "boolean", default=False),
        ),
    )
    # What the page's JavaScript reads.
    assert form.to_json() == {
        "type": "move",
        "label": "Move a piece",
        "fields": [
            {"name": "steps", "input": "integer", "default": 1, "min": 1, "max": 3},
            {"name": "piece", "input": "choice", "default": 0, "choices": ["pawn", "rook"]},
            {"name": "promote", "input": "boolean", "default": False},
        ],
    }


def test_an_action_without_fields_or_label_is_a_button_named_by_its_type() -> None:
    forms = action_forms(view_with({"type": "challenge"}, BID))
    assert [(f.type, f.label, len(f.fields)) for f in forms.forms] == [
        ("challenge", "challenge", 0),
        ("bid", "bid", 2),
    ]
    assert forms.to_json()["problems"] == []


def test_defaults_start_the_inputs_and_enums_of_any_json_value_are_choices() -> None:
    form = only_form(
        {
            "type": "set",
            "fields": {
                "rounds": {"enum": [1, 3, 5], "default": 3},
                "speed": {"type": "number", "minimum": 0.5, "default": 1.5},
                "note": {"type": "string", "default": "hi"},
                "loud": {"type": "boolean", "default": True},
                "open": {"type": "integer"},
                "anything": {"type": "array", "default": [1]},
            },
        }
    )
    rounds, speed, note, loud, open_, anything = form.fields
    assert (rounds.input, rounds.choices, rounds.default) == ("choice", (1, 3, 5), 1)
    assert rounds.to_json()["choices"] == ["1", "3", "5"]
    assert (speed.input, speed.minimum, speed.maximum, speed.default) == ("number", 0.5, None, 1.5)
    assert (note.input, note.default) == ("text", "hi")
    assert loud.default is True
    assert (open_.input, open_.default) == ("integer", "")
    assert (anything.input, anything.default) == ("json", "[1]")


@pytest.mark.parametrize(
    "view",
    [
        {"seq": 1, "status": "waiting"},  # a spectator: no `you`
        {"seq": 1, "you": {"playerId": "p", "seat": 0}},  # no legalActions
        view_with(),  # not this player's turn
    ],
)
def test_no_move_no_form(view: dict[str, Any]) -> None:
    assert action_forms(view) == Forms()


@pytest.mark.parametrize(
    ("view", "problem"),
    [
        ({"you": ["p"]}, "`you` is not an object"),
        ({"you": {"legalActions": {"type": "bid"}}}, "`you.legalActions` is not a list"),
        (view_with("bid"), "`you.legalActions[0]` is not an object"),
        (view_with({"label": "Bid"}), "`you.legalActions[0]` has no `type`"),
        (view_with({"type": ""}), "has no `type`"),
        (view_with({"type": "bid", "fields": ["count"]}), "(bid): `fields` is not an object"),
        (view_with({"type": "bid", "fields": {"type": {}}}), "cannot be named type"),
        (view_with({"type": "bid", "fields": {"at_seq": {}}}), "cannot be named at_seq"),
        (view_with({"type": "bet", "fields": {"amount": {"type": "string"}}}), "amount must be"),
    ],
)
def test_what_cannot_become_a_form_is_named_for_the_author(view: Any, problem: str) -> None:
    forms = action_forms(view)
    assert forms.forms == ()
    [said] = forms.problems
    assert problem in said


def test_the_understood_actions_keep_their_forms_beside_a_problem() -> None:
    forms = action_forms(
        view_with(
            {"type": "bid", "fields": {"count": {"type": "integer", "minimum": 5, "maximum": 2}}},
            {"nothing": True},
            {"type": "odd", "fields": {"x": "integer"}},
        )
    )
    assert [f.type for f in forms.forms] == ["bid", "odd"]
    assert forms.forms[1].fields == (FieldInput("x", "json", default=""),)
    assert len(forms.problems) == 3
    assert "minimum 5 is above its maximum 2" in forms.problems[0]
    assert "legalActions[1]" in forms.problems[1]
    assert "field x: its schema is not an object" in forms.problems[2]


def test_a_submitted_form_is_found_only_at_its_index_and_type() -> None:
    forms = action_forms(view_with({"type": "challenge"}, BID))
    assert forms.submitted(1, "bid") is forms.forms[1]
    assert forms.submitted(0, "bid") is None  # the forms were redrawn: another move is there now
    assert forms.submitted(2, "bid") is None
    assert forms.submitted(-1, "bid") is None


# Reading what was filled in.


def test_a_filled_in_form_sends_its_fields_as_the_game_reads_them() -> None:
    form = only_form(
        {
            "type": "move",
            "fields": {
                "steps": {"type": "integer", "minimum": 1, "maximum": 3},
                "piece": {"type": "string", "enum": ["pawn", "rook"]},
                "promote": {"type": "boolean"},
                "speed": {"type": "number"},
                "note": {"type": "string"},
                "path": {"type": "array"},
            },
        }
    )
    values = {
        "steps": " 3 ",
        "piece": "1",
        "promote": True,
        "speed": "2.5",
        "note": " as typed ",
        "path": "[[0, 1], [0, 2]]",
    }
    assert fields_to_send(form, values) == {
        "steps": 3,
        "piece": "rook",
        "promote": True,
        "speed": 2.5,
        "note": " as typed ",
        "path": [[0, 1], [0, 2]],
    }


@pytest.mark.parametrize(
    ("field", "raw", "said"),
    [
        (FieldInput("count", "integer", 2, 10), "11", "enter a whole number from 2 to 10"),
        (FieldInput("count", "integer", 2, 10), "1", "enter a whole number from 2 to 10"),
        (FieldInput("count", "integer", 2, 10), "3.5", "enter a whole number from 2 to 10"),
        (FieldInput("count", "integer", 2, 10), "", "fill it in (a whole number from 2 to 10)"),
        (FieldInput("count", "integer", 2, 10), None, "fill it in"),
        (FieldInput("count", "integer", 0), "-1", "a whole number of at least 0"),
        (FieldInput("count", "integer", None, 5), "9" * 400, "a whole number of at most 5"),
        (FieldInput("speed", "number"), "nan", "enter a number"),
        (FieldInput("speed", "number"), "inf", "enter a number"),
        (FieldInput("speed", "number"), "fast", "enter a number"),
        (FieldInput("face", "choice", choices=("a", "b")), "2", "choose one of a, b"),
        (FieldInput("face", "choice", choices=(1, None)), "x", "choose one of 1, null"),
        (FieldInput("sure", "boolean"), "true", "tick the box or leave it empty"),
        (FieldInput("path", "json"), "[1,", "write a JSON value"),
    ],
)
def test_what_does_not_fit_says_what_does(field: FieldInput, raw: Any, said: str) -> None:
    form = ActionForm("move", "move", (field,))
    with pytest.raises(InvalidInput) as bad:
        fields_to_send(form, {field.name: raw})
    assert bad.value.field == field.name
    assert said in bad.value.message


def test_the_first_field_that_does_not_fit_is_named() -> None:
    form = only_form(BID)
    with pytest.raises(InvalidInput) as bad:
        fields_to_send(form, {"count": "3", "face": "7"})
    assert (bad.value.field, str(bad.value)) == ("face", "face: enter a whole number from 1 to 6")


@given(
    low=st.integers(-1000, 1000),
    span=st.integers(0, 1000),
    value=st.integers(-3000, 3000),
)
def test_an_integer_is_sent_exactly_when_it_is_within_the_bounds(
    low: int, span: int, value: int
) -> None:
    form = ActionForm("pick", "pick", (FieldInput("n", "integer", low, low + span),))
    if low <= value <= low + span:
        assert fields_to_send(form, {"n": str(value)}) == {"n": value}
    else:
        with pytest.raises(InvalidInput):
            fields_to_send(form, {"n": str(value)})
