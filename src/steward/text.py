"""Handling of untrusted text (PR titles, bodies, comments): data, never code.

Everything that comes from a PR or issue is capped before any regular expression sees it, and
the expressions steward runs over it are linear (no nested quantifiers), so a hostile body
cannot make a policy hang.
"""

from __future__ import annotations

import unicodedata

MAX_TITLE = 1_024
_BREAKS = frozenset({"Cc", "Cf", "Zl", "Zp"})  # controls, format (bidi), line/para separators
MAX_BODY = 65_536


def cap(text: str | None, limit: int) -> str:
    """Return ``text`` (``None`` as empty) cut to ``limit`` characters."""
    if not text:
        return ""
    return text if len(text) <= limit else text[:limit]


def single_line(text: object, limit: int) -> str:
    """Untrusted text (anything not a str: empty) as one line of at most ``limit``
    characters, without control or format characters (a newline, a bidi override): for a
    title shown on a page or in a chart. Only the first ``5 * limit`` characters are read."""
    raw = text if isinstance(text, str) else ""
    flat = "".join(" " if unicodedata.category(c) in _BREAKS else c for c in raw[: limit * 5])
    return " ".join(flat.split())[:limit]
