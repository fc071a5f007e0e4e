"""Whose comments steward trusts its markers on, as the CLI decides it."""

from __future__ import annotations

import pytest

from steward.domain.logins import Login, noreply_login
from steward.release.notes.draft import PullRequest, change_line, mention
from steward.shell.identity import default_identity


def _never() -> str:
    raise AssertionError("GET /user must not be needed")


def test_the_login_setting_wins_over_actions_and_the_token() -> None:
    ident = default_identity(_never, {"GITHUB_ACTIONS": "true", "STEWARD_LOGIN": "my-app[bot]"})
    assert ident.login == "my-app[bot]"


def test_actions_means_the_workflow_bot_and_elsewhere_the_tokens_user() -> None:
    assert default_identity(_never, {"GITHUB_ACTIONS": "true"}).login == "github-actions[bot]"
    assert default_identity(lambda: "octocat", {}).login == "octocat"


@pytest.mark.parametrize(
    ("email", "login"),
    [
        ("583231+octocat@users.noreply.github.com", "octocat"),
        ("octocat@users.noreply.github.com", "octocat"),
        ("49699333+dependabot[bot]@users.noreply.github.com", "dependabot[bot]"),
        (" 1+Mona-Lisa@Users.NoReply.GitHub.com ", "Mona-Lisa"),
        ("octocat@github.com", None),
        ("octocat@example.com", None),
        ("octocat@users.noreply.github.com.evil.example", None),
        ("x+octocat@users.noreply.github.com", None),
        ("\u0661+octocat@users.noreply.github.com", None),  # an id is ASCII digits
        ("-octocat@users.noreply.github.com", None),
        ("", None),
    ],
)
def test_a_login_comes_from_a_noreply_address_only(email: str, login: str | None) -> None:
    found = noreply_login(email)
    assert found == login
    assert found is None or isinstance(found, Login)


def test_only_a_login_is_mentioned_and_a_name_mentions_nobody() -> None:
    assert mention(Login("octocat")) == "@octocat"
    assert mention("octocat") == "octocat"  # a git author name, not the account
    assert mention("Ana Lima") == "Ana Lima"
    assert mention("@octocat") == "octocat"
    assert mention("Ana (@ana) Lima") == "Ana (ana) Lima"
    assert mention("ana@example.com") == "ana@example.com"  # an address mentions nobody
    template = "* $TITLE by @$AUTHOR ($AUTHOR)"
    assert change_line(PullRequest(1, "t", "@mona"), template) == "* t by mona (mona)"
    assert change_line(PullRequest(1, "t", Login("mona")), template) == "* t by @mona (mona)"


@pytest.mark.parametrize("login", ["mona-", "mo--na", "-mona", "m" * 40])
def test_a_login_github_would_not_issue_is_not_mentioned(login: str) -> None:
    assert not mention(Login(login)).startswith("@")


def test_a_bot_login_is_mentioned() -> None:
    assert mention(Login("dependabot[bot]")) == "@dependabot[bot]"
