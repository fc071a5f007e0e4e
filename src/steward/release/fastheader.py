"""A fast path for the commit headers of large histories.

`steward.conventional.parse_header` is the reference. This gives the same `Header` for the
common, clean subject (no surrounding whitespace, a space after the colon) in one anchored
regular expression, and defers everything else to it; a property test holds the two equal.
"""

from __future__ import annotations

import re

from steward.conventional import Header, parse_header
from steward.text import MAX_TITLE

_CLEAN = re.compile(
    r"(?P<type>[A-Za-z][A-Za-z0-9_-]*)(?:\((?P<scope>[A-Za-z0-9_./$*-]+)\))?(?P<bang>!)?"
    r": (?P<subject>[^\s()][^()\r\n]*)(?: \(#(?P<pr>[0-9]{1,9})\))?"
)


def clean_match(subject: str) -> re.Match[str] | None:
    """The match of a clean subject (groups type, scope, bang, subject, pr), or ``None`` when
    only `parse_header` can decide. A match always equals `parse_header`'s result."""
    if len(subject) > MAX_TITLE:
        return None
    m = _CLEAN.fullmatch(subject)
    if m is None or m.group("subject") != m.group("subject").rstrip():
        return None
    return m


def fast_header(subject: str) -> Header | None:
    """`parse_header(subject)`, faster for clean one-scope subjects without parentheses."""
    m = clean_match(subject)
    if m is not None:
        scope = m.group("scope")
        pr = m.group("pr")
        return Header(
            type=m.group("type").lower(),
            scopes=(scope,) if scope else (),
            breaking=m.group("bang") is not None,
            subject=m.group("subject"),
            pr=int(pr) if pr else None,
        )
    return parse_header(subject)
