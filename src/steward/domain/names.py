"""GitHub's naming rules for OWNER/NAME, checked once where a name enters steward.

A repository's full name reaches URL paths (``/repos/{owner}/{repo}/...``); one from a
payload is untrusted. GitHub allows letters, digits and ``-`` in account names (``_`` too for
Enterprise Managed Users) and letters, digits, ``-``, ``_`` and ``.`` in repository names,
never ``.`` or ``..`` alone. Anything else (``../evil``, ``a/b/c``, ``%2F``, spaces) is refused,
so no name can step out of ``/repos/``.
"""

from __future__ import annotations

import re

from steward.errors import PayloadError

_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,99})")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


def is_full_name(value: object) -> bool:
    """Whether ``value`` is a repository's ``OWNER/NAME`` by GitHub's character rules."""
    if not isinstance(value, str) or value.count("/") != 1:
        return False
    owner, name = value.split("/")
    return (
        _OWNER.fullmatch(owner) is not None
        and _NAME.fullmatch(name) is not None
        and name not in {".", ".."}
    )


def check_full_name(value: object, where: str = "repository") -> str:
    """``value`` if it is a valid ``OWNER/NAME``, else a `PayloadError` naming ``where``."""
    if not is_full_name(value):
        shown = repr(value)[:120]
        raise PayloadError(
            f"{where} must be OWNER/NAME (letters, digits, '-', '_', '.'), got {shown}"
        )
    assert isinstance(value, str)
    return value
