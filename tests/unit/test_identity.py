"""Whose comments steward trusts its markers on, as the CLI decides it."""

from __future__ import annotations

from steward.forge.identity import default_identity


def _never() -> str:
    raise AssertionError("GET /user must not be needed")


def test_the_login_setting_wins_over_actions_and_the_token() -> None:
    ident = default_identity(_never, {"GITHUB_ACTIONS": "true", "STEWARD_LOGIN": "my-app[bot]"})
    assert ident.login == "my-app[bot]"


def test_actions_means_the_workflow_bot_and_elsewhere_the_tokens_user() -> None:
    assert default_identity(_never, {"GITHUB_ACTIONS": "true"}).login == "github-actions[bot]"
    assert default_identity(lambda: "octocat", {}).login == "octocat"
