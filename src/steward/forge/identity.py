"""Who steward is on GitHub: the account whose comments carry markers steward trusts.

A hidden marker (``<!-- steward:KEY -->``) means "steward already posted this" only on a
comment steward itself wrote; anyone can type the marker into their own comment. The
identity is injected where it is known (the App server passes its bot's login); the CLI's
default is ``github-actions[bot]`` inside GitHub Actions, else the token's own user, read
with one ``GET /user`` the first time a marker actually needs checking, and cached.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping

from steward.domain.api import IssueComment
from steward.errors import GitHubError

log = logging.getLogger(__name__)

ACTIONS_BOT = "github-actions[bot]"


class Identity:
    """Steward's login, given or resolved once on first use.

    ``resolve`` returns the login, or raises `GitHubError` when it cannot be known (e.g. an
    installation token may not read ``GET /user``); then only comments by bot accounts are
    trusted, which no ordinary user can write, and a warning says so.
    """

    def __init__(self, login: str | None = None, *, resolve: Callable[[], str] | None = None):
        if login is None and resolve is None:
            raise ValueError("Identity needs a login or a way to resolve it")
        self._login = login
        self._resolve = resolve
        self._resolved = login is not None

    @property
    def login(self) -> str | None:
        if not self._resolved:
            self._resolved = True
            assert self._resolve is not None
            try:
                self._login = self._resolve()
            except GitHubError as exc:
                log.warning(
                    "cannot tell which account steward comments as (%s); markers count only "
                    "on comments by bot accounts",
                    exc,
                )
                self._login = None
        return self._login

    def wrote(self, comment: IssueComment) -> bool:
        """Whether ``comment`` is steward's own (logins compare case-blind, as GitHub's)."""
        if comment.author is None:
            return False
        login = self.login
        if login is None:
            return comment.author_is_bot
        return comment.author.casefold() == login.casefold()


def default_identity(
    token_login: Callable[[], str], env: Mapping[str, str] | None = None
) -> Identity:
    """The CLI's identity: ``github-actions[bot]`` in Actions, else the token's user."""
    env = os.environ if env is None else env
    if env.get("GITHUB_ACTIONS") == "true":
        return Identity(ACTIONS_BOT)
    return Identity(resolve=token_login)
