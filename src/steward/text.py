"""Handling of untrusted text (PR titles, bodies, comments): data, never code.

Everything that comes from a PR or issue is capped before any regular expression sees it, and
the expressions steward runs over it are linear (no nested quantifiers), so a hostile body
cannot make a policy hang.
"""

from __future__ import annotations

MAX_TITLE = 1_024
MAX_BODY = 65_536


def cap(text: str | None, limit: int) -> str:
    """Return ``text`` (``None`` as empty) cut to ``limit`` characters."""
    if not text:
        return ""
    return text if len(text) <= limit else text[:limit]
