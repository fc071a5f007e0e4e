"""A pattern RE2 refuses is named by its construct, with an RE2 form when one is known.

Reproduction from "right on the playbook's own repository": python-semantic-release's
recommended changelog exclude `^build\\((?!deps\\): .+)` was refused with RE2's own words
(`invalid perl operator: (?!`). The error now names the construct and, for a lookahead
ending the pattern, gives a form RE2 runs; every form is checked against Python's `re` (the
engine the pattern was written for), never against steward's own output.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.patterns import compile_user_pattern, compile_user_patterns, re2_form
from tests.release.gitrepo import run

PSR_BUILD = r"^build\((?!deps\): .+)"
# Written by hand: `build(` followed by the end, or by anything that leaves `deps): ` at
# some character, or by `deps): ` and then the end or a newline (`.+` needs a character).
PSR_BUILD_RE2 = (
    r"^build\((?:[^d]|$|d(?:[^e]|$)|de(?:[^p]|$)|dep(?:[^s]|$)|deps(?:[^)]|$)"
    r"|deps\)(?:[^:]|$)|deps\):(?:[^ ]|$)|deps\): (?:\n|$))"
)


def refusal(pattern: str, what: str = "changelog.exclude[0]") -> str:
    with pytest.raises(ValueError) as exc:
        compile_user_pattern(pattern, what=what)
    message = str(exc.value)
    assert message.startswith(f"{what}: invalid regular expression {pattern!r}: ")
    assert "\n" not in message
    return message


def test_the_psr_build_exclude_is_named_and_given_its_re2_form() -> None:
    with pytest.raises(ValueError) as exc:
        compile_user_patterns([r"^chore\(release\)", PSR_BUILD], "changelog.exclude")
    message = str(exc.value)
    assert message.startswith(f"changelog.exclude[1]: invalid regular expression {PSR_BUILD!r}")
    assert "a negative lookahead '(?!' at character 9" in message
    assert "lookaround" in message
    assert message.endswith(f"; the same strings match with: {PSR_BUILD_RE2}")
    assert re2_form(PSR_BUILD) == PSR_BUILD_RE2


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        (r"foo(?=bar)x", "a lookahead '(?=' at character 4"),
        (r"(?<=x)y", "a lookbehind '(?<=' at character 1"),
        (r"(?<!x)y", "a negative lookbehind '(?<!' at character 1"),
        (r"(a)\1", r"a backreference '\1' at character 4"),
        (r"(a)(b)\2", r"a backreference '\2' at character 7"),
        (r"(?P<n>a)(?P=n)", "a backreference '(?P=' at character 9"),
        (r"[(?=]a*+b", "a possessive quantifier '*+' at character 7"),
        (r"a{2,3}+", "a possessive quantifier '{2,3}+' at character 2"),
        (r"(?:ab)?+c", "a possessive quantifier '?+' at character 7"),
        (r"(?>ab)c", "an atomic group '(?>' at character 1"),
        (r"(a)?(?(1)b|c)", "a conditional group '(?(' at character 5"),
    ],
)
def test_the_refused_construct_is_named(pattern: str, named: str) -> None:
    message = refusal(pattern)
    assert f": {named}: " in message
    assert "no lookaround, backreferences, possessive quantifiers or atomic groups" in message


def test_python_end_of_text_gets_re2s_spelling() -> None:
    message = refusal(r"^v[0-9]+\Z")
    assert r"Python's end of text '\Z' at character 9" in message
    assert message.endswith(r"; the same strings match with: ^v[0-9]+\z")


def test_not_named_when_it_is_not_that_construct() -> None:
    # In a class, `\1` is an octal escape in Python, not a backreference: RE2's words stay.
    message = refusal(r"[\1]")
    assert "backreference" not in message
    assert r"invalid escape sequence: \1" in message
    # A lazy quantifier is no possessive one, and compiles.
    assert compile_user_pattern(r"(?:a)*?b+?c??", what="x").search("aabc") is not None


@pytest.mark.parametrize(
    "pattern",
    [
        r"a(?!b)c",  # something follows the lookahead
        r"x|a(?!b)",  # inside an alternation
        r"(a(?!b))",  # inside a group
        r"(?i)a(?!b)",  # flags change what a literal and `.` match
        r"a(?!b+)",  # not a literal
        r"a(?![bc])",
        r"a(?!\d)",
    ],
)
def test_no_form_is_guessed_beyond_a_trailing_literal(pattern: str) -> None:
    message = refusal(pattern)
    assert "a negative lookahead" in message
    assert "the same strings match" not in message
    assert re2_form(pattern) is None


def agrees(original: str, form: str, text: str) -> None:
    """The RE2 form finds a match in ``text`` exactly when Python's `re` finds the
    original's (steward searches: `changelog.exclude`, `version.ignore_tags`)."""
    expected = re.search(original, text) is not None
    assert compile_user_pattern(form, what="form").matches(text) is expected, text


_BUILD_TEXT = st.builds(
    str.__add__,
    st.sampled_from(
        ["", "build", "build(", "build(d", "build(deps", "build(deps)", "build(deps):"]
    ),
    st.text(
        alphabet=st.sampled_from(list("deps(): x\n\tB")) | st.characters(codec="utf-8"),
        max_size=12,
    ),
)


@settings(max_examples=2000, deadline=None)
@given(_BUILD_TEXT)
def test_the_psr_form_agrees_with_python(text: str) -> None:
    agrees(PSR_BUILD, PSR_BUILD_RE2, text)


@pytest.mark.parametrize(
    "text",
    [
        "build(deps): bump x",  # the one build(...) the original keeps
        "build(deps): ",
        "build(deps): \nbody",
        "build(deps):x",
        "build(deps)",
        "build(dep): x",
        "build(docs): x",
        "build(): x",
        "build(",
        "build(d",
        "build(deps): bump x\n\nbody",
        "chore: x",
    ],
)
def test_the_psr_form_on_the_edges(text: str) -> None:
    agrees(PSR_BUILD, PSR_BUILD_RE2, text)


# The general construction, on random literals (metacharacters, a newline, a tab and a
# non-ASCII letter included) after random prefixes, with each tail the lookahead may end in.
_LITERAL = st.text(alphabet=st.sampled_from(list("ab).\\]^-[ \n\té:")), min_size=1, max_size=5)
_PREFIX = st.sampled_from(["", "^", "^x", "x+", "(?:ab|b)", "[ab]*", "^x\\("])
_TAIL = st.sampled_from(["", ".*", ".?", ".", ".+"])
_TEXT = st.text(alphabet=st.sampled_from(list("xab).\\]^-[ \n\té:(")), max_size=10)


@settings(max_examples=400, deadline=None)
@given(prefix=_PREFIX, literal=_LITERAL, tail=_TAIL, texts=st.lists(_TEXT, max_size=25))
def test_a_trailing_negative_lookahead_of_a_literal_has_a_form_that_agrees(
    prefix: str, literal: str, tail: str, texts: list[str]
) -> None:
    original = f"{prefix}(?!{re.escape(literal)}{tail})"
    form = re2_form(original)
    assert form is not None, original
    for text in [*texts, prefix.strip("^+*()?:|[]\\") + literal, literal, ""]:
        agrees(original, form, text)


@settings(max_examples=200, deadline=None)
@given(prefix=_PREFIX, literal=_LITERAL, tail=_TAIL, texts=st.lists(_TEXT, max_size=25))
def test_a_trailing_lookahead_has_a_form_that_agrees(
    prefix: str, literal: str, tail: str, texts: list[str]
) -> None:
    original = f"{prefix}(?={re.escape(literal)}{tail})"
    form = re2_form(original)
    assert form is not None, original
    for text in [*texts, literal, ""]:
        agrees(original, form, text)


def test_config_check_shows_the_file_the_line_and_the_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "steward.yml"
    f.write_text(
        "# python-semantic-release's recommended excludes, copied over\n"
        "changelog:\n"
        "  exclude:\n"
        "    - '^chore(?:\\([^)]*?\\))?: .+'\n"
        "    - '^build\\((?!deps\\): .+)'\n"
    )
    code, out, err = run(["config", "check", str(f)], capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert re.match(rf"error: {re.escape(str(f))}:[35]: changelog\.exclude: ", err), err
    assert "changelog.exclude[1]" in err
    assert "a negative lookahead '(?!' at character 9" in err
    assert err.endswith(f"; the same strings match with: {PSR_BUILD_RE2}\n")
