"""Fuzz the payload parser and the title parser: any input gives a result or our own error.

Inputs are random JSON-like values and real @octokit payloads with one part deleted or
replaced by random JSON; titles are random text with conventional-commit fragments mixed in.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steward.conventional import parse_header
from steward.domain.events import Ignored, IssueEvent, PullRequestEvent, ReleaseEvent, parse_event
from steward.errors import PayloadError
from tests.support.github_material import valid_examples

EVENTS = ["pull_request", "pull_request_target", "issues", "release", "star", "push", ""]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

REAL: list[tuple[str, dict[str, Any]]] = [
    (event, ex)
    for event, action in [
        ("pull_request", "opened"),
        ("pull_request", "labeled"),
        ("pull_request", "closed"),
        ("issues", "opened"),
        ("issues", "labeled"),
        ("release", "published"),
    ]
    for ex in valid_examples(event, action)[:1]
]


def _parse(event: str, payload: Any) -> object:
    try:
        result = parse_event(event, payload)
    except PayloadError as exc:
        error = exc
    else:
        assert isinstance(result, PullRequestEvent | IssueEvent | ReleaseEvent | Ignored)
        return result
    assert str(error)  # a message a user can act on
    return error


@SETTINGS
@given(st.sampled_from(EVENTS), st.dictionaries(st.text(max_size=15), json_values, max_size=6))
def test_random_objects_never_crash(event: str, payload: dict[str, Any]):
    _parse(event, payload)


@SETTINGS
@given(st.sampled_from(EVENTS), json_values)
def test_non_objects_are_payload_errors(event: str, payload: Any):
    result = _parse(event, payload)
    if not isinstance(payload, dict):
        assert isinstance(result, PayloadError)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            out.append((*prefix, i))
            out.extend(_paths(v, (*prefix, i)))
    return out


@SETTINGS
@given(st.data())
def test_mutated_real_payloads_never_crash(data: st.DataObject):
    event, original = data.draw(st.sampled_from(REAL))
    payload = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(payload)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(json_values)
    _parse(event, payload)


@SETTINGS
@given(st.text(max_size=300))
def test_random_titles_never_crash(title: str):
    header = parse_header(title)
    if header is not None:
        assert header.type


fragments = st.sampled_from(
    [
        "feat",
        "fix",
        "(",
        ")",
        "!",
        ":",
        " ",
        "scope",
        ",",
        "\n",
        "\t",
        "BREAKING CHANGE",
        "(((",
        ":::",
        "a" * 50,
    ]
)


@SETTINGS
@given(st.lists(fragments, max_size=40).map("".join))
def test_conventional_fragments_never_crash(title: str):
    parse_header(title)


def test_long_hostile_title_is_fast_enough_to_finish():
    # a linear parser finishes at once; a backtracking one would hang here
    parse_header("feat(" + "a(" * 50_000 + ": x")
    parse_header("feat" + "!" * 100_000)
