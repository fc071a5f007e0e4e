"""User regular expressions run on RE2: linear time, and clear errors for what RE2 refuses."""

from __future__ import annotations

import pytest

from steward.patterns import compile_user_pattern, compile_user_patterns


def test_catastrophic_pattern_returns() -> None:
    # With Python's re this backtracks for longer than anyone waits (2**5000 paths).
    p = compile_user_pattern(r"(a+)+$", what="changelog.exclude[0]")
    assert p.search("fix: " + "a" * 5000 + "!") is None
    assert p.search("fix: aaa") is not None


def test_nested_alternation_is_linear_too() -> None:
    p = compile_user_patterns([r"^(\w+\s?)*$", r"(x|x)*y"], "changelog.exclude")
    assert p.search("word " * 3000 + "!") is None
    assert p.search("x" * 5000 + "!") is None


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(a)\1", "backreferences"),
        (r"(?P<n>a)(?P=n)", "backreferences"),
        (r"foo(?=bar)", "lookaround"),
        (r"(?<!x)y", "lookaround"),
        (r"[unclosed", "missing ]"),
        (r"(", "missing )"),
    ],
)
def test_refused_patterns_name_where_and_what(pattern: str, why: str) -> None:
    with pytest.raises(ValueError) as exc:
        compile_user_pattern(pattern, what="version.ignore_tags[3]")
    message = str(exc.value)
    assert message.startswith("version.ignore_tags[3]: invalid regular expression ")
    assert repr(pattern) in message
    assert why in message
    assert "\n" not in message


def test_list_error_names_the_culprit() -> None:
    with pytest.raises(ValueError, match=r"^changelog\.exclude\[1\]: .*'\(\?=x\)'"):
        compile_user_patterns(["^ok", "(?=x)"], "changelog.exclude")


def test_or_of_patterns_and_scoped_flags() -> None:
    p = compile_user_patterns([r"(?i)^chore\(release\)", r"^wip$"], "changelog.exclude")
    assert p.search("CHORE(release): 1.2.0") is not None
    assert p.search("wip") is not None
    assert p.search("WIP") is None  # (?i) applies to its own alternative only
    assert p.search("feat: wip") is None


def test_empty_list_never_matches() -> None:
    p = compile_user_patterns([], "changelog.exclude")
    assert p.search("") is None
    assert p.search("anything") is None


def test_match_offsets_are_characters() -> None:
    p = compile_user_pattern(r"caf\pL (\d+)", what="x")
    m = p.search("ünïcode café 42")
    assert m is not None
    assert m.group(0) == "café 42"
    assert m.group(1) == "42"
    assert m.span() == (8, 15)
    assert (m.start(1), m.end(1)) == (13, 15)


def test_not_a_string() -> None:
    with pytest.raises(ValueError, match="expected a regular expression string"):
        compile_user_pattern(42, what="x")  # type: ignore[arg-type]
