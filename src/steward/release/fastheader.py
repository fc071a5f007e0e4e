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


def fast_header(subject: str) -> Header | None:
    """`parse_header(subject)`, faster for clean one-scope subjects without parentheses."""
    if len(subject) <= MAX_TITLE:
        m = _CLEAN.fullmatch(subject)
        if m is not None and m.group("subject") == m.group("subject").rstrip():
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
