"""GitHub logins told apart from names: only a login GitHub gave (the API, or a noreply
commit address) may become an ``@mention``; a git author's name never does."""

from __future__ import annotations

import re

# GitHub's commit e-mail addresses: `ID+login@users.noreply.github.com`, and the older
# `login@users.noreply.github.com`; an app's login ends in `[bot]`.
_NOREPLY = re.compile(
    r"(?:[0-9]{1,20}\+)?(?P<login>[A-Za-z0-9][A-Za-z0-9-]{0,38}(?:\[bot\])?)"
    r"@users\.noreply\.github\.com",
    re.IGNORECASE,
)


class Login(str):
    """A GitHub login known to be one: from the API, or from a noreply address. Only a
    `Login` may become an ``@mention``; any other ``str`` is a name, written as it is."""

    __slots__ = ()


def noreply_login(email: str) -> Login | None:
    """The login in a GitHub noreply address (``583231+octocat@users.noreply.github.com``
    or ``octocat@users.noreply.github.com``); ``None`` for any other address."""
    m = _NOREPLY.fullmatch(email.strip())
    return Login(m.group("login")) if m is not None else None
