"""The changelog's fast paths agree with the slow ones they stand in for.

`changes_of` reads a clean subject with one expression and its body for co-authors and
breaking notes alone (`trailers`); `parsed_changes` reads every commit through the whole
`parse_message`. `_footers` reads only the trailing paragraph of a body with no breaking
note; `reference_footers` below is the loop it replaced, which reads every line. `--json`
writes each release's JSON directly (`version_json`), not through `json.dumps` of dicts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from steward import limits
from steward.conventional import _footers, clean_match, parse_message, trailers
from steward.history.records import Commit
from steward.release.changelog.build import Section, VersionBlock
from steward.release.changelog.render import _bounded_unjoined
from steward.release.changelog.sandbox import TemplateLimit, bounded_output
from steward.release.changelog.text import version_json
from steward.release.changes import (
    STANDARD_TYPES,
    Change,
    changes_of,
    parsed_changes,
    without_pr_suffix,
)

_BREAKING = re.compile(r"(?P<token>BREAKING[ -]CHANGE):[ \t]*(?P<value>.*)")
_FOOTER = re.compile(
    r"(?P<token>BREAKING[ -]CHANGE|[A-Za-z][A-Za-z0-9-]*)(?P<sep>: | #)(?P<value>.*)"
)
_TOKENS = frozenset({"BREAKING CHANGE", "BREAKING-CHANGE"})


def reference_footers(body: str) -> tuple[list[tuple[str, str]], list[str]]:
    """`_footers` as it was: every line read, the trailing paragraph found going forward."""
    footers: list[tuple[str, str]] = []
    breaking: list[str] = []
    if not body:
        return footers, breaking
    lines = body.splitlines()
    last_para = 0
    for i, raw in enumerate(lines):
        if not raw.strip() and i + 1 < len(lines):
            last_para = i + 1
    current: list[str] | None = None
    for i, raw in enumerate(lines):
        bm = _BREAKING.match(raw)
        if bm is not None:
            value = bm.group("value").strip()
            footers.append((bm.group("token"), value))
            breaking.append(value)
            current = breaking
            continue
        fm = _FOOTER.match(raw)
        token = fm.group("token") if fm is not None else None
        if (
            fm is not None
            and token is not None
            and (token in _TOKENS or (i >= last_para and fm.group("sep") == ": "))
        ):
            value = fm.group("value").strip()
            footers.append((token, value))
            current = [value] if token in _TOKENS else None
            if current is not None:
                breaking.append(value)
            continue
        if current is not None and raw.strip():
            breaking[-1] = (breaking[-1] + " " + raw.strip()).strip()
        elif not raw.strip():
            current = None
    return footers, breaking


_CLEAN = st.builds(
    lambda t, sc, bang, text, pr: f"{t}{sc}{bang}: {text}{pr}",
    st.sampled_from(["feat", "Fix", "ci", "revert"]),
    st.sampled_from(["", "(api)", "(x.y/z)"]),
    st.sampled_from(["", "!"]),
    st.sampled_from(["a b", "x", "y z  ", " y", "a(b"]),
    st.sampled_from(["", " (#12)"]),
)
_SUBJECTS = st.one_of(
    _CLEAN,
    st.text(max_size=30),
    st.builds(
        lambda t, sc, bang, sep, text, pr: f"{t}{sc}{bang}{sep}{text}{pr}",
        st.sampled_from(["feat", "Fix", "docs", "ci", "revert", "Revert", "x-y", "1bad", ""]),
        st.sampled_from(["", "(api)", "(a,b)", "( )", "()", "(x.y/z)", "(a b)"]),
        st.sampled_from(["", "!"]),
        st.sampled_from([": ", ":", ":  ", " : "]),
        st.text(alphabet="ab ()#1\t\u00a0\u2028", max_size=10),
        st.sampled_from(["", " (#12)", "(#3)", " (#12) ", " (#x)"]),
    ),
    st.sampled_from(
        [
            'Revert "feat: x (#10)" (#11)',
            'Revert "fix(api): y"',
            "Merge pull request #4 from a/b",
            "Merge branch 'main' into dev",
        ]
    ),
)
_LINES = st.one_of(
    st.sampled_from(
        [
            "",
            "  ",
            "\t\x1f",
            "Co-authored-by: Bo <bo@example.com>",
            "co-AUTHORED-by:  Cy Dee  ",
            "Co-authored-by:Ed",
            "Co-authored-by : Fay",
            "Co-authored-by-bot: Gil",
            "xCo-authored-by: Hal",
            "Co-\u0130uthored-by: Ida",
            "Co-authored-by: Bo <bo@example.com>",
            "Signed-off-by: Jo <jo@example.com>",
            "Refs #12",
            "BREAKING CHANGE: the API is gone",
            "BREAKING-CHANGE: renamed",
            "BREAKING CHANGE #7 in a footer",
            "BREAKING CHANGE:",
            "the note goes on",
            "This reverts commit 0123abcd.",
            "* fix(api): a body entry",
            "- feat(ui)!: another (#9)",
            "docs: a third",
        ]
    ),
    st.text(alphabet="aB-:# \t\u00e9", max_size=12),
)
_BREAKS = st.sampled_from(
    ["\n", "\n", "\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028"]
)
_BODIES = st.one_of(
    st.lists(st.tuples(_LINES, _BREAKS), max_size=8).map(
        lambda pairs: "".join(line + brk for line, brk in pairs)
    ),
    st.text(max_size=40),
)


@settings(max_examples=1500, deadline=None)
@given(body=_BODIES)
def test_footers_agree_with_the_full_loop(body: str) -> None:
    assert _footers(body) == reference_footers(body)
    for text in (body.rstrip("\n"), body.strip()):
        assert _footers(text) == reference_footers(text)


@settings(max_examples=1500, deadline=None)
@given(body=_BODIES)
def test_trailers_agree_with_the_message(body: str) -> None:
    for text in (body, body.rstrip("\n"), body.strip()):
        msg = parse_message("feat: x", text)
        assert trailers(text) == (msg.co_authors, msg.breaking_notes)


@settings(max_examples=1500, deadline=None)
@given(subject=_SUBJECTS, body=_BODIES, body_entries=st.booleans())
def test_changes_of_agrees_with_the_full_parse(subject: str, body: str, body_entries: bool) -> None:
    commit = Commit("0" * 40, (), "Ana", "ana@example.com", "", subject, body.strip())
    slow = parsed_changes(commit, body_entries=body_entries, body_types=STANDARD_TYPES)
    if not commit.body and clean_match(subject) is not None and slow[0].type == "revert":
        # As before these fast paths: a clean `revert: ...` subject with no body names
        # no reverted subject (so it cancels nothing); the full parse would name one.
        slow[0].reverts = None
    assert changes_of(commit, body_entries=body_entries) == slow
    # With `wanted`, a commit is dismissed only when the changelog would keep nothing of it.
    wanted = {"feat", "fix"}
    fast = changes_of(commit, body_entries=body_entries, wanted=wanted)
    if fast != slow:
        assert fast == []
        assert all(
            c.kind == "commit" and c.type not in wanted and not c.breaking and not c.notes
            for c in slow
        )


_PR_SUFFIX = re.compile(r"\s*\(#[0-9]{1,9}\)\s*$")


@settings(max_examples=3000, deadline=None)
@given(text=st.text(alphabet="(#)0123456789 \t\n\u0663\u00a0x", max_size=16))
def test_pr_suffix_is_cut_as_the_expression_cuts_it(text: str) -> None:
    assert without_pr_suffix(text) == _PR_SUFFIX.sub("", text, count=1).strip()


_TEXT = st.text(max_size=10)  # any character: quotes, backslashes, controls, astral ones
_MAYBE = st.none() | _TEXT
_CHANGES = st.builds(
    Change,
    kind=st.sampled_from(["commit", "revert", "merge", "other"]),
    type=_MAYBE,
    scope=_MAYBE,
    text=_TEXT | st.sampled_from(["x (#12)", "y (#1) ", "(#3)", "z (#x)"]),
    pr=st.none() | st.integers(0, 10**9),
    sha=_TEXT,
    breaking=st.booleans(),
    authors=st.lists(_TEXT, max_size=3).map(tuple),
    line=_TEXT,
    notes=st.lists(_TEXT, max_size=2).map(tuple),
)
_BLOCKS = st.builds(
    VersionBlock,
    version=_MAYBE,
    tag=_MAYBE,
    date=_MAYBE,
    previous_tag=_MAYBE,
    sections=st.lists(
        st.builds(Section, type=_TEXT, title=_TEXT, entries=st.lists(_CHANGES, max_size=3)),
        max_size=3,
    ),
    notes=st.lists(_TEXT, max_size=2),
    reverts=st.lists(_CHANGES, max_size=2),
    merges=st.lists(_CHANGES, max_size=2),
)


@settings(max_examples=800, deadline=None)
@given(block=_BLOCKS)
def test_version_json_is_what_json_dumps_writes(block: VersionBlock) -> None:
    assert version_json(block) == json.dumps(block.to_json(), ensure_ascii=False)


@dataclass(slots=True)
class DataChange:
    """`Change` as the data class it was (before it kept a clean line as head and text)."""

    kind: str
    type: str | None
    scope: str | None
    text: str
    pr: int | None
    sha: str
    breaking: bool
    authors: tuple[str, ...]
    line: str
    notes: tuple[str, ...] = ()
    reverts: str | None = None
    reverts_sha: str | None = None
    extra: bool = False


_FIELDS = st.tuples(
    st.sampled_from(["commit", "revert"]),
    st.sampled_from([None, "fix"]),
    st.sampled_from([None, "api"]),
    st.sampled_from(["x", "y (#1)"]),
    st.sampled_from([None, 1]),
    st.sampled_from(["ab", "cd"]),
    st.booleans(),
    st.sampled_from([("Ana",), ("Ana", "Bo")]),
    st.sampled_from(["fix: x", "x"]),
    st.sampled_from([(), ("gone",)]),
)


@settings(max_examples=500, deadline=None)
@given(a=_FIELDS, b=_FIELDS, extra=st.booleans())
def test_change_is_the_data_class_it_was(
    a: tuple[Any, ...], b: tuple[Any, ...], extra: bool
) -> None:
    one, two = Change(*a), Change(*b)
    ref_one, ref_two = DataChange(*a), DataChange(*b)
    one.extra = ref_one.extra = extra
    assert repr(one) == repr(ref_one).replace("DataChange(", "Change(", 1)
    assert (one == two) == (ref_one == ref_two)
    again = Change(*a)
    again.extra = extra
    assert one == again
    assert one != ref_one  # another class: never equal, as before
    two.line = "changed"
    ref_two.line = "changed"
    assert repr(two) == repr(ref_two).replace("DataChange(", "Change(", 1)


_OLD_CLEAN = re.compile(
    r"(?P<type>[A-Za-z][A-Za-z0-9_-]*)(?:\((?P<scope>[A-Za-z0-9_./$*-]+)\))?(?P<bang>!)?"
    r": (?P<subject>[^\s()][^()\r\n]*)(?: \(#(?P<pr>[0-9]{1,9})\))?"
)


@settings(max_examples=3000, deadline=None)
@given(subject=_SUBJECTS | _CLEAN.map(lambda s: s.replace("a", "\u2028")))
def test_clean_match_is_the_expression_and_strip_test_it_was(subject: str) -> None:
    old = _OLD_CLEAN.fullmatch(subject) if len(subject) <= 1024 else None
    if old is not None and old.group("subject") != old.group("subject").rstrip():
        old = None
    new = clean_match(subject)
    assert (new is None) == (old is None)
    if new is not None and old is not None:
        assert new.groups() == old.groups()
        assert new.regs == old.regs


def _drained(chunks: Iterator[str]) -> tuple[str, str | None]:
    """The text an output gave before it stopped, and why it stopped (None: it ended)."""
    text: list[str] = []
    try:
        for chunk in chunks:
            text.append(chunk)
    except TemplateLimit as exc:
        return "".join(text), str(exc)
    return "".join(text), None


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 40), max_size=1500),
    cap=st.integers(0, 20_000),
)
def test_a_builtin_output_is_bounded_as_bounded_output_bounds_it(
    sizes: list[int], cap: int
) -> None:
    chunks = [str(i % 10) * n for i, n in enumerate(sizes)]
    was = limits.MAX_TEMPLATE_OUTPUT
    limits.MAX_TEMPLATE_OUTPUT = cap
    try:
        ours = _drained(_bounded_unjoined(iter(chunks)))
        theirs = _drained(bounded_output(iter(chunks), sandboxed=False))
    finally:
        limits.MAX_TEMPLATE_OUTPUT = was
    assert ours == theirs
