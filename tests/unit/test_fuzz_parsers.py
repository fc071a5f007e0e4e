"""Fuzzing the parsers that read untrusted text: no crash, no hang, only our errors.

Hangs are caught by hypothesis' per-example deadline, not by wall-clock asserts.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from steward.config.model import StewardConfig
from steward.conventional import is_wip, parse_header, parse_message
from steward.domain.events import Ignored, parse_event
from steward.errors import PayloadError
from steward.policies.common import related_issues, strip_html_comments
from steward.policies.semantic_title import check
from tests.unit._payloads import example as real_example

FUZZ = settings(
    max_examples=150,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
CFG = StewardConfig().semantic_title

# Text made of the characters the grammars care about, so the fuzzer reaches deep states.
GRAMMAR = st.text(
    alphabet=st.sampled_from(list("feat(x)!: #/\n\r<!-->BREAKING CHANGE-Fixes123 \t*_wip[]")),
    max_size=3000,
)
ANY_TEXT = st.one_of(st.text(max_size=2000), GRAMMAR)

PATHOLOGICAL = [
    "feat(" * 10_000,
    "#" * 100_000,
    "(" * 50_000 + ":",
    "feat" + "!" * 50_000 + ": x",
    "a" * 200_000,
    "fixes " * 20_000,
    "Fixes #" * 20_000,
    "<!--" * 40_000,
    "Issue number:" * 10_000,
    "closes a/b#1 " * 10_000,
    "https://github.com/" * 10_000,
    "BREAKING CHANGE: x\n" * 10_000,
    "feat(" + "," * 100_000 + "): x",
    "\n" * 100_000,
    "\x00\ud7ff\U0010ffff" * 1000,
]


def _title_checks(text: str) -> None:
    header = parse_header(text)
    if header is not None:
        assert header.type
        assert header.subject
        assert all(header.scopes)
    is_wip(text)
    _, reason = check(text, CFG)
    assert reason
    assert "\n" not in reason
    assert len(reason) <= 140


@FUZZ
@given(ANY_TEXT)
def test_title_parser_never_crashes(text: str) -> None:
    _title_checks(text)


@FUZZ
@given(ANY_TEXT, ANY_TEXT)
def test_commit_parser_never_crashes(subject: str, body: str) -> None:
    msg = parse_message(subject, body)
    assert msg.breaking in (True, False)
    if msg.header is not None:
        assert msg.raw_subject


@FUZZ
@given(ANY_TEXT)
def test_related_issue_extraction_never_crashes(body: str) -> None:
    found = related_issues(body, "Codertocat/Hello-World")
    assert all(isinstance(n, int) and n > 0 for n in found)
    assert len(set(found)) == len(found)
    assert len(strip_html_comments(body)) <= len(body)


@FUZZ
@given(st.lists(st.text(max_size=50), max_size=20))
def test_stripped_text_has_no_complete_comment(parts: list[str]) -> None:
    text = "<!--".join(parts)
    stripped = strip_html_comments(text)
    assert "<!--" not in stripped  # every opener is either closed and removed, or hides the rest


def test_pathological_inputs_finish() -> None:
    # Each runs under hypothesis' deadline via the wrapped test below; here: plain correctness.
    for text in PATHOLOGICAL:
        _title_checks(text)
        parse_message(text, text)
        related_issues(text, "a/b")


@FUZZ
@given(st.sampled_from(PATHOLOGICAL), st.sampled_from(PATHOLOGICAL))
@example("Fixes #12", "x")
def test_pathological_inputs_meet_the_deadline(a: str, b: str) -> None:
    _title_checks(a)
    parse_message(a, b)
    related_issues(a + b, "a/b")


# ---- the payload parser: mutated real payloads give an event, Ignored or a PayloadError ----

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
PATHS = [
    ("action",),
    ("pull_request",),
    ("pull_request", "number"),
    ("pull_request", "title"),
    ("pull_request", "body"),
    ("pull_request", "labels"),
    ("pull_request", "user"),
    ("pull_request", "head"),
    ("pull_request", "merged"),
    ("repository",),
    ("repository", "full_name"),
    ("sender",),
    ("label",),
    ("changes",),
    ("issue",),
    ("issue", "updated_at"),
    ("issue", "labels"),
    ("release",),
    ("release", "tag_name"),
]
SOURCES = [
    ("pull_request", "opened"),
    ("pull_request", "labeled"),
    ("pull_request", "closed"),
    ("issues", "opened"),
    ("release", "published"),
]


def _set(payload: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node: Any = payload
    for key in path[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(key), dict):
            return
        node = node[key]
    if isinstance(node, dict):
        node[path[-1]] = value


_BASE = {src: real_example(*src) for src in SOURCES}


@FUZZ
@given(
    st.sampled_from(SOURCES),
    st.lists(st.tuples(st.sampled_from(PATHS), JSON_VALUES), min_size=1, max_size=4),
    st.sampled_from(["pull_request", "pull_request_target", "issues", "release", "push"]),
)
def test_payload_parser_only_raises_payload_error(
    source: tuple[str, str], edits: list[tuple[tuple[str, ...], Any]], name: str
) -> None:
    payload = copy.deepcopy(_BASE[source])
    for path, value in edits:
        _set(payload, path, value)
    error: str | None = None
    try:
        parsed = parse_event(name, payload)
    except PayloadError as exc:  # the only exception allowed out
        error = str(exc)
    if error is not None:
        assert error
        assert "\n" not in error
    elif isinstance(parsed, Ignored):
        assert parsed.reason
        assert "\n" not in parsed.reason
