"""Who steward is on GitHub: the account whose comments carry markers steward trusts.

A hidden marker (``<!-- steward:KEY -->``) means "steward already posted this" only on a
comment steward itself wrote; anyone can type the marker into their own comment. The
identity is injected where it is known (the App server passes its bot's login); the CLI's
default is ``github-actions[bot]`` inside GitHub Actions, else the token's own user, read
with one ``GET /user`` the first time a marker actually needs checking, and cached.

The same identity tells the sweep's fair clock who acted on an item: a person, or steward
itself, or another bot (`is_person`).

Who someone is on GitHub is never guessed from free text: a `Login` is a login GitHub gave
(its API, or a ``users.noreply.github.com`` address, `noreply_login`); a git author name
that happens to look like a login stays a name.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping

from steward.domain.api import IssueComment
from steward.domain.logins import Login, noreply_login
from steward.errors import GitHubError
from steward.plan import MARKER_PREFIX

log = logging.getLogger(__name__)

__all__ = ["ACTIONS_BOT", "Identity", "Login", "comment_markers", "noreply_login"]

ACTIONS_BOT = "github-actions[bot]"


def comment_markers(body: str) -> set[str]:
    """The steward markers a comment body carries."""
    return {part.split(" -->", 1)[0] for part in body.split(MARKER_PREFIX)[1:]}


def is_bot(login: str, account_type: str | None = None) -> bool:
    """A bot account: GitHub's ``Bot`` type, or a login GitHub gives only apps (``[bot]``)."""
    return account_type == "Bot" or login.casefold().endswith("[bot]")


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

    def is_self(self, login: str | None) -> bool:
        """Whether ``login`` is steward's own account (``False`` while that is unknown)."""
        own = self.login
        return login is not None and own is not None and login.casefold() == own.casefold()

    def is_person(self, login: str | None, account_type: str | None = None) -> bool:
        """Whether an actor is a person: neither steward's own account nor a bot. An actor
        GitHub no longer knows (a deleted account: no login) is not counted."""
        if not login:
            return False
        return not is_bot(login, account_type) and not self.is_self(login)


def default_identity(
    token_login: Callable[[], str], env: Mapping[str, str] | None = None
) -> Identity:
    """The CLI's identity: ``STEWARD_LOGIN`` when set (a personal or App token in Actions
    posts as that account, not as the workflow's bot), else ``github-actions[bot]`` in
    Actions, else the token's user."""
    env = os.environ if env is None else env
    login = (env.get("STEWARD_LOGIN") or "").strip()
    if login:
        return Identity(login)
    if env.get("GITHUB_ACTIONS") == "true":
        return Identity(ACTIONS_BOT)
    return Identity(resolve=token_login)


def identity_for(given: Identity | str | None, token_login: Callable[[], str]) -> Identity:
    """``given`` as an `Identity` (a login becomes one), else the CLI's (`default_identity`):
    the App server passes its bot's login, the CLI nothing."""
    if isinstance(given, str):
        return Identity(given)
    return given or default_identity(token_login)
