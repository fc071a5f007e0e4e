"""Issue and pull request numbers in text (PR bodies, commit subjects, ref names): one rule
for every parser that reads them.

A number is read whole or not at all: 1 to 9 ASCII digits (GitHub's numbers fit in them)
ending at a word boundary. ``#12345678901`` is no reference (not issue #123456789) and
``#123abc`` is none either (not issue #123): a parser that truncated would act on an issue
the text never named. Every regular expression that takes a number out of text builds on
`NUMBER`; `number` reads one from a string that must be nothing else.
"""

from __future__ import annotations

import re

NUMBER = r"[0-9]{1,9}\b"
"""A pattern for one issue or pull request number: 1-9 ASCII digits, then a word boundary
(never the head of a longer number or of a word). Put it in a group to read the number."""

LOGIN = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
"""A GitHub login: 1-39 letters, digits or single hyphens, neither first nor last (linear:
each hyphen looks one character ahead). Anchor it, or bound it, where it is used."""

_WHOLE = re.compile(rf"(?:{NUMBER})\Z")


def number(text: str) -> int | None:
    """``text`` as an issue or pull request number (``"12"`` -> 12), or ``None`` when it is
    anything else: empty, 0, over 9 digits, signed, spaced, or not ASCII digits."""
    if not _WHOLE.match(text):
        return None
    value = int(text)
    return value if value > 0 else None
