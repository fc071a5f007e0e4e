"""Issue and pull request numbers in text are read whole or not at all (#16): never the first
nine digits of a longer number, never the digits in front of a word."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.domain.events import queued_pull
from steward.domain.refs import number
from steward.policies.common import related_issues

REPO = "Codertocat/Hello-World"
SHA = "929f8209d40f77f4abc622a499c93a83babdbe64"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("123456789", 123456789),
        ("007", 7),
        ("1234567890", None),
        ("12345678901", None),
        ("0", None),
        ("", None),
        ("123abc", None),
        ("12 ", None),
        (" 12", None),
        ("-12", None),
        ("+12", None),
        ("\uff11\uff12", None),  # fullwidth digits: int() would take them
        ("\u0661\u0662", None),  # Arabic-Indic digits: so would it
        ("12\n", None),
    ],
)
def test_a_number_is_nine_ascii_digits_at_most_and_nothing_else(
    text: str, expected: int | None
) -> None:
    assert number(text) == expected


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (f"refs/heads/gh-readonly-queue/main/pr-104-{SHA}", 104),
        (f"refs/heads/gh-readonly-queue/main/pr-12345678901-{SHA}", None),
        (f"refs/heads/gh-readonly-queue/main/pr-\uff11\uff12-{SHA}", None),
    ],
)
def test_a_merge_group_ref_names_its_pull_request_whole(ref: str, expected: int | None) -> None:
    assert queued_pull(ref) == expected


# Bodies built from the pieces a reference is made of, so the parser meets long numbers,
# numbers glued to words and non-ASCII digits where references are read.
PIECES = st.sampled_from(
    [
        "Fixes #",
        "closes ",
        "**Issue number:** ",
        "Issue number: #",
        f"resolves {REPO}#",
        f"Resolves https://github.com/{REPO}/issues/",
        "#",
        "abc",
        "_",
        "é",
        "\u0661",
        " ",
        "\n",
        ".",
        "/",
    ]
)
DIGITS = st.from_regex(r"[0-9]{1,12}", fullmatch=True)
BODIES = st.lists(st.one_of(PIECES, DIGITS), max_size=12).map("".join)
# A run of ASCII digits standing alone: no word character on either side.
_WHOLE_DIGITS = re.compile(r"(?<!\w)([0-9]+)(?!\w)")


@given(BODIES)
def test_every_related_issue_is_a_whole_number_of_the_body(body: str) -> None:
    whole = {int(d) for d in _WHOLE_DIGITS.findall(body) if len(d.lstrip("0")) <= 9}
    for found in related_issues(body, REPO):
        assert 0 < found <= 999_999_999
        assert found in whole, (body, found)
