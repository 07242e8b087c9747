"""deploy/grafana/rejoin-dashboard.json asks only for metrics the server exports.

Every PromQL expression of the dashboard (each panel's `expr`, and the variables' `label_values`
queries) is read by a small PromQL reader (`metric_names`): it walks the tokens, skipping label
matchers (`{…}`), ranges (`[…]`), strings, the label lists of `by`/`without`/`on`/`ignoring`/
`group_left`/`group_right`, and calls a name followed by `(` a function; whatever name is left is a
metric. The names a real `/metrics` answers with are taken from a test app after some activity,
read with prometheus_client's own parser: a counter family `x` is exported as `x_total`, a histogram
`x` as `x_bucket`, `x_sum` and `x_count` (a labelled metric with no child yet still has its family
there)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .api.support import ADMIN_AUTH, running

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "rejoin-dashboard.json"

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<duration>(?:\d+(?:ms|[smhdwy]))+)
      | (?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?)
      | (?P<name>[A-Za-z_:][A-Za-z0-9_:]*)
      | (?P<variable>\$\{?\w+\}?)
      | (?P<punct>==|!=|=~|!~|>=|<=|[-+*/%^(){}\[\],=<>])
    )""",
    re.VERBOSE,
)
KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"})
LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
CLOSING = {"(": ")", "{": "}", "[": "]"}


def tokens(expr: str) -> list[tuple[str, str]]:
    found = []
    at = 0
    while at < len(expr.rstrip()):
        match = _TOKEN.match(expr, at)
        if match is None or match.end() == at:
            raise ValueError(f"cannot read PromQL at {expr[at : at + 20]!r} in {expr!r}")
        kind = match.lastgroup
        assert kind is not None
        found.append((kind, match.group(kind)))
        at = match.end()
    return found


def _skip_group(toks: list[tuple[str, str]], at: int) -> int:
    """The index after the bracket group that opens at `at` (nesting checked)."""
    stack = [CLOSING[toks[at][1]]]
    at += 1
    while stack:
        if at >= len(toks):
            raise ValueError("unbalanced brackets")
        kind, text = toks[at]
        if kind == "punct" and text in CLOSING:
            stack.append(CLOSING[text])
        elif kind == "punct" and text in (")", "}", "]"):
            expected = stack.pop()
            if text != expected:
                raise ValueError(f"mismatched {text!r}, expected {expected!r}")
        at += 1
    return at


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads. Raises ValueError on what it cannot read."""
    toks = tokens(expr)
    names: set[str] = set()
    depth = 0
    at = 0
    while at < len(toks):
        kind, text = toks[at]
        following = toks[at + 1][1] if at + 1 < len(toks) else None
        if kind == "punct" and text in ("{", "["):
            at = _skip_group(toks, at)
            continue
        if kind == "name" and text in LABEL_LISTS:
            if following == "(":
                at = _skip_group(toks, at + 1)
            else:
                at += 1
            continue
        if kind == "name" and (following == "(" or following in ("by", "without")):
            at += 1  # a function, or an aggregation (`sum by (le) (…)`): its arguments follow
            continue
        if kind == "name" and text.lower() not in KEYWORDS:
            names.add(text)
        if kind == "punct" and text == "(":
            depth += 1
        elif kind == "punct" and text == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ')' in {expr!r}")
        at += 1
    if depth:
        raise ValueError(f"unbalanced '(' in {expr!r}")
    return names


def _expressions(node: Any) -> Iterator[str]:
    """Every PromQL expression in the dashboard: targets' `expr`, the variables' queries."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            elif key == "definition" and isinstance(value, str):
                inner = re.fullmatch(r"label_values\((.+),\s*\w+\)", value.strip())
                yield inner.group(1) if inner else value
            else:
                yield from _expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _expressions(item)


def exported_names(text: str) -> set[str]:
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names.update(f"{family.name}_{suffix}" for suffix in ("bucket", "sum", "count"))
        else:
            names.add(family.name)
    return names


def scraped_after_activity() -> str:
    """A real /metrics of a test app that played a hand's first action and a resume."""
    with running() as api:
        ann, bob = api.table(2)
        api.start(ann)
        assert api.act(api.to_act([ann, bob]), "call").status_code == 200
        assert api.reconnect(ann, clientId="c", lastSeq=0).status_code == 200
        reply = api.client.get("/metrics", headers=ADMIN_AUTH)
        assert reply.status_code == 200, reply.text
        text: str = reply.text
        return text


def test_the_reader_finds_the_metrics_of_an_expression() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, job) (rate(a_seconds_bucket{job=~"x", le!="1"}'
        "[5m] offset 1h))) / on (job) group_left (node) b_total > bool 0 or vector(1)"
    )
    assert metric_names(expr) == {"a_seconds_bucket", "b_total"}
    assert metric_names("up") == {"up"}
    with pytest.raises(ValueError, match="unbalanced"):
        metric_names("sum(rate(x[5m])")
    with pytest.raises(ValueError, match="cannot read"):
        metric_names("rate(x[5m]) @@ 3")


def test_every_metric_of_the_dashboard_is_exported() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = list(_expressions(dashboard))
    assert len(expressions) >= 20
    wanted: dict[str, str] = {}
    for expr in expressions:
        for name in metric_names(expr):
            wanted.setdefault(name, expr)
    exported = exported_names(scraped_after_activity())
    missing = {name: expr for name, expr in wanted.items() if name not in exported}
    assert not missing, f"the dashboard asks for metrics the server does not export: {missing}"
    # Nothing the server exports of its own is left off the dashboard either.
    ours = {name for name in exported if name.startswith("rejoin_")}
    shown = {name.removesuffix("_bucket") for name in wanted}
    unshown = {
        name
        for name in ours
        if name.removesuffix("_total").removesuffix("_created") not in shown
        and not name.endswith(("_bucket", "_sum", "_count", "_created"))
        and name not in shown
    }
    assert not unshown, f"exported but on no panel: {sorted(unshown)}"


def test_a_name_the_server_does_not_export_is_caught() -> None:
    exported = exported_names(scraped_after_activity())
    assert "rejoin_action_seconds_bucket" in exported
    assert "rejoin_reconnects_total" in exported
    assert "rejoin_readers_dropped_total" in exported  # a labelled counter with no child yet
    assert "rejoin_action_seconds" not in exported  # a histogram's base name is no series
    assert not metric_names("sum(rate(rejoin_actions_total[5m]))") <= exported
