"""Conventional Commits parsing (https://www.conventionalcommits.org/en/v1.0.0/)."""

from __future__ import annotations

import pytest

from steward.conventional import Header, is_wip, parse_header, parse_message


@pytest.mark.parametrize(
    ("line", "header"),
    [
        ("feat: add x", Header("feat", (), False, "add x")),
        ("feat(logger): add x", Header("feat", ("logger",), False, "add x")),
        ("fix(a, b)!: both", Header("fix", ("a", "b"), True, "both")),
        ("refactor!: drop", Header("refactor", (), True, "drop")),
        ("FEAT: loud", Header("feat", (), False, "loud")),
        (
            "feat(event_handler): add x (#1234)",
            Header("feat", ("event_handler",), False, "add x", 1234),
        ),
        ("  docs: padded  ", Header("docs", (), False, "padded")),
        ("feat(scope with space): ok", Header("feat", ("scope with space",), False, "ok")),
        ("chore(deps-dev): bump", Header("chore", ("deps-dev",), False, "bump")),
    ],
)
def test_parse_header(line: str, header: Header) -> None:
    assert parse_header(line) == header


@pytest.mark.parametrize(
    "line",
    [
        "",
        "feat",
        "feat:",
        "feat: ",
        "feat:x",
        "feat (scope): space before scope",
        "feat(): empty",
        "feat(,): only commas",
        "feat(a)(b): twice",
        "feat(a: unclosed",
        "1feat: digit first",
        "Merge branch 'main'",
        "feat: (#12)",  # nothing but the squash suffix
        "feat: two\nlines",
    ],
)
def test_non_conforming_headers(line: str) -> None:
    assert parse_header(line) is None


def test_message_footers_and_breaking_notes() -> None:
    body = (
        "Longer explanation.\n\n"
        "BREAKING CHANGE: the config key moved\n"
        "  and the old one is gone\n\n"
        "Refs: #12\n"
        "Co-authored-by: Ann <ann@example.com>\n"
        "Co-authored-by: Bob <bob@example.com>\n"
    )
    msg = parse_message("feat(config): move key", body)
    assert msg.conforming
    assert msg.breaking
    assert msg.breaking_notes == ("the config key moved and the old one is gone",)
    assert msg.co_authors == ("Ann <ann@example.com>", "Bob <bob@example.com>")
    assert msg.notes["Refs"] == "#12"


def test_breaking_note_alone_makes_a_plain_type_breaking() -> None:
    assert parse_message("fix: x", "BREAKING-CHANGE: dash form").breaking
    assert not parse_message("fix: x", "not BREAKING CHANGE: mid-line").breaking
    assert parse_message("fix!: x").breaking


def test_colon_lines_in_the_body_are_not_footers() -> None:
    msg = parse_message("fix: x", "Note: this is prose.\n\nSigned-off-by: A <a@x>")
    assert msg.footers == (("Signed-off-by", "A <a@x>"),)


def test_pr_number_from_squash_and_merge_commits() -> None:
    assert parse_message("fix: x (#42)").pr == 42
    merge = parse_message("Merge pull request #77 from me/branch")
    assert (merge.merge, merge.pr, merge.conforming) == (True, 77, False)
    assert parse_message("Update README (#9)").pr == 9  # non-conforming squash still has its PR


@pytest.mark.parametrize(
    "subject",
    [
        "Merge pull request #12345678901 from me/branch",  # not PR #123456789
        "Merge pull request #123abc from me/branch",  # not PR #123
        "Merge pull request #1234567890 from me/branch",
        "Merge pull request #\uff11\uff12 from me/branch",  # fullwidth digits
    ],
)
def test_a_merge_subject_names_its_pull_request_whole_or_not_at_all(subject: str) -> None:
    """#16: the number in GitHub's merge subject is read whole, never its first digits."""
    assert parse_message(subject).pr is None


def test_a_merge_subject_with_a_whole_number_names_it() -> None:
    assert parse_message("Merge pull request #123456789 from me/branch").pr == 123456789
    assert parse_message("Merge pull request #7\n").pr == 7


def test_reverts() -> None:
    git = parse_message('Revert "feat: add x"', "This reverts commit 0123456789abcdef.")
    assert (git.revert_of, git.reverted_sha) == ("feat: add x", "0123456789abcdef")
    conv = parse_message("revert: feat: add x", "This reverts commit abcdef0.")
    assert (conv.revert_of, conv.reverted_sha) == ("feat: add x", "abcdef0")


def test_non_conforming_message_never_raises() -> None:
    msg = parse_message("just words", "")
    assert (msg.conforming, msg.breaking, msg.pr) == (False, False, None)


@pytest.mark.parametrize(
    ("title", "wip"),
    [
        ("WIP: feat: x", True),
        ("[WIP] feat: x", True),
        ("wip", True),
        ("Draft: x", True),
        ("[draft] x", True),
        ("feat: wip support", False),
        ("wipe: not wip", False),
        ("feat: x", False),
    ],
)
def test_is_wip(title: str, wip: bool) -> None:
    assert is_wip(title) is wip
